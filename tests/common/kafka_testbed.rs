//! The Kafka test bed (tests/testbed/up kafka legacy|current): two single-node sites on loopback
//! with SASL_SSL/SCRAM-SHA-512 and MirrorMaker a -> b configured from amqdr's settings.

#![allow(dead_code)]

use super::kube_testbed::{parse_exports, repo_root};
use std::collections::HashMap;
use std::process::Command;

#[derive(Debug, Clone)]
pub struct KafkaTestbed {
    pub profile: String,
    pub env: HashMap<String, String>,
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

pub fn kafka(profile: &str) -> KafkaTestbed {
    let out = Command::new(repo_root().join("tests/testbed/up")).args(["kafka", profile]).output().expect("run tests/testbed/up");
    assert!(out.status.success(), "tests/testbed/up kafka {profile} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    KafkaTestbed { profile: profile.into(), env: parse_exports(&String::from_utf8_lossy(&out.stdout)) }
}
