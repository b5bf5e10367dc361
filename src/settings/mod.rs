//! Typed settings of a two-site deployment, merged from defaults < config file < `AMQDR_*`
//! environment < command-line flags. Every value remembers where it came from, so validation
//! errors can say which file, variable or flag to change.

pub mod files;
pub mod images;
mod load;
mod quantity;
pub mod validate;

pub use load::{ENV_OVERRIDES, Origin, Override, SettingsSource, Sources, parse_scalar};
pub use quantity::parse_quantity_bytes;
pub use validate::{Diagnostics, Warning};

use crate::profile::{ListenerType, MirrorKind, Profile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The production site is always `a`, the disaster-recovery site `b`; mirroring runs a → b.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteId {
    A,
    B,
}

impl SiteId {
    pub const ALL: [SiteId; 2] = [SiteId::A, SiteId::B];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteId::A => "a",
            SiteId::B => "b",
        }
    }

    pub fn other(self) -> SiteId {
        match self {
            SiteId::A => SiteId::B,
            SiteId::B => SiteId::A,
        }
    }

    pub fn role(self) -> &'static str {
        match self {
            SiteId::A => "production",
            SiteId::B => "dr",
        }
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// `legacy` (Strimzi 0.45.2, ZooKeeper) or `current` (Strimzi 1.2.0, KRaft).
    pub profile: Profile,
    pub sites: Sites,
    pub operator: OperatorSettings,
    pub images: ImageSettings,
    pub kafka: KafkaSettings,
    pub topic: TopicSettings,
    pub user: UserSettings,
    pub ca: CaSettings,
    pub mirror: MirrorSettings,
    pub health: HealthSettings,
    pub dr: DrSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Sites {
    pub a: SiteSettings,
    pub b: SiteSettings,
}

