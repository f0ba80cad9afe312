# Shared by the benchmark scripts in this folder, which source it after they `cd` to the
# repository root: a free port, a wait for a port to open, and the clean-up of the brokers a
# script starts (on exit too, so no broker outlives its script).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # port: waits until it accepts a connection (at most 30 s)
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "port $1 never opened" >&2
  return 1
}

PID=     # the broker of a one-broker script
PIDS=()  # the brokers of a script that starts several
DATA=    # their data directory, removed with them
stop() {
  local pid
  for pid in $PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in $PID "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PID=
  PIDS=()
  if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
  DATA=
}
trap stop EXIT
# glommio locks its io memory; root with CAP_IPC_LOCK is not bound by the limit anyway.
ulimit -l unlimited 2>/dev/null || true
