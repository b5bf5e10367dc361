//! Progress on stderr while a Plan runs: an indicatif bar per lane on a terminal, plain log
//! lines otherwise (CI, pipes). Results go to stdout separately.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    last_plain_update: Mutex<HashMap<String, Instant>>,
    quiet: bool,
}

impl Progress {
    /// Bars when stderr is a terminal and not in CI; plain lines otherwise; nothing when quiet.
    pub fn new(quiet: bool) -> Self {
        let interactive = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bars = interactive.then(|| (MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), Mutex::new(HashMap::new())));
        Progress { bars, last_plain_update: Mutex::new(HashMap::new()), quiet }
    }

    pub fn lane(&self, lane: &str, total: usize) {
        if let Some((multi, bars)) = &self.bars {
            let bar = multi.add(ProgressBar::new(total as u64));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>14} [{bar:20}] {pos:>3}/{len:3} {elapsed:>4} {wide_msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(lane.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bars.lock().expect("lock").insert(lane.to_string(), bar);
        }
    }

    pub fn step(&self, lane: &str, text: &str) {
        if let Some((_, bars)) = &self.bars
            && let Some(bar) = bars.lock().expect("lock").get(lane)
        {
            bar.set_message(text.to_string());
        }
    }

    /// A wait's intermediate state; in plain mode printed at most every 15 s per lane.
    pub fn waiting(&self, lane: &str, text: &str) {
        if self.bars.is_some() {
            self.step(lane, text);
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.last_plain_update.lock().expect("lock");
        let now = Instant::now();
        let due = last.get(lane).is_none_or(|t| now.duration_since(*t) >= Duration::from_secs(15));
        if due {
            last.insert(lane.to_string(), now);
            eprintln!("[{lane}] waiting: {text}");
        }
    }

    pub fn done(&self, lane: &str, line: &str) {
        match &self.bars {
            Some((multi, bars)) => {
                if let Some(bar) = bars.lock().expect("lock").get(lane) {
                    bar.inc(1);
                }
                let _ = multi.println(format!("[{lane}] {line}"));
            }
            None if !self.quiet => eprintln!("[{lane}] {line}"),
            None => {}
        }
    }

    /// A lane ran all its steps (or stopped): its bar shows the final count and freezes its time.
    pub fn lane_done(&self, lane: &str, outcome: &str) {
        if let Some((_, bars)) = &self.bars
            && let Some(bar) = bars.lock().expect("lock").get(lane)
        {
            bar.finish_with_message(outcome.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some((_, bars)) = &self.bars {
            for bar in bars.lock().expect("lock").values() {
                bar.finish_and_clear();
            }
        }
    }
}
