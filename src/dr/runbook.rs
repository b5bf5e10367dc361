//! How a DR operation runs and reports its steps: each step timed (the RTO is their sum), listed
//! instead of run with `--dry-run`, skipped when an interrupted run already did it, and the
//! confirmation a person gives before anything changes. A journaled runbook keeps the finished
//! steps in a site's DR record, so an interrupted operation continues where it stopped.

use super::{Dr, sites};
use crate::error::UsageError;
use crate::record::Journal;
use crate::settings::SiteId;
use anyhow::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

/// A step of a DR operation: what the report lists and the journal keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Quiesce,
    Drain,
    StopMirror,
    Rights,
    PromotionPoint,
    MoveGroups,
    FlipRoles,
    FenceA,
    ExportStranded,
    RecreateTopics,
    CreateMirrorStopped,
    SetStartOffsets,
    StartMirror,
    RemoveReverseMirror,
    RestartForwardMirror,
    SyncUsers,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Quiesce => "quiesce",
            Step::Drain => "drain",
            Step::StopMirror => "stop-mirror",
            Step::Rights => "rights",
            Step::PromotionPoint => "promotion-point",
            Step::MoveGroups => "move-groups",
            Step::FlipRoles => "flip-roles",
            Step::FenceA => "fence-a",
            Step::ExportStranded => "export-stranded",
            Step::RecreateTopics => "recreate-topics",
            Step::CreateMirrorStopped => "create-mirror-stopped",
            Step::SetStartOffsets => "set-start-offsets",
            Step::StartMirror => "start-mirror",
            Step::RemoveReverseMirror => "remove-reverse-mirror",
            Step::RestartForwardMirror => "restart-forward-mirror",
            Step::SyncUsers => "sync-users",
        }
    }

    /// Where the journal keeps the value a step produced (names kept from earlier journals, so
    /// an operation interrupted under an older amqdr still resumes).
    fn value_key(self) -> &'static str {
        match self {
            Step::PromotionPoint => "promotion",
            Step::MoveGroups => "groups",
            other => other.name(),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What became of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "done")]
    Done,
    /// An interrupted run of the same operation finished it already.
    #[serde(rename = "done earlier")]
    DoneEarlier,
    /// `--dry-run`: listed, not run.
    #[serde(rename = "would run")]
    WouldRun,
    #[serde(rename = "skipped")]
    Skipped,
    #[serde(rename = "failed")]
    Failed,
    /// Failed, but the operation stands (the step follows what mattered); the detail says what
    /// to run again.
    #[serde(rename = "warning")]
    Warning,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Done => "done",
            Outcome::DoneEarlier => "done earlier",
            Outcome::WouldRun => "would run",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: Step,
    pub outcome: Outcome,
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

    fn record(&mut self, step: Step, outcome: Outcome, seconds: f64, detail: String) {
        let shown = if detail.is_empty() { String::new() } else { format!(": {detail}") };
        eprintln!("[{}] {step}: {outcome} ({seconds:.1}s){shown}", self.operation);
        self.steps.push(StepReport { step, outcome, seconds: rounded(seconds), detail });
    }

    /// Run `step` (its future yields a value and a one-line summary); with `--dry-run` only
    /// list it with `plan`, the description of what it would do.
    pub async fn step<T, F>(&mut self, step: Step, plan: &str, f: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<(T, String)>>,
    {
        if self.dry_run {
            self.record(step, Outcome::WouldRun, 0.0, plan.to_string());
            return Ok(None);
        }
        let started = Instant::now();
        match f.await {
            Ok((value, summary)) => {
                self.record(step, Outcome::Done, started.elapsed().as_secs_f64(), summary);
                Ok(Some(value))
            }
            Err(e) => {
                self.record(step, Outcome::Failed, started.elapsed().as_secs_f64(), crate::error::report(&e));
                Err(e)
            }
        }
    }

    /// Run a step whose failure must not fail the operation (it already changed what matters):
    /// recorded as a warning with `fix`, the command to run again.
    pub async fn step_or_warn<F>(&mut self, step: Step, plan: &str, fix: &str, f: F)
    where
        F: Future<Output = Result<String>>,
    {
        if self.dry_run {
            self.record(step, Outcome::WouldRun, 0.0, plan.to_string());
            return;
        }
        let started = Instant::now();
        match f.await {
            Ok(summary) => self.record(step, Outcome::Done, started.elapsed().as_secs_f64(), summary),
            Err(e) => {
                let detail = format!("{}; run `{fix}` once it can succeed", crate::error::report(&e));
                self.record(step, Outcome::Warning, started.elapsed().as_secs_f64(), detail)
            }
        }
    }

    /// A step an interrupted run of the same operation finished already.
    pub fn done_earlier(&mut self, step: Step) {
        self.record(step, Outcome::DoneEarlier, 0.0, String::new());
    }

    pub fn skipped(&mut self, step: Step, why: &str) {
        self.record(step, Outcome::Skipped, 0.0, why.to_string());
    }

    /// Seconds since the operation started: with every step done, its RTO.
    pub fn seconds(&self) -> f64 {
        rounded(self.started.elapsed().as_secs_f64())
    }
}

