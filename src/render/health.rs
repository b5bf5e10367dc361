//! The deployed health endpoint (`amqdr serve` in each site): its objects' name and the command
//! line it runs with, rendered here so `serve` and the rendering agree on one definition.

use crate::settings::{Settings, SiteId};

/// Name of the deployed `serve` objects (ServiceAccount, Role, Deployment, Service, Route).
pub const HEALTH_NAME: &str = "amqdr-health";

/// Settings `serve` reads, passed to the deployed process when they differ from the defaults.
fn served_settings(site: SiteId) -> Vec<String> {
    let mut paths = vec![format!("sites.{site}.kafkaNamespace"), format!("sites.{site}.clusterName")];
    for p in [
        "user.name",
        "mirror.name",
        "mirror.kind",
        "mirror.groupId",
        "mirror.include",
        "mirror.exclude",
        "mirror.groupsPattern",
        "health.canaryTopic",
        "health.intervalSeconds",
        "health.probeTimeoutSeconds",
        "health.failAfter",
        "health.recoverAfter",
        "health.port",
    ] {
        paths.push(p.into());
    }
    paths
}

/// The command line of the deployed `serve` of `site` (after the binary): its site, the
/// profile, the settings it reads that differ from the defaults, and the peer's bootstrap
/// (site a's from `mirror.sourceBootstrap`, otherwise discovered at install time). The CA, user
/// password, own bootstrap and DR role come from the cluster, through the pod's ServiceAccount.
pub fn deployment_args(settings: &Settings, site: SiteId) -> Vec<String> {
    let mut args: Vec<String> =
        vec!["serve".into(), "--site".into(), site.as_str().into(), "--profile".into(), settings.profile.as_str().into()];
    let ours = serde_json::to_value(settings).expect("settings serialize");
    let defaults = serde_json::to_value(Settings::default()).expect("settings serialize");
    for path in served_settings(site) {
        let pointer = format!("/{}", path.replace('.', "/"));
        let value = ours.pointer(&pointer).cloned().unwrap_or_default();
        if value.is_null() || defaults.pointer(&pointer) == Some(&value) {
            continue;
        }
        let raw = match &value {
            serde_json::Value::String(text) if crate::settings::parse_scalar(text) == value => text.clone(),
            other => other.to_string(),
        };
        args.push("--set".into());
        args.push(format!("{path}={raw}"));
    }
    let peer = site.other();
    let peer_bootstrap = match (peer, &settings.mirror.source_bootstrap) {
        (SiteId::A, Some(known)) => known.clone(),
        _ => super::discovered_bootstrap(peer),
    };
    args.push("--peer-bootstrap".into());
    args.push(peer_bootstrap);
    args
}
