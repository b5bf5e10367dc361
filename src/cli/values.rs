//! The library's enums as clap values. The library knows no clap: the names and help texts a
//! user types and reads live here, next to the arguments that take them.

use crate::deploy::PropertiesKind;
use crate::dr::failback::Stranded;
use crate::plan::show::PlanFormat;
use crate::profile::{ListenerType, Profile};
use crate::settings::SiteId;
use crate::verify::VerifyFormat;
use clap::ValueEnum;
use clap::builder::PossibleValue;

/// `impl ValueEnum` for a library enum: each variant with the name a user types and its help.
macro_rules! values {
    ($type:ty { $($variant:path => $name:literal $(: $help:literal)?),+ $(,)? }) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($variant => PossibleValue::new($name)$(.help($help))?),+
                })
            }
        }
    };
}

values!(Profile {
    Profile::Legacy => "legacy": "Strimzi 0.45.2: ZooKeeper, kafka.strimzi.io/v1beta2, KafkaMirrorMaker, Kafka 3.9.",
    Profile::Current => "current": "Strimzi 1.2.0: KRaft with KafkaNodePools, kafka.strimzi.io/v1, KafkaMirrorMaker2, Kafka 4.3.",
});

values!(ListenerType {
    ListenerType::Route => "route",
    ListenerType::Loadbalancer => "loadbalancer",
    ListenerType::Nodeport => "nodeport",
    ListenerType::Tlsroute => "tlsroute",
});

values!(SiteId {
    SiteId::A => "a",
    SiteId::B => "b",
});

values!(PlanFormat {
    PlanFormat::Plan => "plan": "One line per step: stage, site, step, kind, namespace/name, action.",
    PlanFormat::Yaml => "yaml": "Every manifest as multi-document YAML in apply order (for kubectl apply -f - / GitOps).",
    PlanFormat::Json => "json": "The steps and objects as JSON.",
});

values!(VerifyFormat {
    VerifyFormat::Table => "table",
    VerifyFormat::Json => "json",
});

values!(PropertiesKind {
    PropertiesKind::Mm2 => "mm2",
    PropertiesKind::Mm1Consumer => "mm1-consumer",
    PropertiesKind::Mm1Producer => "mm1-producer",
});

values!(Stranded {
    Stranded::Discard => "discard": "Recreate the affected topics on site a empty (their records are lost).",
    Stranded::Export => "export": "Write them to a JSON Lines file (--to), then discard them.",
});

#[cfg(test)]
mod tests {
    use super::*;

    /// The names a user types are the names the settings file and reports use.
    #[test]
    fn clap_names_match_the_library_names() {
        for p in Profile::value_variants() {
            assert_eq!(p.to_possible_value().unwrap().get_name(), p.as_str());
        }
        for l in ListenerType::value_variants() {
            assert_eq!(l.to_possible_value().unwrap().get_name(), l.as_str());
        }
        for s in SiteId::value_variants() {
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.as_str());
        }
    }
}
