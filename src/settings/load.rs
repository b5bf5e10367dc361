//! Layered loading: defaults < config file < `AMQDR_*` environment < flags, with provenance.

use super::Settings;
use crate::error::UsageError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "config file {}", p.display()),
            Origin::Env(v) => write!(f, "environment variable {v}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// One value for a dotted settings path (`kafka.brokers`), as given on the command line or in
/// the environment. The raw text is read as a YAML scalar, so `3` is a number and `true` a bool.
#[derive(Debug, Clone)]
pub struct Override {
    pub path: String,
    pub raw: String,
    pub origin: Origin,
}

/// Environment variables that set a settings path, in the order they are applied.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("AMQDR_PROFILE", "profile"),
    ("AMQDR_CONTEXT_A", "sites.a.context"),
    ("AMQDR_CONTEXT_B", "sites.b.context"),
    ("AMQDR_LISTENER", "kafka.listener.type"),
    ("AMQDR_PULL_SECRET", "operator.pullSecretFile"),
    ("AMQDR_IMAGE_REGISTRY", "images.registry"),
    ("AMQDR_CA_CERT", "ca.certFile"),
    ("AMQDR_CA_KEY", "ca.keyFile"),
    ("AMQDR_PASSWORD_FILE", "user.passwordFile"),
];

/// What the settings are built from; the CLI fills it, tests build it directly.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config_file: Option<PathBuf>,
    /// Overrides in increasing precedence (environment first, then flags).
    pub overrides: Vec<Override>,
}

impl Sources {
    /// Add the `AMQDR_*` environment overrides read through `lookup` (std::env::var in the CLI).
    pub fn with_env(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let env: Vec<Override> = ENV_OVERRIDES
            .iter()
            .filter_map(|(var, path)| {
                lookup(var).filter(|v| !v.is_empty()).map(|raw| Override {
                    path: (*path).to_string(),
                    raw,
                    origin: Origin::Env((*var).to_string()),
                })
            })
            .collect();
        self.overrides.splice(0..0, env);
        self
    }

    pub fn flag(&mut self, flag: &str, path: &str, raw: impl Into<String>) {
        self.overrides.push(Override { path: path.into(), raw: raw.into(), origin: Origin::Flag(flag.into()) });
    }
}

/// The merged settings plus the origin of every value that was not a default.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    pub settings: Settings,
    origins: BTreeMap<String, Origin>,
}

impl SettingsSource {
    pub fn load(sources: &Sources) -> Result<Self, UsageError> {
        let mut tree = serde_json::to_value(Settings::default()).expect("default settings serialize");
        let mut origins = BTreeMap::new();

        if let Some(path) = &sources.config_file {
            let file_value = read_config_file(path)?;
            // Parse the file alone first so an unknown key is blamed on the file.
            parse_tree(file_value.clone(), &Origin::File(path.clone()))?;
            record_leaves(&file_value, "", &Origin::File(path.clone()), &mut origins);
            merge(&mut tree, file_value);
        }
        for o in &sources.overrides {
            let value = parse_scalar(&o.raw);
            set_path(&mut tree, &o.path, value).map_err(|msg| {
                UsageError::new(format!("{}: {msg}", o.origin)).with_hint("see `amqdr render --print-config` for the settings paths")
            })?;
            origins.insert(o.path.clone(), o.origin.clone());
        }
        let settings = parse_tree(tree, &Origin::Default).map_err(|e| {
            // A type error in a merged value: name who set it.
            match &e.field {
                Some(field) => {
                    let origin = origin_for(&origins, field);
                    UsageError::new(format!("{field}: {} (set by {origin})", e.message)).with_hint_opt(e.hint.clone())
                }
                None => e,
            }
        })?;
        Ok(SettingsSource { settings, origins })
    }

    pub fn defaults() -> Self {
        SettingsSource { settings: Settings::default(), origins: BTreeMap::new() }
    }

    /// Where the value at `path` (dotted, camelCase) came from.
    pub fn origin(&self, path: &str) -> Origin {
        origin_for(&self.origins, path)
    }
}

fn origin_for(origins: &BTreeMap<String, Origin>, path: &str) -> Origin {
    if let Some(o) = origins.get(path) {
        return o.clone();
    }
    // A parent set as a whole (`--set kafka.listener={...}`) or a child set inside a map.
    let mut prefix = path;
    while let Some(idx) = prefix.rfind('.') {
        prefix = &prefix[..idx];
        if let Some(o) = origins.get(prefix) {
            return o.clone();
        }
    }
    let child_prefix = format!("{path}.");
    origins.iter().find(|(k, _)| k.starts_with(&child_prefix)).map(|(_, o)| o.clone()).unwrap_or(Origin::Default)
}

fn read_config_file(path: &Path) -> Result<Value, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(format!("cannot read config file {}: {e}", path.display()))
            .with_hint("pass an existing YAML file with --config, or drop the flag to use defaults")
    })?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value =
        serde_saphyr::from_str(&text).map_err(|e| UsageError::new(format!("config file {} is not valid YAML: {e}", path.display())))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Default::default())),
        _ => Err(UsageError::new(format!("config file {} must be a YAML mapping at the top level", path.display()))),
    }
}

