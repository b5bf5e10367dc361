//! The Kafka test bed (tests/testbed/up kafka legacy|current): two single-node sites on loopback
//! with SASL_SSL/SCRAM-SHA-512 and MirrorMaker a -> b configured from amqdr's settings.

#![allow(dead_code)]

use super::kube_testbed::{parse_exports, repo_root};
use std::collections::HashMap;
use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests of one profile share its brokers. Most only add records under their own run id and
/// run side by side (shared use); a test that restarts a broker or stops the mirror takes the
/// profile for itself (exclusive use), so it never disturbs another test's check.
static LEGACY: RwLock<()> = RwLock::new(());
static CURRENT: RwLock<()> = RwLock::new(());

fn profile_lock(profile: &str) -> &'static RwLock<()> {
    match profile {
        "legacy" => &LEGACY,
        "current" => &CURRENT,
        other => panic!("unknown profile {other}"),
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
    pub env: HashMap<String, String>,
    _use: Use,
}

impl KafkaTestbed {
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} not exported by the Kafka test bed"))
    }

    /// `tests/testbed/kafka/ctl.sh PROFILE ACTION [SITE]`.
    pub fn ctl(&self, args: &[&str]) {
        let out = Command::new(repo_root().join("tests/testbed/kafka/ctl.sh")).arg(&self.profile).args(args).output().unwrap();
        assert!(out.status.success(), "ctl.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
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
    let guard = profile_lock(profile).read().unwrap_or_else(|poisoned| poisoned.into_inner());
    start(profile, Use::Shared(guard))
}

/// The test bed of `profile` for this test alone (it restarts brokers or stops the mirror).
pub fn kafka_exclusive(profile: &str) -> KafkaTestbed {
    let guard = profile_lock(profile).write().unwrap_or_else(|poisoned| poisoned.into_inner());
    start(profile, Use::Exclusive(guard))
}

fn start(profile: &str, held: Use) -> KafkaTestbed {
    let out = Command::new(repo_root().join("tests/testbed/up")).args(["kafka", profile]).output().expect("run tests/testbed/up");
    assert!(out.status.success(), "tests/testbed/up kafka {profile} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    KafkaTestbed { profile: profile.into(), env: parse_exports(&String::from_utf8_lossy(&out.stdout)), _use: held }
}
