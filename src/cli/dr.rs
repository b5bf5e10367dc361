//! `amqdr status`, `amqdr failover`, `amqdr failback prepare|sync|switch`: arguments only; the
//! operations live in `crate::dr`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use super::output_args::ReportOutput;
use crate::dr::failback::{self, FailbackOptions, Stranded};
use crate::dr::failover::{self, FailoverOptions};
use crate::dr::sites::SiteInputs;
use crate::dr::{Dr, report, status};
use crate::kafka::connection::ConnectionInputs;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Kafka connection (default: read from each site's cluster)")]
pub struct DrConnectionArgs {
    /// Site a's Kafka bootstrap (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_A_BOOTSTRAP", global = true)]
    pub site_a_bootstrap: Option<String>,

    /// Site b's Kafka bootstrap (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_B_BOOTSTRAP", global = true)]
    pub site_b_bootstrap: Option<String>,

    /// PEM CA certificate of the (shared) cluster CA.
    #[arg(long, value_name = "FILE", env = "AMQDR_CA_FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// SCRAM-SHA-512 user DR operations act as (default: the settings' dr.user).
    #[arg(long, env = "AMQDR_DR_USER", global = true)]
    pub user: Option<String>,

    /// File holding that user's password (default: its Secret in each site).
    #[arg(long, value_name = "FILE", env = "AMQDR_DR_PASSWORD_FILE", global = true)]
    pub dr_password_file: Option<PathBuf>,
}

impl DrConnectionArgs {
    fn inputs(&self) -> SiteInputs {
        let one = |bootstrap: &Option<String>| ConnectionInputs {
            bootstrap: bootstrap.clone(),
            ca_file: self.ca_file.clone(),
            user: self.user.clone(),
            password_file: self.dr_password_file.clone(),
            client_config: None,
        };
        SiteInputs { a: one(&self.site_a_bootstrap), b: one(&self.site_b_bootstrap) }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub connection: DrConnectionArgs,

    /// The object inventory instead: every object of the Plan, present or missing, ready or not.
    #[arg(long)]
    pub objects: bool,

    /// Degraded (exit 3) when the mirror's lag is above this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub max_lag_seconds: Option<f64>,

    /// Limit for connecting to each site.
    #[arg(long, value_parser = humantime_duration, default_value = "20s")]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: ReportOutput,
}

#[derive(Debug, Args, Clone)]
pub struct SwitchArgs {
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print the steps and the current lag; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Production counts as quiet after this long without new records or active consumer groups.
    #[arg(long, value_parser = humantime_duration, default_value = "30s")]
    pub quiet_period: Duration,

    /// Safety margin subtracted from timestamps when offsets are found by time (MirrorMaker 1).
    #[arg(long, value_parser = humantime_duration, default_value = "30s")]
    pub offset_margin: Duration,

    /// Limit for each wait (quiet, drained, mirror stopped, ...).
    #[arg(long, value_parser = humantime_duration, default_value = "10m")]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: ReportOutput,
}

#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub connection: DrConnectionArgs,

    #[command(flatten)]
    pub switch: SwitchArgs,

    /// Production is unreachable: promote DR without draining it.
    #[arg(long)]
    pub unplanned: bool,

    /// With --unplanned: proceed although production still answers.
    #[arg(long, requires = "unplanned")]
    pub force: bool,

    /// With --unplanned: proceed although records may be lost (the last observed lag was not 0).
    #[arg(long, requires = "unplanned")]
    pub accept_data_loss: bool,
}

#[derive(Debug, Subcommand)]
pub enum FailbackCommand {
    /// Production reachable again: fence it, report and resolve records that never reached DR.
    Prepare(FailbackArgs),
    /// Start the reverse mirror b -> a exactly after the promotion point.
    Sync(FailbackArgs),
    /// Planned switch back: quiet DR, drain into production, move groups, a primary, b standby,
    /// then the mirror a -> b again from production's end.
    Switch(FailbackArgs),
}

#[derive(Debug, Args)]
pub struct FailbackArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub connection: DrConnectionArgs,

    #[command(flatten)]
    pub switch: SwitchArgs,

    /// What to do with records on production that never reached DR (prepare).
    #[arg(long, value_enum)]
    pub stranded: Option<Stranded>,

    /// The JSON Lines file for --stranded export (must not exist).
    #[arg(long, value_name = "FILE")]
    pub to: Option<PathBuf>,
}

pub(super) async fn dr(settings: &SettingsArgs, connection: &DrConnectionArgs, timeout: Duration) -> Result<Dr> {
    let (source, _) = crate::deploy::load_settings(&settings.sources()?)?;
    Dr::new(&source.settings, &connection.inputs(), timeout).await
}

pub fn run_status(args: StatusArgs) -> Result<ExitCode> {
    if args.objects {
        let sources = args.settings.sources()?;
        let healthy = runtime()?.block_on(crate::deploy::status(&sources, args.output.json()))?;
        return Ok(exit_status(healthy));
    }
    runtime()?.block_on(async {
        let dr = dr(&args.settings, &args.connection, args.timeout).await?;
        let s = status::status(&dr, args.max_lag_seconds).await?;
        args.output.print(&s, status::table)?;
        Ok(exit_status(s.healthy))
    })
}

/// A report that was printed whole: exit 3 when it found a problem.
fn exit_status(healthy: bool) -> ExitCode {
    if healthy { ExitCode::SUCCESS } else { ExitCode::from(crate::error::exit::CHECK_FAILED) }
}

fn switch_options(s: &SwitchArgs) -> FailoverOptions {
    FailoverOptions {
        unplanned: false,
        force: false,
        accept_data_loss: false,
        yes: s.yes,
        dry_run: s.dry_run,
        quiet_period: s.quiet_period,
        offset_margin: s.offset_margin,
        timeout: s.timeout,
    }
}

pub fn run_failover(args: FailoverArgs) -> Result<ExitCode> {
    let mut options = switch_options(&args.switch);
    options.unplanned = args.unplanned;
    options.force = args.force;
    options.accept_data_loss = args.accept_data_loss;
    runtime()?.block_on(async {
        let dr = dr(&args.settings, &args.connection, args.switch.timeout.min(Duration::from_secs(60))).await?;
        let report = failover::failover(&dr, &options).await?;
        args.switch.output.print(&report, report::switch)?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run_failback(cmd: FailbackCommand) -> Result<ExitCode> {
    let (args, which) = match cmd {
        FailbackCommand::Prepare(a) => (a, "prepare"),
        FailbackCommand::Sync(a) => (a, "sync"),
        FailbackCommand::Switch(a) => (a, "switch"),
    };
    let options = FailbackOptions { switch: switch_options(&args.switch), stranded: args.stranded, export_to: args.to.clone() };
    runtime()?.block_on(async {
        let dr = dr(&args.settings, &args.connection, args.switch.timeout.min(Duration::from_secs(60))).await?;
        match which {
            "prepare" => {
                let r = failback::prepare(&dr, &options).await?;
                args.switch.output.print(&r, report::prepare)?;
            }
            "sync" => {
                let r = failback::sync(&dr, &options).await?;
                args.switch.output.print(&r, report::sync)?;
            }
            _ => {
                let r = failback::switch(&dr, &options).await?;
                args.switch.output.print(&r, report::switch)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
