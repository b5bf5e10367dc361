//! Container images of a site: the operator's own and every operand image its Deployment names
//! (`STRIMZI_*_IMAGE*`), from the profile's upstream defaults, moved to another registry
//! (`images.registry`) or replaced one by one (`images.<name>`), and the syntax of an image
//! reference.
//!
//! Precedence, per image: `images.<name>` as given > `operator.image` (for the operator and the
//! images upstream builds from it: Topic and User Operator, Kafka init) > the upstream default with
//! `quay.io` replaced by `images.registry`.

use crate::profile::Profile;
use crate::settings::Settings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The registry every upstream default image is pulled from.
pub const UPSTREAM_REGISTRY: &str = "quay.io";

/// Every image of one site, resolved. Per-version lists are in the profile's version order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveImages {
    pub operator: String,
    pub topic_operator: String,
    pub user_operator: String,
    pub kafka_init: String,
    pub kafka: Vec<VersionedImage>,
    pub kafka_connect: Vec<VersionedImage>,
    pub kafka_mirror_maker2: Vec<VersionedImage>,
    /// MirrorMaker 1 (legacy only; empty with profile current).
    pub kafka_mirror_maker: Vec<VersionedImage>,
    pub kafka_exporter: String,
    pub cruise_control: String,
    pub kafka_bridge: String,
    pub kaniko_executor: String,
    /// Buildah (profile current only).
    pub buildah: Option<String>,
    pub maven_builder: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionedImage {
    pub version: String,
    pub image: String,
}

fn bridge_version(profile: Profile) -> &'static str {
    match profile {
        Profile::Legacy => "0.31.2",
        Profile::Current => "1.1.0",
    }
}

/// `quay.io/strimzi/<rest>` on the given registry (upstream's when none).
fn upstream(registry: Option<&str>, rest: &str) -> String {
    format!("{}/strimzi/{rest}", registry.unwrap_or(UPSTREAM_REGISTRY).trim_end_matches('/'))
}

impl EffectiveImages {
    pub fn of(settings: &Settings) -> EffectiveImages {
        let profile = settings.profile;
        let strimzi = profile.strimzi_version();
        let i = &settings.images;
        let reg = i.registry.as_deref();
        let given = |v: &Option<String>, default: String| v.clone().unwrap_or(default);
        let operator = settings.operator.image.clone().unwrap_or_else(|| upstream(reg, &format!("operator:{strimzi}")));
        let kafka_default = |version: &str| upstream(reg, &format!("kafka:{strimzi}-kafka-{version}"));
        let kafka: Vec<VersionedImage> = profile
            .supported_kafka_versions()
            .iter()
            .map(|v| VersionedImage { version: v.to_string(), image: i.kafka.get(*v).cloned().unwrap_or_else(|| kafka_default(v)) })
            .collect();
        // Connect and the mirrors run the Kafka image upstream (and in AMQ Streams): they follow it.
        let following = |own: &BTreeMap<String, String>| -> Vec<VersionedImage> {
            kafka
                .iter()
                .map(|k| VersionedImage { version: k.version.clone(), image: own.get(&k.version).cloned().unwrap_or(k.image.clone()) })
                .collect()
        };
        let default_kafka =
            kafka.iter().find(|k| k.version == profile.default_kafka_version()).map(|k| k.image.clone()).unwrap_or_default();
        EffectiveImages {
            topic_operator: given(&i.topic_operator, operator.clone()),
            user_operator: given(&i.user_operator, operator.clone()),
            kafka_init: given(&i.kafka_init, operator.clone()),
            kafka_connect: following(&i.kafka_connect),
            kafka_mirror_maker2: following(&i.kafka_mirror_maker2),
            kafka_mirror_maker: if profile == Profile::Legacy { following(&i.kafka_mirror_maker) } else { Vec::new() },
            kafka_exporter: given(&i.kafka_exporter, default_kafka.clone()),
            cruise_control: given(&i.cruise_control, default_kafka),
            kafka_bridge: given(&i.kafka_bridge, upstream(reg, &format!("kafka-bridge:{}", bridge_version(profile)))),
            kaniko_executor: given(&i.kaniko_executor, upstream(reg, &format!("kaniko-executor:{strimzi}"))),
            buildah: (profile == Profile::Current).then(|| given(&i.buildah, upstream(reg, &format!("buildah:{strimzi}")))),
            maven_builder: given(&i.maven_builder, upstream(reg, &format!("maven-builder:{strimzi}"))),
            kafka,
            operator,
        }
    }

