//! How a DR operation runs and reports its steps: each step timed (the RTO is their sum), listed
//! instead of run with `--dry-run`, skipped when an interrupted run already did it, and the
//! confirmation a person gives before anything changes.

use crate::error::UsageError;
use anyhow::Result;
use serde::Serialize;
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: String,
    /// done / done earlier / would run / skipped / failed / warning
    pub outcome: String,
    pub seconds: f64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

pub struct Runbook {
    pub operation: String,
    pub dry_run: bool,
    pub steps: Vec<StepReport>,
    started: Instant,
}

fn rounded(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

impl Runbook {
    pub fn new(operation: &str, dry_run: bool) -> Runbook {
        Runbook { operation: operation.into(), dry_run, steps: Vec::new(), started: Instant::now() }
    }

    fn record(&mut self, step: &str, outcome: &str, seconds: f64, detail: String) {
        let shown = if detail.is_empty() { String::new() } else { format!(": {detail}") };
        eprintln!("[{}] {step}: {outcome} ({seconds:.1}s){shown}", self.operation);
        self.steps.push(StepReport { step: step.into(), outcome: outcome.into(), seconds: rounded(seconds), detail });
    }

    /// Run `step` (its future yields a value and a one-line summary); with `--dry-run` only
    /// list it with `plan`, the description of what it would do.
    pub async fn step<T, F>(&mut self, step: &str, plan: &str, f: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<(T, String)>>,
    {
        if self.dry_run {
            self.record(step, "would run", 0.0, plan.to_string());
            return Ok(None);
        }
        let started = Instant::now();
        match f.await {
            Ok((value, summary)) => {
                self.record(step, "done", started.elapsed().as_secs_f64(), summary);
                Ok(Some(value))
            }
            Err(e) => {
                self.record(step, "failed", started.elapsed().as_secs_f64(), crate::error::report(&e));
                Err(e)
            }
        }
    }

    /// Run a step whose failure must not fail the operation (it already changed what matters):
    /// recorded as a warning with `fix`, the command to run again.
    pub async fn step_or_warn<F>(&mut self, step: &str, plan: &str, fix: &str, f: F)
    where
        F: Future<Output = Result<String>>,
    {
        if self.dry_run {
            self.record(step, "would run", 0.0, plan.to_string());
            return;
        }
        let started = Instant::now();
        match f.await {
            Ok(summary) => self.record(step, "done", started.elapsed().as_secs_f64(), summary),
            Err(e) => {
                let detail = format!("{}; run `{fix}` once it can succeed", crate::error::report(&e));
                self.record(step, "warning", started.elapsed().as_secs_f64(), detail)
            }
        }
    }

    /// A step an interrupted run of the same operation finished already.
    pub fn done_earlier(&mut self, step: &str) {
        self.record(step, "done earlier", 0.0, String::new());
    }

    pub fn skipped(&mut self, step: &str, why: &str) {
        self.record(step, "skipped", 0.0, why.to_string());
    }

    /// Seconds since the operation started: with every step done, its RTO.
    pub fn seconds(&self) -> f64 {
        rounded(self.started.elapsed().as_secs_f64())
    }
}

/// Ask before changing anything, unless `--yes`. Without a terminal to ask on (CI, pipes) and
/// without `--yes`, refuse: a DR operation never proceeds on a default answer.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(UsageError::new(format!("{question} needs a confirmation, and there is no terminal to ask on"))
            .with_hint("pass --yes to confirm non-interactively (CI), or --dry-run to see the steps")
            .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(UsageError::new(format!("{question}: not confirmed; nothing was changed")).into())
    }
}
