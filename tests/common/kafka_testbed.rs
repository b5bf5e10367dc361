//! The Kafka test bed (tests/testbed/up kafka legacy|current): two single-node sites on loopback
//! with SASL_SSL/SCRAM-SHA-512, brokers, topic and MirrorMaker a -> b made from what amqdr
//! renders. [`kafka_dr`] gives a DR test an instance of its own, without a mirror: the test
//! installs with amqdr on the kube test bed and the operator stand-in runs the mirror resources
//! on it ([`KafkaTestbed::site`] maps a namespace to a site in `StandinOptions::kafka_sites`).

#![allow(dead_code)]

use super::kube_testbed::{parse_exports, repo_root};
use amqdr_standins::mirror_runtime::{self, KafkaSite};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests of one profile share its brokers. Most only add records under their own run id and
/// run side by side (shared use); a test that restarts a broker or stops the mirror takes the
/// profile for itself (exclusive use), so it never disturbs another test's check.
static LEGACY: RwLock<()> = RwLock::new(());
static CURRENT: RwLock<()> = RwLock::new(());
static DR_LEGACY: RwLock<()> = RwLock::new(());
static DR_CURRENT: RwLock<()> = RwLock::new(());

fn instance_lock(instance: &str) -> &'static RwLock<()> {
    match instance {
        "legacy" => &LEGACY,
        "current" => &CURRENT,
        "dr-legacy" => &DR_LEGACY,
        "dr-current" => &DR_CURRENT,
        other => panic!("unknown Kafka test bed instance {other}"),
    }
}

#[derive(Debug)]
enum Use {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

#[derive(Debug)]
pub struct KafkaTestbed {
    pub profile: String,
    /// The instance name ctl.sh and down take (the profile for the shared test beds).
    pub instance: String,
    pub env: HashMap<String, String>,
    _use: Use,
}

impl KafkaTestbed {
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} not exported by the Kafka test bed"))
    }

    /// `tests/testbed/kafka/ctl.sh INSTANCE ACTION [ARG]`.
    pub fn ctl(&self, args: &[&str]) {
        let out = Command::new(repo_root().join("tests/testbed/kafka/ctl.sh")).arg(&self.instance).args(args).output().unwrap();
        assert!(out.status.success(), "ctl.sh {} {args:?}: {}", self.instance, String::from_utf8_lossy(&out.stderr));
    }

    /// Stop a site's broker (the process ends; its data stays).
    pub fn stop_broker(&self, site: &str) {
        self.ctl(&["stop-broker", site]);
    }

    /// Start a stopped site's broker and wait until it serves.
    pub fn start_broker(&self, site: &str) {
        self.ctl(&["start-broker", site]);
    }

    pub fn restart_broker(&self, site: &str) {
        self.ctl(&["restart-broker", site]);
    }

    /// The instance's state folder.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(self.get("AMQDR_TESTBED_KAFKA_DIR"))
    }

    /// Site `a` or `b`, for `StandinOptions::kafka_sites` (namespace -> site).
    pub fn site(&self, site: &str) -> KafkaSite {
        KafkaSite::new(self.dir(), site)
    }

    /// The SASL_SSL/SCRAM-SHA-512 bootstrap of a site (`localhost:PORT`).
    pub fn bootstrap(&self, site: &str) -> String {
        self.get(&format!("AMQDR_SITE_{}_BOOTSTRAP", site.to_uppercase())).to_string()
    }

    /// The listener without authentication (admin use in tests).
    pub fn plain_bootstrap(&self, site: &str) -> String {
        self.get(&format!("AMQDR_SITE_{}_PLAIN_BOOTSTRAP", site.to_uppercase())).to_string()
    }

    /// The REST address of the Connect worker the stand-in runs for the KafkaMirrorMaker2
    /// `namespace/name`, whose Kafka is on `site` (what its `status.url` names in the cluster).
    pub fn connect_url(&self, site: &str, namespace: &str, name: &str) -> Option<String> {
        mirror_runtime::connect_rest_url(&self.site(site), namespace, name)
    }

    /// Whether the process of the mirror resource `namespace/name` on `site` is running.
    pub fn mirror_process_running(&self, site: &str, namespace: &str, name: &str) -> bool {
        mirror_runtime::process_running(&self.site(site), namespace, name)
    }

    /// An amqdr command with this test bed's connection environment.
    pub fn amqdr(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_amqdr"));
        c.envs(&self.env).env("KUBECONFIG", "/nonexistent").stdin(std::process::Stdio::null());
        c
    }
}

/// The test bed of `profile`, shared with other tests that do not disturb it.
pub fn kafka(profile: &str) -> KafkaTestbed {
    let guard = instance_lock(profile).read().unwrap_or_else(|poisoned| poisoned.into_inner());
    start(profile, &[], Use::Shared(guard))
}

/// The test bed of `profile` for this test alone (it restarts brokers or stops the mirror).
pub fn kafka_exclusive(profile: &str) -> KafkaTestbed {
    let guard = instance_lock(profile).write().unwrap_or_else(|poisoned| poisoned.into_inner());
    start(profile, &[], Use::Exclusive(guard))
}

/// A DR test's own instance `dr-<profile>`: the same brokers and topic, no mirror, started fresh
/// (a previous test's connectors, offsets and topics are gone) and held exclusively.
/// `tests/testbed/up kafka PROFILE --name dr-PROFILE --no-mirror --fresh`.
pub fn kafka_dr(profile: &str) -> KafkaTestbed {
    let instance = format!("dr-{profile}");
    let guard = instance_lock(&instance).write().unwrap_or_else(|poisoned| poisoned.into_inner());
    start(profile, &["--name", &instance, "--no-mirror", "--fresh"], Use::Exclusive(guard))
}

fn start(profile: &str, extra: &[&str], held: Use) -> KafkaTestbed {
    let out =
        Command::new(repo_root().join("tests/testbed/up")).args(["kafka", profile]).args(extra).output().expect("run tests/testbed/up");
    assert!(out.status.success(), "tests/testbed/up kafka {profile} {extra:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let env = parse_exports(&String::from_utf8_lossy(&out.stdout));
    let instance = env.get("AMQDR_TESTBED_KAFKA_INSTANCE").cloned().unwrap_or_else(|| profile.to_string());
    KafkaTestbed { profile: profile.into(), instance, env, _use: held }
}
