//! `amqdr verify ...`.

use crate::deploy;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The check to run.
    pub check: String,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    deploy::not_yet(&format!("verify {}", args.check))
}
