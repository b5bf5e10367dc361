//! `amqdr serve`: argument parsing only; the server lives in `crate::serve`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use crate::error::UsageError;
use crate::kafka::connection::ConnectionInputs;
use crate::serve::{self, ServeOptions};
use crate::settings::SiteId;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The site this process watches and answers for.
    #[arg(long, value_enum, env = "AMQDR_SERVE_SITE")]
    pub site: SiteId,

    /// Address of the HTTP endpoint (default 0.0.0.0:<health.port>, port 8080).
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SERVE_LISTEN")]
    pub listen: Option<String>,

    /// Time between probe rounds (default health.intervalSeconds, 5s).
    #[arg(long, value_parser = humantime_duration, env = "AMQDR_SERVE_INTERVAL")]
    pub interval: Option<Duration>,

    /// Time a probe round may take: canary acknowledged (acks=all) and consumed back (default health.probeTimeoutSeconds, 5s).
    #[arg(long, value_parser = humantime_duration, env = "AMQDR_SERVE_PROBE_TIMEOUT")]
    pub probe_timeout: Option<Duration>,

    /// Consecutive failed rounds before the site is DOWN (default health.failAfter, 3).
    #[arg(long, value_name = "N", env = "AMQDR_SERVE_FAIL_AFTER")]
    pub fail_after: Option<u32>,

    /// Consecutive good rounds before a DOWN site is UP again (default health.recoverAfter, 2).
    #[arg(long, value_name = "M", env = "AMQDR_SERVE_RECOVER_AFTER")]
    pub recover_after: Option<u32>,

    #[command(flatten)]
    pub connection: ServeConnectionArgs,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Connection (default: read from the site's cluster, as `verify` does)")]
pub struct ServeConnectionArgs {
    /// Bootstrap address of this site. [env: AMQDR_SITE_A_BOOTSTRAP / AMQDR_SITE_B_BOOTSTRAP]
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: Option<String>,

    /// Site a's bootstrap, from the environment only (which of the two is this site's depends on --site).
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_A_BOOTSTRAP", hide = true)]
    pub site_a_bootstrap: Option<String>,

    /// Site b's bootstrap, from the environment only.
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_B_BOOTSTRAP", hide = true)]
    pub site_b_bootstrap: Option<String>,

    /// Bootstrap address of the other site, reached with this site's CA, user and password: its
    /// canaries fence this site when it is primary at a higher epoch, and the lag is measured
    /// between the two. [env: AMQDR_SITE_B_BOOTSTRAP / AMQDR_SITE_A_BOOTSTRAP]
    #[arg(long, value_name = "HOST:PORT")]
    pub peer_bootstrap: Option<String>,

    /// PEM CA certificate the brokers' certificates chain to (the shared cluster CA).
    #[arg(long, value_name = "FILE", env = "AMQDR_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// SCRAM-SHA-512 user.
    #[arg(long, env = "AMQDR_USER")]
    pub user: Option<String>,

    /// Java client properties as the seed's client-sasl-scram.properties (PEM trust store).
    #[arg(long, value_name = "FILE", env = "AMQDR_CLIENT_CONFIG")]
    pub client_config: Option<PathBuf>,
}

impl ServeConnectionArgs {
    fn site_bootstrap(&self, site: SiteId) -> Option<String> {
        match site {
            SiteId::A => self.site_a_bootstrap.clone(),
            SiteId::B => self.site_b_bootstrap.clone(),
        }
    }
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let (source, _) = crate::deploy::load_settings(&args.settings.sources()?)?;
    let settings = source.settings;
    let h = &settings.health;
    let site = args.site;
    let c = &args.connection;
    let seconds = |s: u32| Duration::from_secs(u64::from(s));
    let options = ServeOptions {
        site,
        listen: args.listen.clone().unwrap_or_else(|| format!("0.0.0.0:{}", h.port)),
        interval: args.interval.unwrap_or(seconds(h.interval_seconds)),
        probe_timeout: args.probe_timeout.unwrap_or(seconds(h.probe_timeout_seconds)),
        fail_after: args.fail_after.unwrap_or(h.fail_after),
        recover_after: args.recover_after.unwrap_or(h.recover_after),
        connection: ConnectionInputs {
            bootstrap: c.bootstrap.clone().or_else(|| c.site_bootstrap(site)),
            ca_file: c.ca_file.clone(),
            user: c.user.clone(),
            // --password-file is the settings' user.passwordFile (also AMQDR_PASSWORD_FILE).
            password_file: settings.user.password_file.clone(),
            client_config: c.client_config.clone(),
        },
        peer_bootstrap: c.peer_bootstrap.clone().or_else(|| c.site_bootstrap(site.other())),
        settings: settings.clone(),
    };
    for (flag, zero) in [
        ("--interval", options.interval.is_zero()),
        ("--probe-timeout", options.probe_timeout.is_zero()),
        ("--fail-after", options.fail_after == 0),
        ("--recover-after", options.recover_after == 0),
    ] {
        if zero {
            return Err(UsageError::new(format!("{flag} must be above zero"))
                .with_hint(format!("see `amqdr serve --help` for {flag}"))
                .into());
        }
    }
    runtime()?.block_on(serve::run(options))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::super::{Cli, Command};
    use crate::settings::{Origin, Override, SettingsSource, SiteId, Sources};
    use clap::Parser;

    fn settings(overrides: &[(&str, &str)]) -> crate::settings::Settings {
        let overrides =
            overrides.iter().map(|(p, v)| Override { path: p.to_string(), raw: v.to_string(), origin: Origin::Flag(p.to_string()) });
        SettingsSource::load(&Sources { config_file: None, overrides: overrides.collect() }).unwrap().settings
    }

    /// The deployed command line parses, and gives `serve` the settings install used.
    #[test]
    fn deployment_args_carry_the_settings_serve_reads() {
        let installed = settings(&[
            ("profile", "legacy"),
            ("sites.b.kafkaNamespace", "dr-kafka"),
            ("sites.b.clusterName", "dr"),
            ("user.name", "app-user"),
            ("mirror.include", r"orders\..*|payments"),
            ("mirror.sourceBootstrap", "kafka-a.example.com:443"),
            ("health.intervalSeconds", "10"),
            ("health.canaryTopic", "dr.canary"),
            ("health.port", "9090"),
        ]);
        let args = crate::render::health::deployment_args(&installed, SiteId::B);
        let peer = args.iter().position(|a| a == "--peer-bootstrap").unwrap();
        assert_eq!(args[peer + 1], "kafka-a.example.com:443");
        let cli = Cli::try_parse_from(std::iter::once("amqdr".to_string()).chain(args.clone())).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let Command::Serve(serve) = cli.command else { panic!("not serve: {args:?}") };
        assert_eq!(serve.site, SiteId::B);
        let seen = SettingsSource::load(&serve.settings.sources().unwrap()).unwrap().settings;
        assert_eq!(seen.profile, installed.profile);
        assert_eq!(seen.site(SiteId::B), &crate::settings::SiteSettings { context: None, ..installed.site(SiteId::B).clone() });
        assert_eq!(seen.user.name, "app-user");
        assert_eq!(seen.mirror.include, installed.mirror.include);
        assert_eq!(seen.health, installed.health);
        // Defaults stay off the command line.
        let plain = crate::render::health::deployment_args(&settings(&[]), SiteId::A);
        assert_eq!(plain, ["serve", "--site", "a", "--profile", "current", "--peer-bootstrap", "<discovered: site b external bootstrap>"]);
    }
}
