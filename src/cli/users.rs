//! `amqdr users sync`, and the `--sync-users` of `install` and `mirror deploy`: arguments only;
//! the operation lives in `crate::dr::users`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use super::output_args::ReportOutput;
use crate::dr::report;
use crate::dr::users::{self, DEFAULT_SELECTOR, Selection, Selector, UsersSync};
use crate::dr::{Dr, sites::SiteInputs};
use crate::error::UsageError;
use crate::settings::Settings;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Make the primary's selected KafkaUsers exist on the other site with the same ACLs and
    /// password (a generated password is kept in `<user>-dr-password` on both sites); amqdr's own
    /// users are install's. tls users are reported, not synced.
    Sync(SyncArgs),
}

/// Which KafkaUsers follow the data.
#[derive(Debug, Args, Clone)]
pub struct UserSelectArgs {
    /// Label selector of the KafkaUsers that follow the data (key=value[,key!=value,key,!key]).
    #[arg(long, value_name = "SELECTOR", default_value = DEFAULT_SELECTOR, conflicts_with = "all")]
    pub selector: String,

    /// Every KafkaUser of the primary's Kafka namespace (but amqdr's own).
    #[arg(long)]
    pub all: bool,
}

impl UserSelectArgs {
    pub fn selection(&self) -> Result<Selection, UsageError> {
        if self.all {
            return Ok(Selection::All);
        }
        Selector::parse(&self.selector).map(Selection::Labels).map_err(|why| {
            UsageError::new(format!("--selector {:?}: {why}", self.selector))
                .with_hint(format!("pass a label selector such as --selector {DEFAULT_SELECTOR}, or --all"))
        })
    }
}

/// `--sync-users` of `install` and `mirror deploy`.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "KafkaUsers that follow the data")]
pub struct SyncUsersArgs {
    /// Afterwards, run `amqdr users sync --yes` with the selection below.
    #[arg(long)]
    pub sync_users: bool,

    #[command(flatten)]
    pub select: UserSelectArgs,
}

impl SyncUsersArgs {
    /// Refuse a selection that would not be used, or one that does not parse, before anything
    /// is applied.
    pub fn check(&self) -> Result<(), UsageError> {
        if !self.sync_users {
            if self.select.all || self.select.selector != DEFAULT_SELECTOR {
                return Err(UsageError::new("--selector and --all choose the users of --sync-users, which is not given")
                    .with_hint("add --sync-users, or run `amqdr users sync` afterwards"));
            }
            return Ok(());
        }
        self.select.selection().map(|_| ())
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub select: UserSelectArgs,

    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Limit for reaching each site.
    #[arg(long, value_parser = humantime_duration, default_value = "20s")]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: ReportOutput,
}

async fn run_sync(settings: &Settings, selection: &Selection, dry_run: bool, yes: bool, timeout: Duration) -> Result<UsersSync> {
    let dr = Dr::new(settings, &SiteInputs::default(), timeout).await?;
    let report = users::sync(&dr, selection, dry_run, yes).await?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(report)
}

pub fn run(cmd: UsersCommand) -> Result<ExitCode> {
    let UsersCommand::Sync(args) = cmd;
    let selection = args.select.selection()?;
    let (source, _) = crate::deploy::load_settings(&args.settings.sources()?)?;
    runtime()?.block_on(async {
        let report = run_sync(&source.settings, &selection, args.dry_run, args.yes, args.timeout).await?;
        args.output.print(&report, report::users_sync)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// After `install` / `mirror deploy` succeeded: the sync they were asked for (its summary on
/// stderr, so their own output stays as it was).
pub fn after_deploy(sources: &crate::settings::Sources, args: &SyncUsersArgs) -> Result<()> {
    if !args.sync_users {
        return Ok(());
    }
    let selection = args.select.selection()?;
    let (source, _) = crate::deploy::load_settings(sources)?;
    let report = runtime()?.block_on(run_sync(&source.settings, &selection, false, true, Duration::from_secs(20)))?;
    eprint!("users sync {}", report::users_sync(&report));
    Ok(())
}
