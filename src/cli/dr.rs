//! `amqdr status`, `amqdr failover`, `amqdr failback prepare|sync|switch`: arguments only; the
//! operations live in `crate::dr`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use super::uninstall::ReportFormat;
use crate::dr::failback::{self, FailbackOptions, Stranded};
use crate::dr::failover::{self, FailoverOptions, SwitchReport};
use crate::dr::runbook::StepReport;
use crate::dr::sites::SiteInputs;
use crate::dr::{Dr, status};
use crate::kafka::connection::ConnectionInputs;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Kafka connection (default: read from each site's cluster)")]
pub struct DrConnectionArgs {
    /// Site a's Kafka bootstrap (HOST:PORT). [env: AMQDR_SITE_A_BOOTSTRAP]
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub site_a_bootstrap: Option<String>,

    /// Site b's Kafka bootstrap (HOST:PORT). [env: AMQDR_SITE_B_BOOTSTRAP]
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub site_b_bootstrap: Option<String>,

    /// PEM CA certificate of the (shared) cluster CA. [env: AMQDR_CA_FILE]
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// SCRAM-SHA-512 user DR operations act as (default: the settings' dr.user). [env: AMQDR_DR_USER]
    #[arg(long, global = true)]
    pub user: Option<String>,

    /// File holding that user's password (default: its Secret in each site). [env: AMQDR_DR_PASSWORD_FILE]
    #[arg(long, value_name = "FILE", global = true)]
    pub dr_password_file: Option<PathBuf>,
}

impl DrConnectionArgs {
    fn inputs(&self) -> SiteInputs {
        let env_string = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
        let one = |bootstrap: &Option<String>, env: &str| ConnectionInputs {
            bootstrap: bootstrap.clone().or_else(|| env_string(env)),
            ca_file: self.ca_file.clone().or_else(|| env_string("AMQDR_CA_FILE").map(PathBuf::from)),
            user: self.user.clone().or_else(|| env_string("AMQDR_DR_USER")),
            password_file: self.dr_password_file.clone().or_else(|| env_string("AMQDR_DR_PASSWORD_FILE").map(PathBuf::from)),
            client_config: None,
        };
        SiteInputs { a: one(&self.site_a_bootstrap, "AMQDR_SITE_A_BOOTSTRAP"), b: one(&self.site_b_bootstrap, "AMQDR_SITE_B_BOOTSTRAP") }
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

    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Table)]
    pub output: ReportFormat,
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

    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Table)]
    pub output: ReportFormat,
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
        return runtime()?.block_on(crate::deploy::status(&sources, args.output == ReportFormat::Json));
    }
    runtime()?.block_on(async {
        let dr = dr(&args.settings, &args.connection, args.timeout).await?;
        let s = status::status(&dr, args.max_lag_seconds).await?;
        match args.output {
            ReportFormat::Json => crate::output::stdout_json(&s)?,
            ReportFormat::Table => crate::output::stdout(status::table(&s))?,
        }
        Ok(if s.healthy { ExitCode::SUCCESS } else { ExitCode::from(crate::error::exit::CHECK_FAILED) })
    })
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

fn steps_table(steps: &[StepReport]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(["STEP", "OUTCOME", "TIME", "DETAIL"]);
    for s in steps {
        t.add_row([s.step.to_string(), s.outcome.to_string(), format!("{:.1}s", s.seconds), s.detail.clone()]);
    }
    format!("{t}\n")
}

fn switch_table(r: &SwitchReport) -> String {
    let mut out = steps_table(&r.steps);
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(["TOPIC", "PARTITION", "OLD PRIMARY END", "NEW PRIMARY END", "LOST"]);
    for p in &r.partitions {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        t.add_row([p.topic.clone(), p.partition.to_string(), opt(p.old_primary_end), p.new_primary_end.to_string(), opt(p.lost)]);
    }
    if !r.partitions.is_empty() {
        out.push_str(&format!("\n{t}\n"));
    }
    for g in &r.groups {
        let moves: Vec<String> = g
            .partitions
            .iter()
            .map(|m| {
                let how =
                    serde_json::to_value(m.derivation).ok().and_then(|v| v["method"].as_str().map(str::to_string)).unwrap_or_default();
                format!("{}/{} {:?} -> {:?} ({how})", m.topic, m.partition, m.target_before, m.target_after)
            })
            .collect();
        out.push_str(&format!(
            "group {}: {}{} {}\n",
            g.group,
            g.result,
            if g.reason.is_empty() { String::new() } else { format!(" ({})", g.reason) },
            moves.join(", ")
        ));
    }
    let rpo = match (r.rpo.records, r.rpo.seconds) {
        (Some(n), Some(s)) => format!("{n} records, {s:.1}s"),
        _ => "unknown".into(),
    };
    out.push_str(&format!(
        "{} {} -> {}: {} at epoch {}; RTO {:.1}s; RPO {rpo} ({})\n",
        r.operation, r.from, r.to, r.result, r.epoch, r.rto_seconds, r.rpo.basis
    ));
    out
}

fn print<T: serde::Serialize>(format: ReportFormat, value: &T, table: impl FnOnce(&T) -> String) -> Result<()> {
    match format {
        ReportFormat::Json => crate::output::stdout_json(value),
        ReportFormat::Table => crate::output::stdout(table(value)),
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
        print(args.switch.output, &report, switch_table)?;
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
                print(args.switch.output, &r, |r| {
                    let mut out = steps_table(&r.steps);
                    for p in r.partitions.iter().filter(|p| p.stranded > 0) {
                        out.push_str(&format!(
                            "stranded {}/{}: {} record(s) in [{}, {})\n",
                            p.topic, p.partition, p.stranded, p.from, p.end
                        ));
                    }
                    out.push_str(&format!(
                        "failback prepare: {}; {} stranded record(s){}{}\n",
                        r.result,
                        r.stranded_records,
                        r.exported_to.as_ref().map(|f| format!(", exported to {f}")).unwrap_or_default(),
                        if r.recreated_topics.is_empty() {
                            String::new()
                        } else {
                            format!(", recreated: {}", r.recreated_topics.join(", "))
                        }
                    ));
                    out
                })?;
            }
            "sync" => {
                let r = failback::sync(&dr, &options).await?;
                print(args.switch.output, &r, |r| {
                    let mut out = steps_table(&r.steps);
                    for t in &r.lag {
                        out.push_str(&format!("lag b -> a {}: {} records, {:.1}s\n", t.topic, t.records, t.seconds));
                    }
                    out.push_str(&format!("failback sync: {}\n", r.result));
                    out
                })?;
            }
            _ => {
                let r = failback::switch(&dr, &options).await?;
                print(args.switch.output, &r, switch_table)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
