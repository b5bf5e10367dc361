//! Flags shared by every command that reads the deployment settings.

use crate::profile::{ListenerType, Profile};
use crate::settings::Sources;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Settings (defaults < --config file < AMQDR_* environment < flags)")]
pub struct SettingsArgs {
    /// Settings file (YAML, like a Helm values file); see `amqdr render --print-config`.
    #[arg(long, short = 'c', env = "AMQDR_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Operator generation: legacy = Strimzi 0.45.2 (ZooKeeper), current = Strimzi 1.2.0 (KRaft). [env: AMQDR_PROFILE]
    #[arg(long, value_enum, global = true)]
    pub profile: Option<Profile>,

    /// Kube context of site a (production). [env: AMQDR_CONTEXT_A]
    #[arg(long, value_name = "CONTEXT", global = true)]
    pub context_a: Option<String>,

    /// Kube context of site b (DR); the same as site a means one cluster with two namespace pairs. [env: AMQDR_CONTEXT_B]
    #[arg(long, value_name = "CONTEXT", global = true)]
    pub context_b: Option<String>,

    /// External listener type of both clusters. [env: AMQDR_LISTENER]
    #[arg(long, value_enum, global = true)]
    pub listener: Option<ListenerType>,

    /// Number of Kafka brokers per site.
    #[arg(long, value_name = "N", global = true)]
    pub brokers: Option<u32>,

    /// Image pull secret (dockerconfigjson, raw or base64) for the operator images. [env: AMQDR_PULL_SECRET]
    #[arg(long, value_name = "FILE", global = true)]
    pub pull_secret: Option<PathBuf>,

    /// Registry replacing quay.io in every operator and operand image (a disconnected mirror), e.g. mirror.example.com:5000. [env: AMQDR_IMAGE_REGISTRY]
    #[arg(long, value_name = "HOST[:PORT][/PATH]", global = true)]
    pub image_registry: Option<String>,

    /// Cluster CA certificate (PEM) to use instead of generating one; needs --ca-key. [env: AMQDR_CA_CERT]
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_cert: Option<PathBuf>,

    /// Private key (PKCS#8 PEM) of --ca-cert. [env: AMQDR_CA_KEY]
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_key: Option<PathBuf>,

    /// SCRAM password of the Kafka user (first line of FILE); generated when absent. [env: AMQDR_PASSWORD_FILE]
    #[arg(long, value_name = "FILE", global = true)]
    pub password_file: Option<PathBuf>,

    /// Set any setting by its path, e.g. --set kafka.storage.size=100Gi (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE", global = true)]
    pub set: Vec<String>,
}

impl SettingsArgs {
    /// The layered sources: the environment (AMQDR_*), then these flags on top.
    pub fn sources(&self) -> Result<Sources, crate::error::UsageError> {
        let mut sources = Sources { config_file: self.config.clone(), overrides: Vec::new() }.with_env(|v| std::env::var(v).ok());
        let path_of = |p: &PathBuf| p.display().to_string();
        if let Some(p) = self.profile {
            sources.flag("--profile", "profile", p.as_str());
        }
        if let Some(c) = &self.context_a {
            sources.flag("--context-a", "sites.a.context", c.clone());
        }
        if let Some(c) = &self.context_b {
            sources.flag("--context-b", "sites.b.context", c.clone());
        }
        if let Some(l) = self.listener {
            sources.flag("--listener", "kafka.listener.type", l.as_str());
        }
        if let Some(n) = self.brokers {
            sources.flag("--brokers", "kafka.brokers", n.to_string());
        }
        if let Some(p) = &self.pull_secret {
            sources.flag("--pull-secret", "operator.pullSecretFile", path_of(p));
        }
        if let Some(r) = &self.image_registry {
            sources.flag("--image-registry", "images.registry", r.clone());
        }
        if let Some(p) = &self.ca_cert {
            sources.flag("--ca-cert", "ca.certFile", path_of(p));
        }
        if let Some(p) = &self.ca_key {
            sources.flag("--ca-key", "ca.keyFile", path_of(p));
        }
        if let Some(p) = &self.password_file {
            sources.flag("--password-file", "user.passwordFile", path_of(p));
        }
        for s in &self.set {
            let (path, value) = s.split_once('=').ok_or_else(|| {
                crate::error::UsageError::new(format!("--set {s}: expected PATH=VALUE")).with_hint("write e.g. --set kafka.brokers=5")
            })?;
            sources.flag(&format!("--set {path}"), path.trim(), value.to_string());
        }
        Ok(sources)
    }
}