impl Sites {
    pub fn get(&self, site: SiteId) -> &SiteSettings {
        match site {
            SiteId::A => &self.a,
            SiteId::B => &self.b,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SiteSettings {
    /// kubeconfig context of the site's cluster; empty means the current context.
    pub context: Option<String>,
    pub operator_namespace: String,
    pub kafka_namespace: String,
    pub cluster_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct OperatorSettings {
    pub service_account: String,
    /// Operator image; defaults to the profile's upstream Strimzi image.
    pub image: Option<String>,
    /// Image pull secret file (dockerconfigjson, raw JSON or base64), e.g. for registry.redhat.io.
    pub pull_secret_file: Option<PathBuf>,
    pub resources: Resources,
}

/// Where the operator and operand images come from (see [`crate::settings::images`] for precedence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSettings {
    /// Registry replacing `quay.io` in every upstream image, e.g. a disconnected mirror
    /// (`mirror.example.com:5000`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_init: Option<String>,
    /// Kafka image per Kafka version (`STRIMZI_KAFKA_IMAGES`); Connect and the mirrors follow it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka_connect: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka_mirror_maker2: BTreeMap<String, String>,
    /// MirrorMaker 1 per Kafka version (profile legacy).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka_mirror_maker: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_exporter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cruise_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_bridge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kaniko_executor: Option<String>,
    /// Buildah (profile current).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buildah: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maven_builder: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaSettings {
    /// Kafka version; defaults to the newest the profile's operator supports.
    pub version: Option<String>,
    pub brokers: u32,
    /// ZooKeeper nodes (`legacy` only).
    pub zookeeper: Option<u32>,
    /// KRaft controller nodes (`current` only).
    pub controllers: Option<u32>,
    pub storage: StorageSettings,
    pub listener: ListenerSettings,
    /// `message.max.bytes` of both clusters; the mirror producer's `max.request.size` must match.
    pub message_max_bytes: u64,
    /// `log.retention.bytes`; must stay below the volume size.
    pub retention_bytes: Option<u64>,
    /// Further Kafka broker configuration passed through to `spec.kafka.config`.
    pub config: BTreeMap<String, serde_json::Value>,
    pub resources: KafkaResources,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSettings {
    /// `persistent-claim` or `ephemeral`.
    #[serde(rename = "type")]
    pub kind: StorageKind,
    pub size: String,
    pub class: Option<String>,
    pub delete_claim: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageKind {
    PersistentClaim,
    Ephemeral,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenerSettings {
    #[serde(rename = "type")]
    pub kind: ListenerType,
    /// Bootstrap host name (required for `tlsroute`, optional for `route`).
    pub bootstrap_host: Option<String>,
    /// Per-broker host template, e.g. `broker-{nodeId}.kafka.example.com` (`tlsroute`).
    pub broker_host_template: Option<String>,
    /// Gateway API parent the TLSRoutes attach to (`tlsroute`).
    pub gateway: Option<GatewayRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaResources {
    pub broker: Resources,
    pub zookeeper: Resources,
    pub controller: Resources,
    pub entity_operator: Resources,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    pub requests: ResourceAmounts,
    pub limits: ResourceAmounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceAmounts {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicSettings {
    pub name: String,
    pub partitions: u32,
    pub replicas: u32,
    pub min_insync_replicas: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct UserSettings {
    pub name: String,
    /// File holding the SCRAM password; generated (and kept in the cluster) when absent.
    pub password_file: Option<PathBuf>,
    /// Topics the application may read and write besides `topic.name` and the canary topic
    /// (always granted): literal names, prefixes ending in `*`, or `*`.
    pub topics: Vec<String>,
    /// Consumer groups the application may use: literal names, prefixes ending in `*`, or `*`.
    pub groups: Vec<String>,
}

/// DR operations (`status`, `failover`, `failback`) connect as their own Kafka user, with the
/// rights those operations need (see `acl::operations`); its password is generated and kept in
/// the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DrSettings {
    pub user: String,
    /// File holding its SCRAM password; generated (and kept in the cluster) when absent.
    pub password_file: Option<PathBuf>,
}

impl Default for DrSettings {
    fn default() -> Self {
        DrSettings { user: "amqdr-dr".into(), password_file: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CaSettings {
    /// PEM cluster CA certificate to use instead of generating one (with `keyFile`).
    pub cert_file: Option<PathBuf>,
    /// PEM (PKCS#8) private key of `certFile`.
    pub key_file: Option<PathBuf>,
    pub validity_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MirrorSettings {
    pub enabled: bool,
    /// `KafkaMirrorMaker` (legacy) or `KafkaMirrorMaker2` (current); defaults to the profile's.
    pub kind: Option<MirrorKind>,
    pub name: String,
    pub replicas: u32,
    /// Consumer group of MirrorMaker 1; defaults to `<name>-group-id` as in the seed.
    pub group_id: Option<String>,
    /// Topics to mirror (Java regular expression): what DR protects.
    pub include: String,
    /// Topics left out although `include` matches them (regular expressions); the mirror's own
    /// topics are always left out.
    pub exclude: Vec<String>,
    /// Consumer groups whose offsets are synced to DR (MirrorMaker 2).
    pub groups_pattern: String,
    /// Producer `max.request.size`; defaults to `kafka.messageMaxBytes`.
    pub max_request_size: Option<u64>,
    /// Source bootstrap address; discovered from site a when absent.
    pub source_bootstrap: Option<String>,
    /// File holding the mirror user's SCRAM password; generated (and kept in the cluster) when absent.
    pub password_file: Option<PathBuf>,
    /// Checkpoint and consumer-group offset sync interval of MirrorMaker 2.
    pub sync_interval_seconds: u32,
    pub resources: Resources,
}

/// `amqdr serve`: the health endpoint a global traffic manager monitors and the DR metrics, with
/// the canary topic it probes (created by `install` on both sites and always mirrored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthSettings {
    /// Deploy `amqdr serve` in each site (the `health` stage); needs `image`.
    pub enabled: bool,
    /// Container image with the amqdr binary (see the Containerfile).
    pub image: Option<String>,
    /// Topic of the canary records (one partition per broker, on both sites, mirrored).
    pub canary_topic: String,
    /// Seconds between probe rounds.
    pub interval_seconds: u32,
    /// Seconds a probe round may take (canary acknowledged and consumed back).
    pub probe_timeout_seconds: u32,
    /// Consecutive failed rounds before the site is DOWN.
    pub fail_after: u32,
    /// Consecutive successful rounds before a DOWN site is UP again.
    pub recover_after: u32,
    /// Port of the HTTP endpoint (`/health`, `/metrics`, `/livez`, `/readyz`).
    pub port: u16,
    pub resources: Resources,
}

fn res(req_cpu: &str, req_mem: &str, lim_cpu: &str, lim_mem: &str) -> Resources {
    Resources {
        requests: ResourceAmounts { cpu: Some(req_cpu.into()), memory: Some(req_mem.into()) },
        limits: ResourceAmounts { cpu: Some(lim_cpu.into()), memory: Some(lim_mem.into()) },
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            profile: Profile::Current,
            sites: Sites::default(),
            operator: OperatorSettings::default(),
            images: ImageSettings::default(),
            kafka: KafkaSettings::default(),
            topic: TopicSettings::default(),
            user: UserSettings::default(),
            ca: CaSettings::default(),
            mirror: MirrorSettings::default(),
            health: HealthSettings::default(),
            dr: DrSettings::default(),
        }
    }
}

impl Default for Sites {
    fn default() -> Self {
        Sites {
            a: SiteSettings {
                context: None,
                operator_namespace: "amq-operator-a".into(),
                kafka_namespace: "datacenter-a".into(),
                cluster_name: "my-cluster".into(),
            },
            b: SiteSettings {
                context: None,
                operator_namespace: "amq-operator-b".into(),
                kafka_namespace: "datacenter-b".into(),
                cluster_name: "my-second-cluster".into(),
            },
        }
    }
}

impl Default for SiteSettings {
    fn default() -> Self {
        Sites::default().a
    }
}

impl Default for OperatorSettings {
    fn default() -> Self {
        OperatorSettings {
            service_account: "strimzi-cluster-operator".into(),
            image: None,
            pull_secret_file: None,
            resources: res("200m", "384Mi", "1000m", "384Mi"),
        }
    }
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            version: None,
            brokers: 3,
            zookeeper: None,
            controllers: None,
            storage: StorageSettings::default(),
            listener: ListenerSettings::default(),
            // Room for the seed's largest record (1048000 B) plus batch overhead.
            message_max_bytes: 1_048_588,
            retention_bytes: None,
            config: BTreeMap::new(),
            resources: KafkaResources::default(),
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings { kind: StorageKind::PersistentClaim, size: "10Gi".into(), class: None, delete_claim: false }
    }
}

impl Default for ListenerSettings {
    fn default() -> Self {
        ListenerSettings { kind: ListenerType::Route, bootstrap_host: None, broker_host_template: None, gateway: None }
    }
}

impl Default for KafkaResources {
    fn default() -> Self {
        // Limits of the seed's performance section; requests of its cluster template.
        KafkaResources {
            broker: res("500m", "512Mi", "750m", "2Gi"),
            zookeeper: res("200m", "512Mi", "500m", "2Gi"),
            controller: res("200m", "512Mi", "500m", "2Gi"),
            entity_operator: res("200m", "512Mi", "500m", "2Gi"),
        }
    }
}

impl Default for TopicSettings {
    fn default() -> Self {
        TopicSettings { name: "my-topic".into(), partitions: 3, replicas: 3, min_insync_replicas: 2 }
    }
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            name: "my-user".into(),
            password_file: None,
            topics: Vec::new(),
            // amqdr's own clients (verify, serve) and the seed's console consumer.
            groups: vec!["amqdr-*".into(), "console-consumer-*".into()],
        }
    }
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings { cert_file: None, key_file: None, validity_days: 3650 }
    }
}

/// MirrorMaker 2's `DefaultTopicFilter` `topics.exclude`: internal topics of Kafka, Connect and
/// MirrorMaker, replicas of Kafka Streams, and anything that starts with `__`.
pub const DEFAULT_TOPICS_EXCLUDE: [&str; 3] = [r".*[\-\.]internal", r".*\.replica", "__.*"];

impl Default for MirrorSettings {
    fn default() -> Self {
        MirrorSettings {
            enabled: true,
            kind: None,
            name: "my-mirrormaker".into(),
            replicas: 3,
            group_id: None,
            include: ".*".into(),
            exclude: DEFAULT_TOPICS_EXCLUDE.iter().map(|p| p.to_string()).collect(),
            groups_pattern: ".*".into(),
            max_request_size: None,
            source_bootstrap: None,
            password_file: None,
            sync_interval_seconds: 10,
            resources: res("250m", "1Gi", "500m", "2Gi"),
        }
    }
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            enabled: false,
            image: None,
            canary_topic: "amqdr-canary".into(),
            interval_seconds: 5,
            probe_timeout_seconds: 5,
            fail_after: 3,
            recover_after: 2,
            port: 8080,
            resources: res("20m", "64Mi", "200m", "128Mi"),
        }
    }
}

impl Settings {
    pub fn site(&self, site: SiteId) -> &SiteSettings {
        self.sites.get(site)
    }

    pub fn kafka_version(&self) -> &str {
        self.kafka.version.as_deref().unwrap_or(self.profile.default_kafka_version())
    }

    /// Every image of the operator Deployment, resolved from `operator.image` and `images`.
    pub fn images(&self) -> crate::settings::images::EffectiveImages {
        crate::settings::images::EffectiveImages::of(self)
    }

    pub fn mirror_kind(&self) -> MirrorKind {
        self.mirror.kind.unwrap_or(self.profile.mirror_kind())
    }

    pub fn mirror_group_id(&self) -> String {
        self.mirror.group_id.clone().unwrap_or_else(|| format!("{}-group-id", self.mirror.name))
    }

    pub fn mirror_max_request_size(&self) -> u64 {
        self.mirror.max_request_size.unwrap_or(self.kafka.message_max_bytes)
    }

    /// The canary topic of `amqdr serve`: DR operations skip it (it is not client data).
    pub fn canary_topic(&self) -> &str {
        &self.health.canary_topic
    }

    /// The mirror's topic pattern: `mirror.include`, widened to carry the canary topic when it
    /// does not already (so `serve` can measure the RPO whatever the user mirrors).
    pub fn mirror_include(&self) -> String {
        let include = &self.mirror.include;
        let canary = self.canary_topic();
        let covered = regex::Regex::new(&format!("^(?:{include})$")).map(|r| r.is_match(canary)).unwrap_or(false);
        if covered { include.clone() } else { format!("{include}|{}", regex::escape(canary)) }
    }

    /// Every exclusion of the mirror as a list of regular expressions: `mirror.exclude`, then the
    /// mirror's own Connect topics (escaped; a reverse mirror's worker keeps topics of the same
    /// names on production).
    pub fn mirror_exclusions(&self) -> Vec<String> {
        let mut out = self.mirror.exclude.clone();
        for t in crate::mirror::connect_topics(&self.mirror.name) {
            let escaped = regex::escape(&t);
            if !out.contains(&escaped) {
                out.push(escaped);
            }
        }
        out
    }

    /// The topics the mirror copies (what DR protects); `extra_excludes` are names left out
    /// besides (e.g. the canary topic for DR operations, which is mirrored but is no client data).
    pub fn mirror_scope(&self, extra_excludes: &[&str]) -> anyhow::Result<crate::scope::Scope> {
        let mut exclude = self.mirror_exclusions();
        exclude.push(regex::escape(&crate::mirror::offset_syncs_topic()));
        exclude.push(regex::escape(&crate::mirror::checkpoints_topic()));
        exclude.extend(extra_excludes.iter().map(|t| regex::escape(t)));
        crate::scope::Scope::new(&self.mirror_include(), &exclude)
    }

    pub fn zookeeper_replicas(&self) -> u32 {
        self.kafka.zookeeper.unwrap_or(3)
    }

    pub fn controller_replicas(&self) -> u32 {
        self.kafka.controllers.unwrap_or(3)
    }

    /// Both sites in one Kubernetes cluster (the seed's layout: two namespace pairs).
    pub fn one_cluster(&self) -> bool {
        self.sites.a.context == self.sites.b.context
    }

    /// Fill in profile-dependent defaults so `--print-config` shows what will be used.
    pub fn with_effective_defaults(&self) -> Settings {
        let mut s = self.clone();
        s.kafka.version = Some(self.kafka_version().to_string());
        let images = self.images();
        s.operator.image = Some(images.operator.clone());
        let by_version =
            |list: &[crate::settings::images::VersionedImage]| list.iter().map(|v| (v.version.clone(), v.image.clone())).collect();
        s.images = ImageSettings {
            registry: Some(self.images.registry.clone().unwrap_or_else(|| crate::settings::images::UPSTREAM_REGISTRY.into())),
            topic_operator: Some(images.topic_operator),
            user_operator: Some(images.user_operator),
            kafka_init: Some(images.kafka_init),
            kafka: by_version(&images.kafka),
            kafka_connect: by_version(&images.kafka_connect),
            kafka_mirror_maker2: by_version(&images.kafka_mirror_maker2),
            kafka_mirror_maker: by_version(&images.kafka_mirror_maker),
            kafka_exporter: Some(images.kafka_exporter),
            cruise_control: Some(images.cruise_control),
            kafka_bridge: Some(images.kafka_bridge),
            kaniko_executor: Some(images.kaniko_executor),
            buildah: images.buildah,
            maven_builder: Some(images.maven_builder),
        };
        s.mirror.kind = Some(self.mirror_kind());
        s.mirror.group_id = Some(self.mirror_group_id());
        s.mirror.max_request_size = Some(self.mirror_max_request_size());
        if self.profile.uses_zookeeper() {
            s.kafka.zookeeper = Some(self.zookeeper_replicas());
        } else {
            s.kafka.controllers = Some(self.controller_replicas());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{AclScope, NamePattern};

    #[test]
    fn scope_follows_include_and_exclude() {
        let s = Settings::default();
        let scope = s.mirror_scope(&[]).unwrap();
        for covered in ["my-topic", "orders", "amqdr-canary"] {
            assert!(scope.covers(covered), "{covered}");
        }
        for left_out in ["__consumer_offsets", "my-mirrormaker-offsets", "source.checkpoints.internal", "x.replica", "a-internal"] {
            assert!(!scope.covers(left_out), "{left_out}");
        }
        let mut narrow = Settings::default();
        narrow.mirror.include = r"my-topic|orders\..*".into();
        narrow.mirror.exclude.push(r"orders\.tmp".into());
        let scope = narrow.mirror_scope(&["amqdr-canary"]).unwrap();
        assert!(scope.covers("orders.eu") && !scope.covers("orders.tmp") && !scope.covers("payments"));
        assert!(!scope.covers("amqdr-canary"));
        assert_eq!(
            scope.acl_patterns(),
            AclScope::Exact(vec![
                NamePattern::Literal("my-topic".into()),
                NamePattern::Prefix("orders.".into()),
                NamePattern::Literal("amqdr-canary".into())
            ])
        );
    }
}