    /// The operator Deployment's image variables in upstream's order, as (name, value).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let list = |images: &[VersionedImage]| images.iter().map(|v| format!("{}={}\n", v.version, v.image)).collect::<String>();
        let mut env = vec![
            ("STRIMZI_DEFAULT_KAFKA_EXPORTER_IMAGE", self.kafka_exporter.clone()),
            ("STRIMZI_DEFAULT_CRUISE_CONTROL_IMAGE", self.cruise_control.clone()),
            ("STRIMZI_KAFKA_IMAGES", list(&self.kafka)),
            ("STRIMZI_KAFKA_CONNECT_IMAGES", list(&self.kafka_connect)),
        ];
        if !self.kafka_mirror_maker.is_empty() {
            env.push(("STRIMZI_KAFKA_MIRROR_MAKER_IMAGES", list(&self.kafka_mirror_maker)));
        }
        env.extend([
            ("STRIMZI_KAFKA_MIRROR_MAKER_2_IMAGES", list(&self.kafka_mirror_maker2)),
            ("STRIMZI_DEFAULT_TOPIC_OPERATOR_IMAGE", self.topic_operator.clone()),
            ("STRIMZI_DEFAULT_USER_OPERATOR_IMAGE", self.user_operator.clone()),
            ("STRIMZI_DEFAULT_KAFKA_INIT_IMAGE", self.kafka_init.clone()),
            ("STRIMZI_DEFAULT_KAFKA_BRIDGE_IMAGE", self.kafka_bridge.clone()),
            ("STRIMZI_DEFAULT_KANIKO_EXECUTOR_IMAGE", self.kaniko_executor.clone()),
        ]);
        if let Some(b) = &self.buildah {
            env.push(("STRIMZI_DEFAULT_BUILDAH_IMAGE", b.clone()));
        }
        env.push(("STRIMZI_DEFAULT_MAVEN_BUILDER", self.maven_builder.clone()));
        env
    }
}

fn reference_regex() -> &'static regex::Regex {
    // The distribution/reference grammar: [domain[:port]/]path[:tag][@digest], path components
    // lower-case alphanumerics joined by '.', '_', '__' or '-'.
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let component = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*";
        let domain = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)";
        let tag = r"[\w][\w.-]{0,127}";
        let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        regex::Regex::new(&format!(r"^(?:{domain}/)?{component}(?:/{component})*(?::{tag})?(?:@{digest})?$")).expect("valid regex")
    })
}

/// Why `reference` is not a pullable image reference, if it is not one.
pub fn check_reference(reference: &str) -> Result<(), String> {
    if reference.is_empty() {
        return Err("it is empty".into());
    }
    if reference.contains("://") {
        return Err("an image reference has no URL scheme".into());
    }
    if reference.len() > 255 + 128 + 80 || !reference_regex().is_match(reference) {
        return Err("it is not an image reference of the form registry[:port]/path/name[:tag][@sha256:digest] (lower-case path)".into());
    }
    Ok(())
}

