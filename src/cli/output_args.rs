//! The `-o` flag, defined once for the commands that print a report and once for those that show
//! or apply the Plan.

use crate::plan::show::PlanFormat;
use anyhow::Result;
use clap::{Args, ValueEnum};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// For a person: tables and one-line summaries.
    #[default]
    Table,
    /// The whole report as JSON (stable field names).
    Json,
}

/// `-o table|json`.
#[derive(Debug, Clone, Copy, Args)]
pub struct ReportOutput {
    #[arg(long = "output", short = 'o', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

impl ReportOutput {
    pub fn json(self) -> bool {
        self.format == ReportFormat::Json
    }

    /// Print `report` as JSON, or as `table` renders it for a person.
    pub fn print<T: Serialize>(self, report: &T, table: impl FnOnce(&T) -> String) -> Result<()> {
        match self.format {
            ReportFormat::Json => crate::output::stdout_json(report),
            ReportFormat::Table => crate::output::stdout(table(report)),
        }
    }
}

/// `-o plan|yaml|json`.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanOutput {
    /// With --dry-run (and for render) the Plan as a step list, YAML or JSON; otherwise the run
    /// summary (plan = progress and a table, json = the summary as JSON).
    #[arg(long = "output", short = 'o', value_enum, default_value_t = PlanFormat::Plan)]
    pub format: PlanFormat,
}

/// How a command that applies the Plan shows it instead: `--dry-run`, `-o`, `--show-secrets`.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanFlags {
    /// Print the Plan instead of applying it (no cluster is contacted).
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub output: PlanOutput,

    /// Print Secret values in --dry-run output instead of <redacted>.
    #[arg(long)]
    pub show_secrets: bool,
}
