//! `amqdr install`: apply the Plan (or print it with --dry-run).

use super::SettingsArgs;
use crate::deploy::{self, PlanOptions};
use crate::plan::Scope;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub plan: super::output_args::PlanFlags,

    /// Skip the MirrorMaker stage.
    #[arg(long)]
    pub no_mirror: bool,

    /// Limit for each wait (e.g. 300s, 15m).
    #[arg(long, value_parser = humantime_duration, default_value = "15m")]
    pub timeout: Duration,

    /// Take ownership of fields another field manager set (server-side apply conflicts).
    #[arg(long)]
    pub force_conflicts: bool,

    #[command(flatten)]
    pub users: super::users::SyncUsersArgs,
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

pub fn humantime_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
}

pub fn run(args: InstallArgs) -> Result<ExitCode> {
    let sources = args.settings.sources()?;
    args.users.check()?;
    let options = PlanOptions {
        scope: Scope::Install,
        no_mirror: args.no_mirror,
        format: args.plan.output.format,
        show_secrets: args.plan.show_secrets,
    };
    if args.plan.dry_run {
        crate::output::stdout(deploy::render_plan(&sources, &options)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let apply = deploy::ApplyOptions { plan: options, timeout: args.timeout, force_conflicts: args.force_conflicts };
    runtime()?.block_on(deploy::apply_plan("install", &sources, &apply))?;
    super::users::after_deploy(&sources, &args.users)?;
    Ok(ExitCode::SUCCESS)
}
