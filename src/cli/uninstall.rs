//! `amqdr uninstall` and `amqdr status`.

use super::SettingsArgs;
use crate::deploy;
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
    #[arg(long, value_parser = super::install::humantime_duration, default_value = "10m")]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
}

pub fn run(args: UninstallArgs) -> Result<ExitCode> {
    let _sources = args.settings.sources()?;
    deploy::not_yet("uninstall")
}

pub fn run_status(args: StatusArgs) -> Result<ExitCode> {
    let _sources = args.settings.sources()?;
    deploy::not_yet("status")
}