/// Why `registry` cannot replace `quay.io`, if it cannot: a host (with a dot, a port, or
/// `localhost`), optional port and optional lower-case path, without scheme or tag.
pub fn check_registry(registry: &str) -> Result<(), String> {
    let trimmed = registry.trim_end_matches('/');
    let host = trimmed.split('/').next().unwrap_or("");
    if registry.contains("://") {
        return Err("give the registry without a URL scheme, e.g. mirror.example.com:5000".into());
    }
    if !(host.contains('.') || host.contains(':') || host == "localhost") {
        return Err(format!(
            "{host:?} would be read as a Docker Hub namespace, not a registry host; give a host name with a dot or a port"
        ));
    }
    check_reference(&format!("{trimmed}/strimzi/operator:0"))
        .map_err(|_| "it is not a registry host[:port] with an optional lower-case path, e.g. mirror.example.com:5000/quay".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(profile: Profile) -> Settings {
        Settings { profile, ..Settings::default() }
    }

    #[test]
    fn defaults_are_upstreams_install_file() {
        let i = EffectiveImages::of(&settings(Profile::Current));
        assert_eq!(i.operator, "quay.io/strimzi/operator:1.2.0");
        assert_eq!(i.topic_operator, i.operator);
        assert_eq!(i.kafka_exporter, "quay.io/strimzi/kafka:1.2.0-kafka-4.3.1");
        assert_eq!(i.kafka_bridge, "quay.io/strimzi/kafka-bridge:1.1.0");
        assert_eq!(i.buildah.as_deref(), Some("quay.io/strimzi/buildah:1.2.0"));
        assert!(i.kafka_mirror_maker.is_empty());
        let legacy = EffectiveImages::of(&settings(Profile::Legacy));
        assert_eq!(legacy.kafka_mirror_maker.len(), 5);
        assert_eq!(legacy.buildah, None);
        let names: Vec<&str> = legacy.env().iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"STRIMZI_KAFKA_MIRROR_MAKER_IMAGES") && !names.contains(&"STRIMZI_DEFAULT_BUILDAH_IMAGE"));
    }

    #[test]
    fn registry_moves_every_image_and_overrides_win() {
        let mut s = settings(Profile::Current);
        s.images.registry = Some("mirror.example.com:5000".into());
        let i = EffectiveImages::of(&s);
        for (name, value) in i.env().iter().chain([("operator", i.operator.clone())].iter()) {
            for line in value.lines() {
                let image = line.split_once('=').map(|(_, img)| img).unwrap_or(line);
                assert!(image.starts_with("mirror.example.com:5000/strimzi/"), "{name}: {image}");
            }
        }
        // operator.image moves the images built from it; a per-image value wins over both.
        s.operator.image = Some("registry.redhat.io/amq-streams/strimzi-rhel9-operator:3.0.0".into());
        s.images.user_operator = Some("registry.redhat.io/amq-streams/user-operator:3.0.0".into());
        s.images.kafka.insert("4.3.1".into(), "registry.redhat.io/amq-streams/kafka-43-rhel9:3.0.0".into());
        s.images.kafka_mirror_maker2.insert("4.3.1".into(), "registry.redhat.io/amq-streams/mm2:3.0.0".into());
        let i = EffectiveImages::of(&s);
        assert_eq!(i.operator, "registry.redhat.io/amq-streams/strimzi-rhel9-operator:3.0.0");
        assert_eq!(i.topic_operator, i.operator);
        assert_eq!(i.kafka_init, i.operator);
        assert_eq!(i.user_operator, "registry.redhat.io/amq-streams/user-operator:3.0.0");
        let for_431 = |list: &[VersionedImage]| list.iter().find(|v| v.version == "4.3.1").unwrap().image.clone();
        assert_eq!(for_431(&i.kafka), "registry.redhat.io/amq-streams/kafka-43-rhel9:3.0.0");
        assert_eq!(for_431(&i.kafka_connect), for_431(&i.kafka));
        assert_eq!(for_431(&i.kafka_mirror_maker2), "registry.redhat.io/amq-streams/mm2:3.0.0");
        assert_eq!(i.kafka_exporter, for_431(&i.kafka));
        assert_eq!(i.kafka.iter().find(|v| v.version == "4.2.0").unwrap().image, "mirror.example.com:5000/strimzi/kafka:1.2.0-kafka-4.2.0");
    }

    #[test]
    fn references() {
        for ok in [
            "quay.io/strimzi/kafka:1.2.0-kafka-4.3.1",
            "mirror.example.com:5000/strimzi/operator:1.2.0",
            "localhost:5000/strimzi/kafka@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.redhat.io/amq-streams/strimzi-rhel9-operator:2.9.0-4",
            "busybox",
        ] {
            assert_eq!(check_reference(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "https://quay.io/strimzi/kafka:1",
            "quay.io/Strimzi/kafka:1",
            "quay.io/strimzi/kafka:",
            "quay.io/strimzi/kafka: 1",
            "quay.io//kafka",
        ] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
        assert_eq!(check_registry("mirror.example.com:5000"), Ok(()));
        assert_eq!(check_registry("localhost:5000/quay"), Ok(()));
        assert!(check_registry("mirror").is_err());
        assert!(check_registry("https://mirror.example.com").is_err());
        assert!(check_registry("mirror.example.com/Bad").is_err());
    }
}