fn parse_tree(tree: Value, origin: &Origin) -> Result<Settings, UsageError> {
    serde_path_to_error::deserialize::<_, Settings>(tree).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner().to_string();
        let hint = if inner.contains("unknown field") {
            Some("remove the key or fix its spelling; `amqdr render --print-config` lists every key".to_string())
        } else if inner.contains("unknown variant") {
            Some("use one of the listed values".to_string())
        } else {
            None
        };
        let message = match origin {
            Origin::Default => inner,
            o => format!("{inner} (in {o})"),
        };
        let mut e = UsageError::new(message).with_hint_opt(hint);
        e.field = Some(if field == "." { String::new() } else { field });
        e
    })
}

/// A `--set`/environment value read as a YAML scalar (`3` a number, `true` a bool, else text).
pub fn parse_scalar(raw: &str) -> Value {
    match serde_saphyr::from_str::<Value>(raw) {
        Ok(Value::Null) if !raw.trim().is_empty() && raw.trim() != "null" && raw.trim() != "~" => Value::String(raw.into()),
        Ok(v) => v,
        Err(_) => Value::String(raw.into()),
    }
}

fn record_leaves(value: &Value, prefix: &str, origin: &Origin, out: &mut BTreeMap<String, Origin>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                record_leaves(v, &path, origin, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), origin.clone());
        }
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn set_path(tree: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty settings path".into());
    }
    let mut node = tree;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let map = match node {
            Value::Object(map) => map,
            Value::Null => {
                *node = Value::Object(Default::default());
                node.as_object_mut().expect("just set")
            }
            _ => return Err(format!("`{}` is not a section, so `{path}` cannot be set", parts[..i].join("."))),
        };
        if last {
            map.insert((*part).to_string(), value);
            return Ok(());
        }
        node = map.entry((*part).to_string()).or_insert(Value::Null);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ListenerType, Profile};
    use std::io::Write;

    fn load(file: Option<&str>, overrides: &[(&str, &str, Origin)]) -> Result<SettingsSource, UsageError> {
        let tmp = file.map(|text| {
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f
        });
        let sources = Sources {
            config_file: tmp.as_ref().map(|f| f.path().to_path_buf()),
            overrides: overrides.iter().map(|(p, r, o)| Override { path: p.to_string(), raw: r.to_string(), origin: o.clone() }).collect(),
        };
        SettingsSource::load(&sources)
    }

    #[test]
    fn defaults_reproduce_the_seed() {
        let s = load(None, &[]).unwrap().settings;
        assert_eq!(s.profile, Profile::Current);
        assert_eq!(s.sites.a.kafka_namespace, "datacenter-a");
        assert_eq!(s.sites.b.cluster_name, "my-second-cluster");
        assert_eq!(s.kafka.brokers, 3);
        assert_eq!(s.topic.name, "my-topic");
        assert_eq!(s.mirror_group_id(), "my-mirrormaker-group-id");
        assert_eq!(s.kafka.listener.kind, ListenerType::Route);
    }

    #[test]
    fn file_then_env_then_flag() {
        let src = load(
            Some("profile: legacy\nkafka:\n  brokers: 5\ntopic:\n  partitions: 6\n"),
            &[("kafka.brokers", "4", Origin::Env("AMQDR_X".into())), ("kafka.brokers", "7", Origin::Flag("--brokers".into()))],
        )
        .unwrap();
        assert_eq!(src.settings.profile, Profile::Legacy);
        assert_eq!(src.settings.kafka.brokers, 7);
        assert_eq!(src.settings.topic.partitions, 6);
        assert_eq!(src.origin("kafka.brokers"), Origin::Flag("--brokers".into()));
        assert!(matches!(src.origin("topic.partitions"), Origin::File(_)));
        assert_eq!(src.origin("topic.name"), Origin::Default);
    }

    #[test]
    fn unknown_key_in_file_names_the_key_and_the_file() {
        let err = load(Some("kafka:\n  brokerz: 3\n"), &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("brokerz"), "{text}");
        assert!(text.contains("kafka"), "{text}");
        assert!(text.contains("config file"), "{text}");
    }

    #[test]
    fn wrong_type_from_flag_names_the_flag() {
        let err = load(None, &[("kafka.brokers", "many", Origin::Flag("--set kafka.brokers".into()))]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("kafka.brokers"), "{text}");
        assert!(text.contains("--set kafka.brokers"), "{text}");
    }

    #[test]
    fn env_overrides_are_read_through_lookup() {
        let sources = Sources::default().with_env(|v| (v == "AMQDR_PROFILE").then(|| "legacy".to_string()));
        let src = SettingsSource::load(&sources).unwrap();
        assert_eq!(src.settings.profile, Profile::Legacy);
        assert_eq!(src.origin("profile"), Origin::Env("AMQDR_PROFILE".into()));
    }

    #[test]
    fn scalars_keep_their_types() {
        assert_eq!(parse_scalar("3"), Value::from(3));
        assert_eq!(parse_scalar("true"), Value::from(true));
        assert_eq!(parse_scalar("my-topic"), Value::from("my-topic"));
        assert_eq!(parse_scalar(".*"), Value::from(".*"));
    }
}
