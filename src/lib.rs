//! amqdr: two-site Apache Kafka disaster recovery on Kubernetes/OpenShift with Strimzi.

pub mod acl;
pub mod assets;
pub mod certs;
pub mod cli;
pub mod deploy;
pub mod dr;
pub mod duration;
pub mod error;
pub mod kafka;
pub mod kube;
pub mod logging;
pub mod material;
pub mod mirror;
pub mod output;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod record;
pub mod render;
pub mod scope;
pub mod serve;
pub mod settings;
pub mod strimzi_rules;
pub mod truststore;
pub mod verify;
