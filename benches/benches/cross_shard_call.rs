//! Cross-shard call round trips, paired: the broker's mesh (request over a shared channel,
//! reply into a reusable slot: no lock, no allocation per call) against the previous design
//! (request over a shared channel carrying a fresh `flume::bounded(1)` reply channel per call,
//! whose mutex both shard threads touch). Two pinned executors, CPU 0 calls and CPU 1 answers;
//! CALLERS tasks keep calls in flight. Rounds alternate the two designs so drift hits both.
//!
//!   cargo bench -p sluice-benches --bench cross_shard_call -- [ROUNDS]
//!
//! Prints calls/s per round and the median ratio mesh / flume-per-call.

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::channels::shared_channel;
use glommio::{LocalExecutorBuilder, Placement};
use sluice_server::shard::mesh::{new_meshes, Handler};

const CALLS_PER_CALLER: u64 = 20_000;
/// Calling tasks keeping calls in flight (throughput); the latency rounds use one.
const CALLERS_THROUGHPUT: u64 = 32;
const ROUNDS_DEFAULT: usize = 5;
const CHANNEL_CAPACITY: usize = 1024;

struct Echo;

impl Handler<u64, u64> for Echo {
    fn handle(self: Rc<Self>, request: u64) -> impl std::future::Future<Output = u64> + 'static {
        async move { request + 1 }
    }

    fn in_order(_request: &u64) -> bool {
        true
    }
}

/// Runs `serve` on CPU 1 and `client` on CPU 0; returns the client's figure once it is done,
/// then stops the server.
fn run_pair<S, SF, C, CF>(serve: S, client: C) -> f64
where
    S: FnOnce() -> SF + Send + 'static,
    SF: Future<Output = ()> + 'static,
    C: FnOnce() -> CF + Send + 'static,
    CF: Future<Output = f64> + 'static,
{
    let done = Arc::new(AtomicBool::new(false));
    let server_done = done.clone();
    let server = LocalExecutorBuilder::new(Placement::Fixed(1))
        .spawn(move || async move {
            glommio::spawn_local(serve()).detach();
            // Shutdown only, not a measurement: poll the flag the client side sets.
            while !server_done.load(Ordering::Acquire) {
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
        })
        .expect("server executor");
    let client = LocalExecutorBuilder::new(Placement::Fixed(0))
        .spawn(client)
        .expect("client executor");
    let rate = client.join().expect("client ran");
    done.store(true, Ordering::Release);
    server.join().expect("server ran");
    rate
}

/// `callers` tasks each make `CALLS_PER_CALLER` calls one after another; calls per second.
async fn timed_callers<F, Fut>(callers: u64, call: F) -> f64
where
    F: Fn(u64) -> Fut + Clone + 'static,
    Fut: Future<Output = u64>,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let call = call.clone();
            glommio::spawn_local(async move {
                for i in 0..CALLS_PER_CALLER {
                    assert_eq!(call(i).await, i + 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    (callers * CALLS_PER_CALLER) as f64 / started.elapsed().as_secs_f64()
}

/// Calls per second through the mesh.
fn mesh_round(callers: u64) -> f64 {
    let mut ends = new_meshes::<u64, u64>(2);
    let server_ends = ends.pop().expect("two ends");
    let client_ends = ends.pop().expect("two ends");
    let serve = move || async move {
        let mesh = server_ends.connect().await;
        mesh.serve(Rc::new(Echo));
    };
    let client = move || async move {
        let mesh = client_ends.connect().await;
        timed_callers(callers, move |i| {
            let mesh = mesh.clone();
            async move { mesh.call(1, i).await.expect("server answers") }
        })
        .await
    };
    run_pair(serve, client)
}

type OldRequest = (u64, flume::Sender<u64>);

/// Calls per second with a fresh flume reply channel per call (the previous design).
fn flume_round(callers: u64) -> f64 {
    let (to_server, from_client) = shared_channel::new_bounded::<OldRequest>(CHANNEL_CAPACITY);
    let serve = move || async move {
        let receiver = from_client.connect().await;
        while let Some((request, reply)) = receiver.recv().await {
            reply.send(request + 1).ok();
        }
    };
    let client = move || async move {
        let sender = Rc::new(to_server.connect().await);
        timed_callers(callers, move |i| {
            let sender = sender.clone();
            async move {
                let (reply, answer) = flume::bounded(1);
                if sender.send((i, reply)).await.is_err() {
                    panic!("server gone");
                }
                answer.recv_async().await.expect("server answers")
            }
        })
        .await
    };
    run_pair(serve, client)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() {
    let rounds = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(ROUNDS_DEFAULT);
    for callers in [CALLERS_THROUGHPUT, 1] {
        let mut ratios = Vec::new();
        println!("{callers} caller(s)\nround  mesh calls/s  flume-per-call calls/s  ratio");
        for round in 0..rounds {
            let (mesh, flume) = if round % 2 == 0 {
                let mesh = mesh_round(callers);
                (mesh, flume_round(callers))
            } else {
                let flume = flume_round(callers);
                (mesh_round(callers), flume)
            };
            let ratio = mesh / flume;
            ratios.push(ratio);
            println!("{round:>5}  {mesh:>12.0}  {flume:>22.0}  {ratio:.2}");
        }
        println!(
            "median ratio mesh / flume-per-call, {callers} caller(s): {:.2}",
            median(ratios)
        );
    }
}
