//! `amqdr render`: the Plan, its manifests, or the effective settings, offline.

use super::SettingsArgs;
use crate::deploy::{self, PlanOptions};
use crate::plan::Scope;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(flatten)]
    pub output: super::output_args::PlanOutput,

    /// Print Secret values instead of <redacted> (certificates are always shown).
    #[arg(long)]
    pub show_secrets: bool,

    /// Print the effective settings (every key, with defaults filled in) as YAML and exit.
    #[arg(long)]
    pub print_config: bool,

    /// Leave out the MirrorMaker stage.
    #[arg(long)]
    pub no_mirror: bool,
}

pub fn run(args: RenderArgs) -> Result<ExitCode> {
    let sources = args.settings.sources()?;
    if args.print_config {
        crate::output::stdout(deploy::effective_config_yaml(&sources)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = deploy::render_plan(
        &sources,
        &PlanOptions { scope: Scope::Install, no_mirror: args.no_mirror, format: args.output.format, show_secrets: args.show_secrets },
    )?;
    crate::output::stdout(text)?;
    Ok(ExitCode::SUCCESS)
}
