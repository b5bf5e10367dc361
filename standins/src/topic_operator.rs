//! What Strimzi's Topic Operator does to a KafkaTopic on real brokers: create the topic with the
//! spec's partitions, replicas and config, raise partitions, apply config changes, and refuse
//! what it refuses (fewer partitions, a replication factor change without Cruise Control, a
//! spec the brokers cannot satisfy). Used by the kube stand-in for namespaces mapped to a Kafka
//! test bed site, and by the standalone Kafka test bed for the topic amqdr renders.

#![allow(dead_code)]

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// The outcome the Topic Operator reports in `status`: Ready, or NotReady with its reason.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicOutcome {
    Ready { topic_name: String },
    NotReady { topic_name: String, reason: String, message: String },
}

impl TopicOutcome {
    /// `status` fields of the KafkaTopic (without observedGeneration); `now` is RFC 3339.
    pub fn status(&self, now: &str) -> Value {
        match self {
            TopicOutcome::Ready { topic_name } => json!({
                "topicName": topic_name,
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
            }),
            TopicOutcome::NotReady { topic_name, reason, message } => json!({
                "topicName": topic_name,
                "conditions": [{"type": "Ready", "status": "False", "reason": reason, "message": message,
                    "lastTransitionTime": now}],
            }),
        }
    }
}

fn admin(bootstrap: &str) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    // Metadata requests must not create the topic on brokers that allow auto-creation (legacy).
    Ok(ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("allow.auto.create.topics", "false")
        .create()?)
}

fn config_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reconcile one KafkaTopic (`spec` of the resource, its `metadata.name`) against the brokers at
/// `bootstrap` (a listener without authentication: the Topic Operator is a super user).
pub async fn reconcile(bootstrap: &str, resource_name: &str, spec: &Value) -> anyhow::Result<TopicOutcome> {
    let topic_name = spec.get("topicName").and_then(Value::as_str).unwrap_or(resource_name).to_string();
    let partitions = spec.get("partitions").and_then(Value::as_i64).map(|p| p as i32);
    let replicas = spec.get("replicas").and_then(Value::as_i64).map(|r| r as i32);
    let config: BTreeMap<String, String> = spec
        .get("config")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), config_string(v))).collect())
        .unwrap_or_default();
    let not_ready =
        |reason: &str, message: String| TopicOutcome::NotReady { topic_name: topic_name.clone(), reason: reason.into(), message };

    let client = admin(bootstrap)?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let existing = {
        let md = client.inner().fetch_metadata(Some(&topic_name), Duration::from_secs(30))?;
        md.topics()
            .iter()
            .find(|t| t.name() == topic_name && t.error().is_none())
            .map(|t| (t.partitions().len() as i32, t.partitions().first().map(|p| p.replicas().len() as i32).unwrap_or(0)))
    };
    match existing {
        None => {
            // -1: the broker's num.partitions / default.replication.factor, as the operator does.
            let replication = TopicReplication::Fixed(replicas.unwrap_or(-1));
            let mut new = NewTopic::new(&topic_name, partitions.unwrap_or(-1), replication);
            for (k, v) in &config {
                new = new.set(k, v);
            }
            let results = client.create_topics([&new], &options).await?;
            for r in results {
                if let Err((_, code)) = r {
                    return Ok(not_ready("KafkaError", format!("creating topic {topic_name}: {code}")));
                }
            }
        }
        Some((have_partitions, have_replicas)) => {
            if let Some(want) = partitions {
                if want < have_partitions {
                    return Ok(not_ready(
                        "NotSupported",
                        format!("Decreasing partitions not supported (topic {topic_name} has {have_partitions}, spec asks for {want})"),
                    ));
                }
                if want > have_partitions {
                    let results = client.create_partitions([&NewPartitions::new(&topic_name, want as usize)], &options).await?;
                    for r in results {
                        if let Err((_, code)) = r {
                            return Ok(not_ready("KafkaError", format!("adding partitions to {topic_name}: {code}")));
                        }
                    }
                }
            }
            if let Some(want) = replicas
                && want != have_replicas
            {
                // Without Cruise Control the operator cannot change a replication factor.
                return Ok(not_ready(
                    "NotSupported",
                    format!(
                        "Replication factor change not supported, but required for reconciliation (topic {topic_name}: {have_replicas} -> {want})"
                    ),
                ));
            }
            if !config.is_empty() {
                let mut alter = AlterConfig::new(ResourceSpecifier::Topic(&topic_name));
                for (k, v) in &config {
                    alter = alter.set(k, v);
                }
                let results = client.alter_configs([&alter], &options).await?;
                for r in results {
                    if let Err((_, code)) = r {
                        return Ok(not_ready("KafkaError", format!("altering config of {topic_name}: {code}")));
                    }
                }
            }
        }
    }
    Ok(TopicOutcome::Ready { topic_name })
}
