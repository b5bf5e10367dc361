//! The one ordered Plan of a deployment. `render`, `install --dry-run`, `install`, `uninstall`
//! (reversed), progress output and the JSON report all walk it.
//!
//! A Plan is a list of stages run one after another; a stage has one lane per cluster or site,
//! and lanes of a stage run concurrently (the two sites proceed in parallel). Steps within a
//! lane run in order.

pub mod executor;
pub mod show;
pub mod teardown;

use crate::kube::conditions::Condition;
use crate::kube::object::Manifest;
use crate::kube::object::ObjectRef;
use crate::material::Material;
use crate::record::{Direction, Roles, Verdict};
use crate::render::{self, SiteContext};
use crate::settings::{Settings, SiteId};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: &'static str,
    pub lanes: Vec<Lane>,
}

/// Steps run in order against one site's cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    pub site: SiteId,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Short phase name shown in listings (`crds`, `operator`, `kafka`, ...).
    pub phase: &'static str,
    pub action: Action,
}

/// What a step acts on and how, as listings and reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSubject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `apply`, `wait Ready`, `resume rollout`, `discover bootstrap of site a`.
    pub action: String,
}

impl Step {
    pub fn subject(&self) -> StepSubject {
        let of = |target: &ObjectRef, action: String| StepSubject {
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            action,
        };
        match &self.action {
            Action::Apply { object } => StepSubject {
                kind: object.kind().to_string(),
                namespace: object.namespace().map(str::to_string),
                name: object.name().to_string(),
                action: "apply".into(),
            },
            Action::Wait { target, condition } => of(target, format!("wait {condition}")),
            Action::ResumeRollout { target } => of(target, "resume rollout".into()),
            Action::DiscoverBootstrap { site, kafka } => of(kafka, format!("discover bootstrap of site {site}")),
            Action::CreateOnly { object } => StepSubject {
                kind: object.kind().to_string(),
                namespace: object.namespace().map(str::to_string),
                name: object.name().to_string(),
                action: "create if absent".into(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Server-side apply of one object.
    Apply { object: Manifest },
    /// Wait until the object satisfies the condition.
    Wait { target: ObjectRef, condition: Condition },
    /// `spec.paused=false` on a Deployment, as `oc rollout resume` does.
    ResumeRollout { target: ObjectRef },
    /// Read the external bootstrap address of a site's Kafka from its status (or Route), and
    /// substitute it for [`render::DISCOVERED_SOURCE_BOOTSTRAP`] in later objects.
    DiscoverBootstrap { site: SiteId, kafka: ObjectRef },
    /// Create the object unless it exists; an existing one is kept as it is. For the DR role
    /// record: a re-run of `install` after a failover must not hand production its role back.
    CreateOnly { object: Manifest },
}

/// What to include in a Plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything: cluster-wide objects, both sites, then the mirror (unless disabled).
    Install,
    /// Only the mirror in the DR site (`amqdr mirror deploy`).
    MirrorOnly,
}

fn apply(phase: &'static str, objects: Vec<Manifest>) -> impl Iterator<Item = Step> {
    objects.into_iter().map(move |object| Step { phase, action: Action::Apply { object } })
}

fn wait(phase: &'static str, object: &Manifest, condition: Condition) -> Step {
    Step { phase, action: Action::Wait { target: ObjectRef::of(object), condition } }
}

fn find<'a>(objects: &'a [Manifest], kind: &str) -> &'a Manifest {
    objects.iter().find(|o| o.kind() == kind).unwrap_or_else(|| panic!("template rendered no {kind}"))
}

/// What the clusters' current state requires of a Plan: the DR roles recorded there, and Kafkas
/// that run without authorization (installed by an older amqdr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    /// Whether the production -> DR mirror may copy. After a failover it must stay stopped
    /// (a re-run of `install` or `mirror deploy` applies it stopped, never deletes it).
    pub forward_mirror_running: bool,
    /// The site the recorded mirror direction reads from (b while a failback copies b -> a):
    /// the mirror's user is read-only there.
    pub mirror_source: SiteId,
    /// Sites recorded as fenced: the application may not write there.
    pub fenced: Vec<SiteId>,
    /// Sites whose Kafka exists without authorization: switched on with the identities as
    /// temporary super users until their ACLs exist, so no client is locked out meanwhile.
    pub open_kafka: Vec<SiteId>,
}

