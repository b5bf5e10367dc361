//! Where the DR record lives: the ConfigMap `amqdr-dr-state` in each site's Kafka namespace,
//! written with server-side apply and guarded by its resourceVersion.

use super::{Roles, STATE_CONFIGMAP, SiteRecord, SiteState};
use crate::kube::apply;
use crate::kube::client::{Cluster, ClusterCache, Clusters};
use crate::kube::object::{MANAGED_BY, MANAGED_BY_LABEL, PROFILE_LABEL, SITE_LABEL};
use crate::settings::{Settings, SiteId};
use anyhow::{Result, anyhow};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use std::collections::BTreeMap;

/// A site's record as its cluster holds it.
pub async fn read(cluster: &Cluster, settings: &Settings, site: SiteId) -> SiteRecord {
    let ns = &settings.site(site).kafka_namespace;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), ns);
    match api.get_opt(STATE_CONFIGMAP).await {
        Err(e) => SiteRecord::Unreachable { reason: format!("reading ConfigMap {ns}/{STATE_CONFIGMAP}: {e}") },
        Ok(None) => SiteRecord::Missing,
        Ok(Some(cm)) => match SiteState::from_data(&cm.data.unwrap_or_default()) {
            Ok(state) => SiteRecord::Present { state: Box::new(state), resource_version: cm.metadata.resource_version },
            Err(e) => SiteRecord::Invalid { reason: format!("{e:#}") },
        },
    }
}

/// The DR state ConfigMap of a site, as applied.
pub fn configmap(settings: &Settings, site: SiteId, state: &SiteState) -> ConfigMap {
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (SITE_LABEL.to_string(), site.as_str().to_string()),
        (PROFILE_LABEL.to_string(), settings.profile.as_str().to_string()),
    ]);
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(STATE_CONFIGMAP.into()),
            namespace: Some(settings.site(site).kafka_namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        data: Some(state.to_data()),
        ..Default::default()
    }
}

/// Write a site's record; fails when `expected` (the resourceVersion read before) is stale.
pub async fn write(cluster: &Cluster, settings: &Settings, site: SiteId, state: &SiteState, expected: Option<&str>) -> Result<()> {
    let mut cm = configmap(settings, site, state);
    cm.metadata.resource_version = expected.map(str::to_string);
    let ns = settings.site(site).kafka_namespace.clone();
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &ns);
    let pp = PatchParams::apply(apply::FIELD_MANAGER).force();
    api.patch(STATE_CONFIGMAP, &pp, &Patch::Apply(&cm)).await.map_err(|e| match e {
        kube::Error::Api(s) if s.is_conflict() => anyhow!(
            "ConfigMap {ns}/{STATE_CONFIGMAP} changed while this operation ran (another amqdr?)\n  fix: check `amqdr status`, then re-run"
        ),
        other => anyhow::Error::new(other).context(format!("writing ConfigMap {ns}/{STATE_CONFIGMAP} on site {site}")),
    })?;
    Ok(())
}

/// The roles as `install` sees them (both clusters reachable).
pub async fn roles_for_install(clusters: &Clusters, settings: &Settings) -> Roles {
    let (a, b) = tokio::join!(read(clusters.site(SiteId::A), settings, SiteId::A), read(clusters.site(SiteId::B), settings, SiteId::B));
    Roles { a, b }
}

/// The roles where either site's kube API may not answer (an unreachable site's record says why).
pub async fn roles_reachable(cache: &ClusterCache, settings: &Settings) -> Roles {
    let read_site = |site: SiteId| async move {
        match cache.reach(settings, site).await {
            Ok(cluster) => read(&cluster, settings, site).await,
            Err(reason) => SiteRecord::Unreachable { reason },
        }
    };
    let (a, b) = tokio::join!(read_site(SiteId::A), read_site(SiteId::B));
    Roles { a, b }
}
