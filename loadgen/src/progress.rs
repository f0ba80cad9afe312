//! A live progress bar (indicatif) with MB/s and msgs/s, fed from shared counters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::clock;
use crate::produce::outcome::{LiveCounters, Window};

const TICK: Duration = Duration::from_millis(250);

pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start(label: String, window: Window, live: Arc<LiveCounters>, quiet: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = thread::Builder::new()
            .name("progress".into())
            .spawn(move || draw(label, window, live, quiet, stop2))
            .ok();
        Progress { stop, thread }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            // A panic in the drawing thread must not take the run down.
            let _drawing_result = t.join();
        }
    }
}

fn draw(
    label: String,
    window: Window,
    live: Arc<LiveCounters>,
    quiet: bool,
    stop: Arc<AtomicBool>,
) {
    let total_ms = (window.end_us - window.start_us) / 1000;
    let bar = ProgressBar::new(total_ms.max(1));
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style =
        ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label);
    let mut last = (clock::now_us(), 0u64, 0u64, 0u64, 0u64);
    while !stop.load(Ordering::Acquire) {
        thread::sleep(TICK);
        let now = clock::now_us();
        let pm = live.produced_msgs.load(Ordering::Relaxed);
        let pb = live.produced_bytes.load(Ordering::Relaxed);
        let cm = live.consumed_msgs.load(Ordering::Relaxed);
        let cb = live.consumed_bytes.load(Ordering::Relaxed);
        let dt = (now - last.0).max(1) as f64 / 1e6;
        let phase = if now < window.warm_end_us {
            "warm-up"
        } else {
            "measure"
        };
        let mut msg = format!(
            "{phase} | produce {:>8.1} MB/s {:>10.0} msg/s",
            (pb - last.2) as f64 / dt / 1e6,
            (pm - last.1) as f64 / dt
        );
        if cm > 0 {
            msg.push_str(&format!(
                " | consume {:>8.1} MB/s {:>10.0} msg/s",
                (cb - last.4) as f64 / dt / 1e6,
                (cm - last.3) as f64 / dt
            ));
        }
        bar.set_message(msg);
        bar.set_position(((now.saturating_sub(window.start_us)) / 1000).min(total_ms));
        last = (now, pm, pb, cm, cb);
    }
    bar.finish_and_clear();
}
