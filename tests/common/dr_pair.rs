//! Both test beds as one DR pair for the DR tests: `amqdr` on the kube test bed with the
//! stand-in running Strimzi's part on a Kafka test bed DR instance of the test's own (namespaces
//! `<prefix>-op|dc-a|b`, one-broker sites, a fast mirror sync).

#![allow(dead_code)]

use super::kafka_testbed::{KafkaTestbed, kafka_dr};
use super::kube_testbed::{self, KubeTestbed};
use amqdr::kafka::connection::{ConnectionInputs, ConnectionSettings};
use amqdr::kafka::site::KafkaSite;
use amqdr_standins::standin::{Standin, StandinOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

pub struct Pair {
    pub profile: String,
    pub api_version: String,
    pub prefix: String,
    pub kube: KubeTestbed,
    pub kafka: KafkaTestbed,
    _stand: Standin,
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(out)))
}

impl Pair {
    pub async fn new(profile: &str, kube_name: &str, api_version: &str, prefix: &str) -> Pair {
        let kafka = kafka_dr(profile);
        let kube = kube_testbed::kube(kube_name);
        let client = kube_testbed::client(&kube.kubeconfig, None).await;
        let ns = |what: &str, site: &str| format!("{prefix}-{what}-{site}");
        let stand = Standin::start(
            client,
            StandinOptions {
                api_version: api_version.into(),
                namespaces: ["op", "dc"].iter().flat_map(|w| ["a", "b"].map(|s| ns(w, s))).collect(),
                operator_ready: true,
                apps_domain: "apps.testbed.local".into(),
                external_bootstraps: HashMap::from([(ns("dc", "a"), kafka.bootstrap("a")), (ns("dc", "b"), kafka.bootstrap("b"))]),
                kafka_sites: HashMap::from([(ns("dc", "a"), kafka.site("a")), (ns("dc", "b"), kafka.site("b"))]),
            },
        )
        .await;
        Pair { profile: profile.into(), api_version: api_version.into(), prefix: prefix.into(), kube, kafka, _stand: stand }
    }

    /// `amqdr uninstall`, then `amqdr install` with the Kafka test bed's CA and user password (its
    /// brokers' certificates and the test bed's clients match them).
    pub async fn reinstall(&self) {
        let dir = self.kafka.dir();
        let (ca_cert, ca_key) = (dir.join("certs/ca.crt").display().to_string(), dir.join("certs/ca.key").display().to_string());
        let password = self.kafka.get("AMQDR_PASSWORD_FILE").to_string();
        let out = self.amqdr(&["uninstall", "--timeout", "120s"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let args = ["install", "--listener", "loadbalancer", "-o", "json", "--timeout", "180s", "--ca-cert", &ca_cert, "--ca-key"];
        let out = self.amqdr(&[&args[..], &[ca_key.as_str(), "--password-file", &password]].concat()).await;
        ok(&out);
    }

    pub fn ns(&self, what: &str, site: &str) -> String {
        format!("{}-{what}-{site}", self.prefix)
    }

    /// amqdr with this pair's settings (namespaces, profile, one-broker sites, fast mirror sync).
    pub async fn amqdr(&self, args: &[&str]) -> Output {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--profile".into(), self.profile.clone()]);
        for site in ["a", "b"] {
            v.extend(["--set".into(), format!("sites.{site}.operatorNamespace={}", self.ns("op", site))]);
            v.extend(["--set".into(), format!("sites.{site}.kafkaNamespace={}", self.ns("dc", site))]);
        }
        // The test's consumer groups (app-*) are the application's: granted like amqdr's own.
        for s in [
            "kafka.brokers=1",
            "topic.replicas=1",
            "topic.minInsyncReplicas=1",
            "mirror.replicas=1",
            "mirror.syncIntervalSeconds=2",
            "user.groups=[amqdr-*,console-consumer-*,app-*]",
        ] {
            v.extend(["--set".into(), s.into()]);
        }
        // The environment the README documents for the user's password: install takes it, and
        // the DR commands must work with it set (they use the password the sites hold).
        let env = vec![("AMQDR_PASSWORD_FILE".to_string(), self.kafka.get("AMQDR_PASSWORD_FILE").to_string())];
        kube_testbed::run_with_env(&self.kube.kubeconfig, v, env).await
    }

    pub fn conn(&self, site: &str) -> ConnectionSettings {
        let inputs = ConnectionInputs {
            bootstrap: Some(self.kafka.bootstrap(site)),
            ca_file: Some(PathBuf::from(self.kafka.get("AMQDR_CA_FILE"))),
            user: Some(self.kafka.get("AMQDR_USER").to_string()),
            password_file: Some(PathBuf::from(self.kafka.get("AMQDR_PASSWORD_FILE"))),
            client_config: None,
        };
        inputs.resolve(site, Duration::from_secs(30)).unwrap().unwrap()
    }

    pub fn site(&self, site: &str) -> KafkaSite {
        KafkaSite::connect(&self.conn(site)).unwrap()
    }

    pub async fn record(&self, site: &str) -> BTreeMap<String, String> {
        let client = kube_testbed::client(&self.kube.kubeconfig, None).await;
        let cms: Api<ConfigMap> = Api::namespaced(client, &self.ns("dc", site));
        cms.get("amqdr-dr-state").await.unwrap().data.unwrap()
    }

    pub async fn mirror_resource(&self, site: &str) -> Option<DynamicObject> {
        let client = kube_testbed::client(&self.kube.kubeconfig, None).await;
        let kind = if self.profile == "legacy" { "KafkaMirrorMaker" } else { "KafkaMirrorMaker2" };
        let (group, version) = self.api_version.split_once('/').unwrap();
        let ar = kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(client, &self.ns("dc", site), &ar);
        api.get_opt("my-mirrormaker").await.unwrap()
    }
}

pub fn ok(out: &Output) -> Value {
    let doc = json_of(out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(out));
    doc
}