impl Default for Posture {
    fn default() -> Self {
        Posture { forward_mirror_running: true, mirror_source: SiteId::A, fenced: Vec::new(), open_kafka: Vec::new() }
    }
}

impl Posture {
    /// What the recorded roles require of `install` / `mirror deploy`: the production -> DR
    /// mirror copies only while production is the primary and the recorded direction is a -> b.
    /// With no records (a first install) it copies.
    pub fn of_roles(roles: &Roles) -> Posture {
        let forward = match roles.verdict() {
            Verdict::Unknown { .. } => true,
            Verdict::Primary { site: SiteId::A, .. } => {
                SiteId::ALL.iter().filter_map(|s| roles.get(*s).state()).all(|s| s.mirror == Direction::AToB)
            }
            _ => false,
        };
        let mirror_source = SiteId::ALL
            .iter()
            .filter_map(|s| roles.get(*s).state())
            .find_map(|s| s.mirror.sites().map(|(source, _)| source))
            .unwrap_or(SiteId::A);
        Posture { forward_mirror_running: forward, mirror_source, fenced: roles.fenced_sites(), open_kafka: Vec::new() }
    }

    pub fn rights(&self, site: SiteId) -> crate::acl::SiteRights {
        crate::acl::SiteRights { mirror: crate::acl::MirrorRights::from_source(self.mirror_source), fenced: self.fenced.contains(&site) }
    }
}

impl Plan {
    pub fn build(settings: &Settings, material: &Material, scope: Scope) -> Result<Plan> {
        Plan::build_with(settings, material, scope, Posture::default())
    }

    pub fn build_with(settings: &Settings, material: &Material, scope: Scope, posture: Posture) -> Result<Plan> {
        let mut stages = Vec::new();
        if scope == Scope::Install {
            stages.push(cluster_wide_stage(settings)?);
            let lanes = SiteId::ALL.iter().map(|&site| site_lane(settings, material, site, &posture)).collect::<Result<Vec<_>>>()?;
            stages.push(Stage { name: "sites", lanes });
        }
        if settings.mirror.enabled || scope == Scope::MirrorOnly {
            stages.push(mirror_stage(settings, material, &posture)?);
        }
        if settings.health.enabled && scope == Scope::Install {
            stages.push(health_stage(settings, material)?);
        }
        Ok(Plan { stages })
    }

    /// Every step in execution order, lanes of a stage one after another.
    pub fn steps(&self) -> impl Iterator<Item = (&Stage, &Lane, &Step)> {
        self.stages.iter().flat_map(|stage| stage.lanes.iter().flat_map(move |lane| lane.steps.iter().map(move |s| (stage, lane, s))))
    }

    /// Every object applied, in apply order.
    pub fn objects(&self) -> impl Iterator<Item = &Manifest> {
        self.steps().filter_map(|(_, _, s)| match &s.action {
            Action::Apply { object } => Some(object),
            _ => None,
        })
    }

