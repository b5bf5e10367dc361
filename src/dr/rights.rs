//! The identities' rights as DR operations move the roles: a fenced site's application user
//! loses Write (stray producers fail loudly instead of writing records no mirror will carry), a
//! site regaining production gets it back, and the mirror's user is read-only where the mirror
//! reads from. Applied as the KafkaUsers `install` applies, awaited until Strimzi's User Operator
//! reports them Ready (their ACLs are then in force on the brokers).

use super::Dr;
use crate::acl::SiteRights;
use crate::kube::apply::{self, patch_params};
use crate::kube::conditions::Condition;
use crate::kube::object::ObjectRef;
use crate::kube::wait;
use crate::render;
use crate::settings::SiteId;
use anyhow::{Context, Result};
use std::time::Duration;

/// Whether to wait for the User Operator to enforce the rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforce {
    /// Wait until every KafkaUser is Ready: the ACLs are in force.
    Await,
    /// Only apply: the site's Kafka is down (unplanned failover); its User Operator enforces them
    /// when it answers, and `failback prepare` waits for that.
    Eventually,
}

/// Apply a site's KafkaUsers with `rights` and (with [`Enforce::Await`]) wait until each is Ready.
pub async fn apply(dr: &Dr, site: SiteId, rights: SiteRights, enforce: Enforce, timeout: Duration) -> Result<String> {
    let cluster = dr.cluster(site)?;
    let material = dr.material().await?;
    let objects = render::user_objects(dr.settings(), &material, site, rights)?;
    let pp = patch_params(false);
    let mut changed = Vec::new();
    for o in &objects {
        let applied = apply::apply(cluster, o, &pp).await?;
        if o.kind() == "KafkaUser" && applied.outcome != apply::Outcome::Unchanged {
            changed.push(o.name().to_string());
        }
    }
    for u in objects.iter().filter(|o| o.kind() == "KafkaUser" && enforce == Enforce::Await) {
        wait::wait_for(cluster, &ObjectRef::of(u), Condition::Ready, timeout, &|_| {})
            .await
            .with_context(|| format!("KafkaUser {} of site {site} (its ACLs)", u.name()))?;
    }
    let writes = if rights.fenced { "application read-only" } else { "application may write" };
    let pending = if enforce == Enforce::Eventually { " (applied; enforced once the site's Kafka answers)" } else { "" };
    Ok(format!(
        "site {site}: {writes}, mirror reads from site {}; {}{pending}",
        rights.mirror.source,
        if changed.is_empty() { "unchanged".to_string() } else { format!("changed {}", changed.join(", ")) }
    ))
}
