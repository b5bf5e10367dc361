//! The clap command tree. Each subcommand module owns its arguments and turns them into the
//! options of a logic module that knows nothing of clap.

mod dr;
mod install;
mod mirror;
mod output_args;
mod render;
mod serve;
mod settings_args;
mod uninstall;
mod users;
mod values;
mod verify;

pub use settings_args::SettingsArgs;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "amqdr",
    version,
    about = "Two-site Apache Kafka disaster recovery on Kubernetes/OpenShift with Strimzi (AMQ Streams)",
    long_about = "amqdr builds a production site (a) and a DR site (b), each with its own Strimzi operator and Kafka \
cluster sharing one cluster CA, mirrors production to DR one way, and verifies both sites over \
SASL_SSL/SCRAM-SHA-512.\n\nExit codes: 0 success, 1 failure, 2 invalid input (nothing changed), \
3 a verification found a problem, 4 a wait timed out."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the Plan to the site(s): CRDs, ClusterRoles, operators, Kafka clusters, users, topics, mirror.
    Install(install::InstallArgs),
    /// Print the Plan or its manifests without touching any cluster.
    Render(render::RenderArgs),
    /// Remove what amqdr installed, in reverse order (keeps CRDs and volumes unless --purge).
    Uninstall(uninstall::UninstallArgs),
    /// The DR view: sites, roles, mirror, lag and RPO (`--objects`: every object of the Plan).
    Status(dr::StatusArgs),
    /// Make the DR site primary (planned by default; --unplanned when production is gone).
    Failover(Box<dr::FailoverArgs>),
    /// Return to production in three steps: prepare, sync, switch.
    #[command(subcommand)]
    Failback(dr::FailbackCommand),
    /// MirrorMaker from production (a) to DR (b).
    #[command(subcommand)]
    Mirror(mirror::MirrorCommand),
    /// KafkaUsers that follow the data: the primary's selected users onto the other site.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Check the sites with real Kafka clients: produce/consume, mirror, perf, lag, latency.
    Verify(Box<verify::VerifyArgs>),
    /// Serve a site's health for a global traffic manager (/health) and DR metrics (/metrics), probing it continuously.
    Serve(Box<serve::ServeArgs>),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

impl Cli {
    /// Log verbosity: `serve` is a long-running service and logs its transitions by default.
    pub fn verbosity(&self) -> u8 {
        match self.command {
            Command::Serve(_) => self.verbose.max(1),
            _ => self.verbose,
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Install(args) => install::run(args),
        Command::Render(args) => render::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Status(args) => dr::run_status(args),
        Command::Failover(args) => dr::run_failover(*args),
        Command::Failback(cmd) => dr::run_failback(cmd),
        Command::Mirror(cmd) => mirror::run(cmd),
        Command::Users(cmd) => users::run(cmd),
        Command::Verify(args) => verify::run(*args),
        Command::Serve(args) => serve::run(*args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "amqdr", &mut script);
            crate::output::stdout(String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            crate::output::stdout(String::from_utf8_lossy(&page))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
