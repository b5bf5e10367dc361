//! `amqdr verify ...`: argument parsing only; the checks live in `crate::verify`.

use super::SettingsArgs;
use super::install::{humantime_duration, runtime};
use crate::kafka::connection::ConnectionInputs;
use crate::settings::SiteId;
use crate::verify::perf::PerfOptions;
use crate::verify::{self, Check, LagLimits, VerifyFormat, VerifyOptions};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(subcommand)]
    pub check: CheckCommand,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Output: a table, or JSON (stable: {passed, checks: [{name, passed, summary, seconds, details}]}).
    #[arg(long, short = 'o', value_enum, default_value_t = VerifyFormat::Table, global = true)]
    pub output: VerifyFormat,

    /// Also write a JUnit XML report (one testcase per check) for CI.
    #[arg(long, value_name = "FILE", global = true)]
    pub junit: Option<PathBuf>,

    /// Limit for connecting, for each wait, and for mirrored records to arrive.
    #[arg(long, value_parser = humantime_duration, default_value = "60s", global = true)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Connection (default: read from the cluster's Kafka status and Secrets)")]
pub struct ConnectionArgs {
    /// Bootstrap address of the site a check runs on (produce-consume, perf, latency).
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub bootstrap: Option<String>,

    /// Production (site a) bootstrap address.
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_A_BOOTSTRAP", global = true)]
    pub source_bootstrap: Option<String>,

    /// DR (site b) bootstrap address.
    #[arg(long, value_name = "HOST:PORT", env = "AMQDR_SITE_B_BOOTSTRAP", global = true)]
    pub target_bootstrap: Option<String>,

    /// PEM CA certificate the brokers' certificates chain to (the shared cluster CA).
    #[arg(long, value_name = "FILE", env = "AMQDR_CA_FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// SCRAM-SHA-512 user.
    #[arg(long, env = "AMQDR_USER", global = true)]
    pub user: Option<String>,

    /// Java client properties as the seed's client-sasl-scram.properties (PEM trust store).
    #[arg(long, value_name = "FILE", env = "AMQDR_CLIENT_CONFIG", global = true)]
    pub client_config: Option<PathBuf>,

    /// Topic to use (default: the settings' topic.name, my-topic).
    #[arg(long, env = "AMQDR_TOPIC", global = true)]
    pub topic: Option<String>,

    /// MirrorMaker 1 consumer group (default: mirror.groupId).
    #[arg(long, env = "AMQDR_MIRROR_GROUP", global = true)]
    pub mirror_group: Option<String>,

    /// The mirror's Kafka user, for `acl` (default: mirror.name).
    #[arg(long, env = "AMQDR_MIRROR_USER", global = true)]
    pub mirror_user: Option<String>,

