//! The two supported Strimzi operator generations and the facts that differ between them.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Strimzi 0.45.2: ZooKeeper, kafka.strimzi.io/v1beta2, KafkaMirrorMaker, Kafka 3.9.
    Legacy,
    /// Strimzi 1.2.0: KRaft with KafkaNodePools, kafka.strimzi.io/v1, KafkaMirrorMaker2, Kafka 4.3.
    #[default]
    Current,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MirrorKind {
    KafkaMirrorMaker,
    KafkaMirrorMaker2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerType {
    Route,
    Loadbalancer,
    Nodeport,
    Tlsroute,
}

impl ListenerType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerType::Route => "route",
            ListenerType::Loadbalancer => "loadbalancer",
            ListenerType::Nodeport => "nodeport",
            ListenerType::Tlsroute => "tlsroute",
        }
    }
}

impl fmt::Display for ListenerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Legacy => "legacy",
            Profile::Current => "current",
        }
    }

    pub fn strimzi_version(self) -> &'static str {
        match self {
            Profile::Legacy => "0.45.2",
            Profile::Current => "1.2.0",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Profile::Legacy => "kafka.strimzi.io/v1beta2",
            Profile::Current => "kafka.strimzi.io/v1",
        }
    }

    pub fn default_kafka_version(self) -> &'static str {
        match self {
            Profile::Legacy => "3.9.2",
            Profile::Current => "4.3.1",
        }
    }

    /// Kafka versions the profile's operator ships images for (its STRIMZI_KAFKA_IMAGES).
    pub fn supported_kafka_versions(self) -> &'static [&'static str] {
        match self {
            Profile::Legacy => &["3.8.0", "3.8.1", "3.9.0", "3.9.1", "3.9.2"],
            Profile::Current => &["4.2.0", "4.2.1", "4.3.0", "4.3.1"],
        }
    }

    pub fn mirror_kind(self) -> MirrorKind {
        match self {
            Profile::Legacy => MirrorKind::KafkaMirrorMaker,
            Profile::Current => MirrorKind::KafkaMirrorMaker2,
        }
    }

    pub fn listener_types(self) -> &'static [ListenerType] {
        match self {
            Profile::Legacy => &[ListenerType::Route, ListenerType::Loadbalancer, ListenerType::Nodeport],
            Profile::Current => &[ListenerType::Route, ListenerType::Loadbalancer, ListenerType::Nodeport, ListenerType::Tlsroute],
        }
    }

    pub fn uses_zookeeper(self) -> bool {
        self == Profile::Legacy
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl MirrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorKind::KafkaMirrorMaker => "KafkaMirrorMaker",
            MirrorKind::KafkaMirrorMaker2 => "KafkaMirrorMaker2",
        }
    }
}
