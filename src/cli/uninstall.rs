//! `amqdr uninstall`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use super::output_args::ReportOutput;
use crate::deploy;
use crate::plan::teardown::UninstallOptions;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    /// Also delete the CRDs, ClusterRoles and the Kafka volumes (PersistentVolumeClaims).
    #[arg(long)]
    pub purge: bool,

    /// List what would be deleted, in order, without deleting.
    #[arg(long)]
    pub dry_run: bool,

    /// Limit for each deletion to finish.
    #[arg(long, value_parser = humantime_duration, default_value = "10m")]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: ReportOutput,
}

pub fn run(args: UninstallArgs) -> Result<ExitCode> {
    let sources = args.settings.sources()?;
    let options = UninstallOptions { purge: args.purge, dry_run: args.dry_run, timeout: args.timeout };
    runtime()?.block_on(deploy::uninstall(&sources, &options, args.output.json()))?;
    Ok(ExitCode::SUCCESS)
}