    /// File with the mirror user's password, for `acl` (default: its Secret in site a).
    #[arg(long, value_name = "FILE", env = "AMQDR_MIRROR_PASSWORD_FILE", global = true)]
    pub mirror_password_file: Option<PathBuf>,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Round trip of N records on one site: content, count, per-partition order.
    ProduceConsume {
        #[arg(long, value_enum, default_value_t = SiteId::A)]
        site: SiteId,
        #[arg(long, default_value_t = 100)]
        records: usize,
        #[arg(long, default_value_t = 1024)]
        record_size: usize,
    },
    /// Produce N on site a, consume on a and b: missing, duplicated, replication delay.
    Mirror {
        #[arg(long, default_value_t = 100)]
        records: usize,
        #[arg(long, default_value_t = 1024)]
        record_size: usize,
    },
    /// Producer perf test with the seed's knobs (kafka-producer-perf-test).
    Perf {
        #[arg(long, value_enum, default_value_t = SiteId::A)]
        site: SiteId,
        #[arg(long, default_value_t = 10_000)]
        num_records: u64,
        #[arg(long, default_value_t = 4096)]
        record_size: usize,
        /// Records per second (-1: unthrottled).
        #[arg(long, default_value_t = 100_000.0, allow_negative_numbers = true)]
        throughput: f64,
        #[arg(long, default_value = "1")]
        acks: String,
        #[arg(long, default_value_t = 8196)]
        batch_size: u64,
        #[arg(long, default_value = "none", value_parser = ["none", "gzip", "snappy", "lz4", "zstd"])]
        compression: String,
        #[arg(long, default_value_t = 67_108_864)]
        buffer_memory: u64,
        #[arg(long, default_value_t = 0)]
        linger_ms: u64,
        /// Reproduce the seed's table (10 KiB x 100/s, 100 KiB x 10/s, 1048000 B x 1/s).
        #[arg(long, value_parser = ["seed"])]
        matrix: Option<String>,
        /// Seconds per matrix row.
        #[arg(long, default_value_t = 20)]
        matrix_seconds: u64,
        /// Print the matrix as a Markdown table.
        #[arg(long)]
        markdown: bool,
    },
    /// The mirror's lag per partition, in records and seconds.
    Lag {
        /// Refresh in place until Ctrl-C (or --count).
        #[arg(long)]
        watch: bool,
        #[arg(long, value_parser = humantime_duration, default_value = "2s")]
        interval: Duration,
        #[arg(long)]
        count: Option<u64>,
        /// Fail (exit 3) when the newest mirrored record is more than this many seconds behind.
        #[arg(long, value_name = "SECONDS")]
        max_lag_seconds: Option<f64>,
        /// Fail (exit 3) when more than this many records, over all partitions, are not mirrored yet.
        #[arg(long, value_name = "RECORDS")]
        max_lag_records: Option<u64>,
    },
    /// End-to-end latency like Kafka's EndToEndLatency (one record at a time).
    Latency {
        #[arg(long, value_enum, default_value_t = SiteId::A)]
        site: SiteId,
        #[arg(long, default_value_t = 1000)]
        iterations: usize,
        #[arg(long, default_value_t = 4096)]
        record_size: usize,
        #[arg(long, default_value = "all")]
        acks: String,
    },
    /// DR drill: a consumer group committed on site a resumes on site b (MirrorMaker 2).
    Failover {
        #[arg(long, default_value_t = 300)]
        records: usize,
        /// Records consumed (and committed) on site a before the failover.
        #[arg(long, default_value_t = 150)]
        consume_first: usize,
    },
    /// Least privilege as the brokers enforce it: the application user produces and consumes on
    /// both sites, the mirror's user may not write on production, an unknown user is refused.
    Acl,
    /// produce-consume on both sites, mirror, latency, perf, lag and acl; exit 0 only if all pass.
    All,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let c = &args.connection;
    let (settings_source, _) = crate::deploy::load_settings(&c.settings.sources()?)?;
    let site_of = |check: &CheckCommand| match check {
        CheckCommand::ProduceConsume { site, .. } | CheckCommand::Perf { site, .. } | CheckCommand::Latency { site, .. } => Some(*site),
        _ => None,
    };
    let selected = site_of(&args.check);
    let inputs = |site: SiteId| {
        let flag = match site {
            SiteId::A => &c.source_bootstrap,
            SiteId::B => &c.target_bootstrap,
        };
        let explicit = if selected == Some(site) { c.bootstrap.clone() } else { None };
        ConnectionInputs {
            bootstrap: explicit.or_else(|| flag.clone()),
            ca_file: c.ca_file.clone(),
            user: c.user.clone(),
            // --password-file is the settings' user.passwordFile (also AMQDR_PASSWORD_FILE).
            password_file: settings_source.settings.user.password_file.clone(),
            client_config: c.client_config.clone(),
        }
    };
    let check = match args.check {
        CheckCommand::ProduceConsume { site, records, record_size } => Check::ProduceConsume { site, records, record_size },
        CheckCommand::Mirror { records, record_size } => Check::Mirror { records, record_size },
        CheckCommand::Perf {
            site,
            num_records,
            record_size,
            throughput,
            acks,
            batch_size,
            compression,
            buffer_memory,
            linger_ms,
            matrix,
            matrix_seconds,
            markdown,
        } => Check::Perf {
            site,
            options: PerfOptions { num_records, record_size, throughput, acks, batch_size, compression, buffer_memory, linger_ms },
            matrix_seconds: matrix.map(|_| matrix_seconds),
            markdown,
        },
        CheckCommand::Lag { watch, interval, count, max_lag_seconds, max_lag_records } => {
            Check::Lag { watch, interval, count, limits: LagLimits { seconds: max_lag_seconds, records: max_lag_records } }
        }
        CheckCommand::Latency { site, iterations, record_size, acks } => Check::Latency { site, iterations, record_size, acks },
        CheckCommand::Failover { records, consume_first } => Check::Failover { records, consume_first },
        CheckCommand::Acl => Check::Acl,
        CheckCommand::All => Check::All,
    };
    let options = VerifyOptions {
        check,
        site_a: inputs(SiteId::A),
        site_b: inputs(SiteId::B),
        topic: c.topic.clone(),
        mirror_group: c.mirror_group.clone(),
        mirror_user: c.mirror_user.clone(),
        mirror_password_file: c.mirror_password_file.clone(),
        timeout: args.timeout,
        format: args.output,
        junit: args.junit,
        settings: settings_source.settings,
    };
    runtime()?.block_on(verify::run(options))?;
    Ok(ExitCode::SUCCESS)
}
