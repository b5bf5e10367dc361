//! `amqdr mirror ...`: deploy the MirrorMaker, or print its configuration for a MirrorMaker
//! running outside Kubernetes.

use super::SettingsArgs;
use crate::deploy::{self, PlanOptions};
use crate::plan::Scope;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// Deploy MirrorMaker (legacy: KafkaMirrorMaker, current: KafkaMirrorMaker2) in the DR site.
    Deploy(DeployArgs),
    /// Print the mirror's client/connector settings as Java properties (MirrorMaker 2 dedicated
    /// mode, or MirrorMaker 1 consumer/producer), the same settings amqdr deploys.
    Properties(PropertiesArgs),
    /// Keep the standby's topics in step with the source's (the recorded direction): create the
    /// topics in scope it lacks with the source's partitions and configs, raise partition counts,
    /// set failover-relevant configs that differ. MirrorMaker 1 does none of this itself.
    SyncTopics(SyncTopicsArgs),
}

#[derive(Debug, Args)]
pub struct SyncTopicsArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub connection: super::dr::DrConnectionArgs,

    /// List what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Limit for connecting to each site.
    #[arg(long, value_parser = super::install::humantime_duration, default_value = "20s")]
    pub timeout: Duration,

    #[command(flatten)]
    pub output: super::output_args::ReportOutput,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    /// Source (production) bootstrap address; discovered from site a when absent.
    #[arg(long, value_name = "HOST:PORT")]
    pub source_bootstrap: Option<String>,

    #[command(flatten)]
    pub plan: super::output_args::PlanFlags,

    #[arg(long, value_parser = super::install::humantime_duration, default_value = "10m")]
    pub timeout: Duration,

    #[command(flatten)]
    pub users: super::users::SyncUsersArgs,
}

#[derive(Debug, Args)]
pub struct PropertiesArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    /// Which file: mm2 (dedicated MirrorMaker 2), mm1-consumer or mm1-producer.
    #[arg(long, value_enum, default_value_t = deploy::PropertiesKind::Mm2)]
    pub kind: deploy::PropertiesKind,
}

pub fn run(cmd: MirrorCommand) -> Result<ExitCode> {
    match cmd {
        MirrorCommand::Deploy(args) => {
            let mut sources = args.settings.sources()?;
            if let Some(b) = &args.source_bootstrap {
                sources.flag("--source-bootstrap", "mirror.sourceBootstrap", b.clone());
            }
            args.users.check()?;
            let options = PlanOptions {
                scope: Scope::MirrorOnly,
                no_mirror: false,
                format: args.plan.output.format,
                show_secrets: args.plan.show_secrets,
            };
            if args.plan.dry_run {
                crate::output::stdout(deploy::render_plan(&sources, &options)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let apply = deploy::ApplyOptions { plan: options, timeout: args.timeout, force_conflicts: false };
            super::install::runtime()?.block_on(deploy::apply_plan("mirror deploy", &sources, &apply))?;
            super::users::after_deploy(&sources, &args.users)?;
            Ok(ExitCode::SUCCESS)
        }
        MirrorCommand::SyncTopics(args) => super::install::runtime()?.block_on(async {
            let dr = super::dr::dr(&args.settings, &args.connection, args.timeout).await?;
            let report = crate::dr::topics::sync(&dr, args.dry_run).await?;
            args.output.print(&report, crate::dr::report::sync_topics)?;
            Ok(ExitCode::SUCCESS)
        }),
        MirrorCommand::Properties(args) => {
            let sources = args.settings.sources()?;
            crate::output::stdout(deploy::mirror_properties(&sources, args.kind)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