/// A runbook whose finished steps are journaled in one site's DR record, so an interrupted run
/// of the same operation skips them and gets back the values they produced.
pub struct Journaled<'a> {
    pub book: &'a mut Runbook,
    pub journal: &'a mut Journal,
    dr: &'a Dr,
    /// The site whose record keeps the journal (the one being promoted).
    site: SiteId,
}

impl<'a> Journaled<'a> {
    pub fn new(dr: &'a Dr, site: SiteId, book: &'a mut Runbook, journal: &'a mut Journal) -> Journaled<'a> {
        Journaled { book, journal, dr, site }
    }

    pub fn is_done(&self, step: Step) -> bool {
        self.journal.is_done(step.name())
    }

    /// The value `step` produced, from this run or an interrupted one.
    pub fn value<T: DeserializeOwned>(&self, step: Step) -> Option<T> {
        self.journal.values.get(step.value_key()).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Run `step` unless the journal has it (then its journaled value comes back); once done, the
    /// step and its value (unless `()`) are journaled before the next step starts.
    pub async fn run<T, F>(&mut self, step: Step, plan: &str, f: F) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<(T, String)>>,
    {
        if self.is_done(step) {
            self.book.done_earlier(step);
            return Ok(self.value(step));
        }
        let Some(value) = self.book.step(step, plan, f).await? else { return Ok(None) };
        let json = serde_json::to_value(&value)?;
        if !json.is_null() {
            self.journal.values.insert(step.value_key().into(), json);
        }
        self.journal.done.push(step.name().into());
        self.save().await?;
        Ok(Some(value))
    }

    pub async fn save(&self) -> Result<()> {
        save_journal(self.dr, self.site, self.journal).await
    }
}

/// Write `journal` into the site's record (its role unchanged).
pub async fn save_journal(dr: &Dr, site: SiteId, journal: &Journal) -> Result<()> {
    let site = dr.sites.get(site);
    let (mut state, rv) = sites::reread(site, dr.settings()).await?;
    state.journal = Some(journal.clone());
    sites::write_record(site, dr.settings(), &state, rv.as_deref()).await
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

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Step; 16] = [
        Step::Quiesce,
        Step::Drain,
        Step::StopMirror,
        Step::Rights,
        Step::PromotionPoint,
        Step::MoveGroups,
        Step::FlipRoles,
        Step::FenceA,
        Step::ExportStranded,
        Step::RecreateTopics,
        Step::CreateMirrorStopped,
        Step::SetStartOffsets,
        Step::StartMirror,
        Step::RemoveReverseMirror,
        Step::RestartForwardMirror,
        Step::SyncUsers,
    ];

    #[test]
    fn reports_and_journals_name_steps_alike() {
        for step in ALL {
            assert_eq!(serde_json::to_value(step).unwrap(), step.name(), "{step:?}");
        }
        let names: std::collections::BTreeSet<&str> = ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), ALL.len(), "step names are distinct");
        // Journals written before the steps were typed keep resuming.
        assert_eq!(Step::PromotionPoint.value_key(), "promotion");
        assert_eq!(Step::MoveGroups.value_key(), "groups");
    }

    #[test]
    fn outcomes_read_as_in_the_json_report() {
        for (outcome, text) in [
            (Outcome::Done, "done"),
            (Outcome::DoneEarlier, "done earlier"),
            (Outcome::WouldRun, "would run"),
            (Outcome::Skipped, "skipped"),
            (Outcome::Failed, "failed"),
            (Outcome::Warning, "warning"),
        ] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), text);
            assert_eq!(outcome.to_string(), text);
        }
    }
}
