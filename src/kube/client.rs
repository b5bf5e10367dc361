//! One kube `Client` per Kubernetes cluster (both sites share one in the one-cluster layout),
//! with a discovery cache for the kinds amqdr applies.

use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result, anyhow};
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Client, Config};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long a site's kube API may take to answer before it counts as unreachable.
const KUBE_PROBE: Duration = Duration::from_secs(10);

/// A connected cluster: its client and a cache of resolved kinds.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The kube context, for messages (`current context` when none was given).
    pub context: String,
    kinds: Arc<Mutex<HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>>>,
}

impl Cluster {
    pub async fn connect(context: Option<&str>) -> Result<Cluster> {
        let options = kube::config::KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
        let shown = context.map(|c| format!("context {c}")).unwrap_or_else(|| "the current context".into());
        let config = match Config::from_kubeconfig(&options).await {
            Ok(c) => c,
            Err(kubeconfig_err) if context.is_none() => Config::incluster().map_err(|_| {
                anyhow!(
                    "cannot load a kubeconfig for {shown}: {kubeconfig_err}\n  fix: set KUBECONFIG or log in (oc login / kubectl config use-context), or pass --context-a/--context-b"
                )
            })?,
            Err(e) => {
                return Err(anyhow!("cannot load kubeconfig {shown}: {e}\n  fix: check `kubectl config get-contexts` for {shown}"));
            }
        };
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config).with_context(|| format!("cannot create a client for {shown} ({server})"))?;
        Ok(Cluster { client, context: format!("{shown} ({server})"), kinds: Arc::default() })
    }

    /// Resolve a kind through discovery, once per kind. A kind that is not served gets a message
    /// pointing at the CRDs.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<(ApiResource, ApiCapabilities)> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        let gvk = GroupVersionKind { group, version, kind: kind.to_string() };
        if let Some(found) = self.kinds.lock().await.get(&gvk) {
            return Ok(found.clone());
        }
        let found = kube::discovery::pinned_kind(&self.client, &gvk).await.map_err(|e| match e {
            kube::Error::Api(s) if s.is_not_found() || s.code == 404 => anyhow!(
                "{kind} ({api_version}) is not served by {}\n  fix: install the Strimzi CRDs of this profile (`amqdr install` applies them first), or pick the profile the sites run (--profile)",
                self.context
            ),
            other => anyhow::Error::new(other).context(format!("looking up {kind} ({api_version}) on {}", self.context)),
        })?;
        self.kinds.lock().await.insert(gvk, found.clone());
        Ok(found)
    }

    pub async fn is_namespaced(&self, api_version: &str, kind: &str) -> Result<bool> {
        Ok(self.resolve(api_version, kind).await?.1.scope == Scope::Namespaced)
    }
}

/// Clusters connected on demand, one client per kube context: `verify` reads only the sites it
/// checks, and both sites share a client when they share a context.
#[derive(Default)]
pub struct ClusterCache(Mutex<HashMap<Option<String>, Cluster>>);

impl ClusterCache {
    /// The site's cluster when its API server answers within [`KUBE_PROBE`]; why not otherwise.
    pub async fn reach(&self, settings: &Settings, site: SiteId) -> Result<Cluster, String> {
        let cluster = self.get(settings.site(site).context.as_deref()).await.map_err(|e| crate::error::report(&e))?;
        match tokio::time::timeout(KUBE_PROBE, cluster.client.apiserver_version()).await {
            Ok(Ok(_)) => Ok(cluster),
            Ok(Err(e)) => Err(format!("{} does not answer: {e}", cluster.context)),
            Err(_) => Err(format!("{} did not answer within {}s", cluster.context, KUBE_PROBE.as_secs())),
        }
    }

    pub async fn get(&self, context: Option<&str>) -> Result<Cluster> {
        let key = context.map(str::to_string);
        let mut clusters = self.0.lock().await;
        if let Some(found) = clusters.get(&key) {
            return Ok(found.clone());
        }
        let cluster = Cluster::connect(context).await?;
        clusters.insert(key, cluster.clone());
        Ok(cluster)
    }
}

/// The clusters of the two sites: one client per distinct context.
#[derive(Clone)]
pub struct Clusters {
    a: Cluster,
    b: Cluster,
    pub one_cluster: bool,
}

impl Clusters {
    pub async fn connect(settings: &Settings) -> Result<Clusters> {
        let a_ctx = settings.sites.a.context.as_deref();
        let b_ctx = settings.sites.b.context.as_deref();
        if settings.one_cluster() {
            let a = Cluster::connect(a_ctx).await.context("connecting to the cluster of both sites")?;
            Ok(Clusters { b: a.clone(), a, one_cluster: true })
        } else {
            let (a, b) = tokio::join!(Cluster::connect(a_ctx), Cluster::connect(b_ctx));
            Ok(Clusters {
                a: a.context("connecting to site a (production)")?,
                b: b.context("connecting to site b (DR)")?,
                one_cluster: false,
            })
        }
    }

    pub fn site(&self, site: SiteId) -> &Cluster {
        match site {
            SiteId::A => &self.a,
            SiteId::B => &self.b,
        }
    }

    /// Distinct clusters with the first site that uses each.
    pub fn distinct(&self) -> Vec<(SiteId, &Cluster)> {
        if self.one_cluster { vec![(SiteId::A, &self.a)] } else { vec![(SiteId::A, &self.a), (SiteId::B, &self.b)] }
    }
}