    pub fn len(&self) -> usize {
        self.steps().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn cluster_wide_stage(settings: &Settings) -> Result<Stage> {
    // CRDs and ClusterRoles are cluster-scoped: once per Kubernetes cluster.
    let clusters: Vec<SiteId> = if settings.one_cluster() { vec![SiteId::A] } else { SiteId::ALL.to_vec() };
    let mut lanes = Vec::new();
    for site in clusters {
        let crds = render::crds(settings.profile)?;
        let mut steps: Vec<Step> = apply("crds", crds.clone()).collect();
        steps.extend(crds.iter().map(|c| wait("crds", c, Condition::Established)));
        steps.extend(apply("clusterroles", render::cluster_roles(settings.profile)?));
        lanes.push(Lane { site, steps });
    }
    Ok(Stage { name: "cluster-wide", lanes })
}

fn site_lane(settings: &Settings, material: &Material, site: SiteId, posture: &Posture) -> Result<Lane> {
    let ctx = SiteContext::new(settings, material, site);
    let t = |name: &str| render::site_template(name, &ctx, settings, site);
    let mut steps = Vec::new();
    steps.extend(apply("namespaces", t("namespaces")?));

    let mut operator = t("operator-serviceaccount")?;
    if material.pull_secret.is_some() {
        // Strimzi's own pods pull with the same secret, named in STRIMZI_IMAGE_PULL_SECRETS.
        let mut secrets = Vec::new();
        let st = settings.site(site);
        for ns in [&st.operator_namespace, &st.kafka_namespace] {
            let mut s = t("pull-secret")?;
            for o in &mut s {
                o.0["metadata"]["namespace"] = serde_json::json!(ns);
            }
            if !secrets.iter().any(|x: &Manifest| x.namespace() == Some(ns.as_str())) {
                secrets.extend(s);
            }
        }
        operator.extend(secrets);
    }
    operator.extend(t("operator-configmap")?);
    let deployment = t("operator-deployment")?;
    let deployment_obj = find(&deployment, "Deployment").clone();
    operator.extend(deployment);
    steps.extend(apply("operator", operator));
    // Paused until the operator may act in its namespaces, then resumed and awaited.
    steps.extend(apply("rbac", t("operator-rbac")?));
    steps.push(Step { phase: "resume", action: Action::ResumeRollout { target: ObjectRef::of(&deployment_obj) } });
    steps.push(wait("operator", &deployment_obj, Condition::Available));

    steps.extend(apply("cluster-ca", t("cluster-ca")?));
    let kafka = t("kafka")?;
    let kafka_obj = find(&kafka, "Kafka").clone();
    let users = render::user_objects(settings, material, site, posture.rights(site))?;
    let user_objs: Vec<Manifest> = users.iter().filter(|o| o.kind() == "KafkaUser").cloned().collect();
    if posture.open_kafka.contains(&site) {
        // Upgrade: authorization on with every identity a super user, the users and their ACLs,
        // then the super users removed. Clients authenticate throughout; none is ever denied.
        let names: Vec<String> = user_objs.iter().map(|u| u.name().to_string()).collect();
        let mut bridging = kafka_obj.clone();
        bridging.0["spec"]["kafka"]["authorization"] = render::kafka_authorization(&names);
        steps.extend(apply("kafka", vec![bridging.clone()]));
        steps.push(wait("kafka", &bridging, Condition::Ready));
        steps.extend(apply("user", users));
        steps.extend(user_objs.iter().map(|u| wait("user", u, Condition::Ready)));
        steps.extend(apply("kafka", kafka));
        steps.push(wait("kafka", &kafka_obj, Condition::Ready));
    } else {
        steps.extend(apply("kafka", kafka));
        steps.push(wait("kafka", &kafka_obj, Condition::Ready));
        steps.extend(apply("user", users));
    }
    let topic = t("topic")?;
    let topic_obj = find(&topic, "KafkaTopic").clone();
    steps.extend(apply("topic", topic));
    let canary = t("canary-topic")?;
    let canary_obj = find(&canary, "KafkaTopic").clone();
    steps.extend(apply("topic", canary));
    if !posture.open_kafka.contains(&site) {
        steps.extend(user_objs.iter().map(|u| wait("user", u, Condition::Ready)));
    }
    steps.push(wait("topic", &topic_obj, Condition::Ready));
    steps.push(wait("topic", &canary_obj, Condition::Ready));

    let record = crate::record::store::configmap(settings, site, &crate::record::SiteState::initial(site));
    let record = Manifest(serde_json::to_value(&record).expect("ConfigMap serializes"));
    steps.push(Step { phase: "dr-role", action: Action::CreateOnly { object: record } });
    Ok(Lane { site, steps })
}

fn mirror_stage(settings: &Settings, material: &Material, posture: &Posture) -> Result<Stage> {
    let flow = render::MirrorFlow::forward(posture.forward_mirror_running);
    let site = flow.target;
    let mut steps = Vec::new();
    if settings.mirror.source_bootstrap.is_none() {
        let a = settings.site(SiteId::A);
        steps.push(Step {
            phase: "mirror",
            action: Action::DiscoverBootstrap {
                site: SiteId::A,
                kafka: ObjectRef {
                    api_version: settings.profile.api_version().into(),
                    kind: "Kafka".into(),
                    namespace: Some(a.kafka_namespace.clone()),
                    name: a.cluster_name.clone(),
                },
            },
        });
    }
    let (secrets, mirror) = render::mirror_objects(settings, material, &flow)?;
    steps.extend(apply("mirror", secrets));
    let mirror_obj = find(&mirror, settings.mirror_kind().as_str()).clone();
    steps.extend(apply("mirror", mirror));
    steps.push(wait("mirror", &mirror_obj, Condition::Ready));
    Ok(Stage { name: "mirror", lanes: vec![Lane { site, steps }] })
}

/// `amqdr serve` in each site, told the other site's external bootstrap (discovered unless
/// given), so a returning old primary is fenced by the other's higher epoch.
fn health_stage(settings: &Settings, material: &Material) -> Result<Stage> {
    let mut lanes = Vec::new();
    for site in SiteId::ALL {
        let peer = site.other();
        let mut steps = Vec::new();
        let peer_known = peer == SiteId::A && settings.mirror.source_bootstrap.is_some();
        if !peer_known {
            let p = settings.site(peer);
            steps.push(Step {
                phase: "health",
                action: Action::DiscoverBootstrap {
                    site: peer,
                    kafka: ObjectRef {
                        api_version: settings.profile.api_version().into(),
                        kind: "Kafka".into(),
                        namespace: Some(p.kafka_namespace.clone()),
                        name: p.cluster_name.clone(),
                    },
                },
            });
        }
        let ctx = SiteContext::new(settings, material, site);
        let objects = render::site_template("health", &ctx, settings, site)?;
        let deployment = find(&objects, "Deployment").clone();
        steps.extend(apply("health", objects));
        steps.push(wait("health", &deployment, Condition::Available));
        lanes.push(Lane { site, steps });
    }
    Ok(Stage { name: "health", lanes })
}

#[cfg(test)]
mod posture_tests {
    use super::*;
    use crate::record::{Direction, Role, Roles, SiteRecord, SiteState};

    fn rec(site: SiteId, role: Role, epoch: u64, mirror: Direction) -> SiteRecord {
        let mut s = SiteState::initial(site);
        s.role = role;
        s.epoch = epoch;
        s.mirror = mirror;
        SiteRecord::Present { state: Box::new(s), resource_version: None }
    }

    #[test]
    fn install_keeps_the_forward_mirror_stopped_after_a_failover() {
        let fresh = Roles { a: SiteRecord::Missing, b: SiteRecord::Missing };
        assert!(Posture::of_roles(&fresh).forward_mirror_running);
        let normal = Roles { a: rec(SiteId::A, Role::Primary, 1, Direction::AToB), b: rec(SiteId::B, Role::Standby, 1, Direction::AToB) };
        assert!(Posture::of_roles(&normal).forward_mirror_running);
        let failed_over =
            Roles { a: rec(SiteId::A, Role::Fenced, 2, Direction::None), b: rec(SiteId::B, Role::Primary, 2, Direction::None) };
        assert!(!Posture::of_roles(&failed_over).forward_mirror_running);
        let syncing = Roles { a: rec(SiteId::A, Role::Fenced, 2, Direction::BToA), b: rec(SiteId::B, Role::Primary, 2, Direction::BToA) };
        assert!(!Posture::of_roles(&syncing).forward_mirror_running);
        let split = Roles { a: rec(SiteId::A, Role::Primary, 2, Direction::None), b: rec(SiteId::B, Role::Primary, 2, Direction::None) };
        assert!(!Posture::of_roles(&split).forward_mirror_running);
        assert_eq!(Posture::of_roles(&failed_over).fenced, [SiteId::A]);
        assert_eq!(Posture::of_roles(&syncing).mirror_source, SiteId::B);
        assert_eq!(Posture::of_roles(&normal).mirror_source, SiteId::A);
        assert!(Posture::of_roles(&normal).fenced.is_empty());
    }
}
