//! The stand-in's copy of the rules Strimzi's cluster operator applies to `spec.kafka.listeners`
//! (cluster-operator model/ListenersValidator.java at 0.45.2 and 1.2.0), written from reading
//! that source, independently of amqdr's own validation so that a test of one checks the other.
//! Messages are the operator's; the Kafka gets `NotReady` with reason `InvalidResourceException`
//! and "Listener configuration is not valid: [...]".

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeSet;

/// The operator release whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strimzi {
    /// 0.45.2 (`kafka.strimzi.io/v1beta2`): no TLSRoute listeners.
    V0_45,
    /// 1.2.0 (`kafka.strimzi.io/v1`).
    V1_2,
}

impl Strimzi {
    pub fn of_api_version(api_version: &str) -> Strimzi {
        if api_version.ends_with("/v1") { Strimzi::V1_2 } else { Strimzi::V0_45 }
    }

    /// "TLSRoute, Route, or Ingress" (1.2.0) / "Route or Ingress" (0.45.2).
    fn host_types(self) -> &'static str {
        match self {
            Strimzi::V1_2 => "TLSRoute, Route, or Ingress",
            Strimzi::V0_45 => "Route or Ingress",
        }
    }

    fn labels_types(self) -> &'static str {
        match self {
            Strimzi::V1_2 => "LoadBalancer, NodePort, TLSRoute, Route, Ingress, or ClusterIP",
            Strimzi::V0_45 => "LoadBalancer, NodePort, Route, Ingress or ClusterIP",
        }
    }
}

const FORBIDDEN_PORTS: [i64; 2] = [9404, 9999];
const LOWEST_ALLOWED_PORT: i64 = 9092;

fn is_set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

fn non_empty(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

/// The error messages the operator would collect for these listeners (empty: valid).
/// `broker_ids` are the node IDs of the brokers (for per-broker host requirements).
pub fn errors(strimzi: Strimzi, listeners: &[Value], broker_ids: &[i64]) -> BTreeSet<String> {
    let mut errors = BTreeSet::new();
    let names: Vec<&str> = listeners.iter().map(|l| l.get("name").and_then(Value::as_str).unwrap_or("")).collect();
    let distinct_names: BTreeSet<&str> = names.iter().copied().collect();
    if distinct_names.len() != listeners.len() {
        errors.insert("every listener needs to have a unique name".to_string());
    }
    let name_ok = |n: &str| (1..=11).contains(&n.len()) && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let invalid: Vec<&str> = distinct_names.iter().copied().filter(|n| !name_ok(n)).collect();
    if !invalid.is_empty() {
        errors.insert(format!("listener names [{}] are invalid and do not match the pattern ^[a-z0-9]{{1,11}}$", invalid.join(", ")));
    }
    let ports: BTreeSet<i64> = listeners.iter().filter_map(|l| l.get("port").and_then(Value::as_i64)).collect();
    if ports.len() != listeners.len() {
        errors.insert("every listener needs to have a unique port number".to_string());
    }
    for l in listeners {
        listener_errors(strimzi, l, broker_ids, &mut errors);
    }
    errors
}

fn listener_errors(strimzi: Strimzi, l: &Value, broker_ids: &[i64], errors: &mut BTreeSet<String>) {
    let name = l.get("name").and_then(Value::as_str).unwrap_or("");
    let kind = l.get("type").and_then(Value::as_str).unwrap_or("");
    let port = l.get("port").and_then(Value::as_i64).unwrap_or(0);
    let tls = l.get("tls").and_then(Value::as_bool).unwrap_or(false);
    let mut err = |text: String| {
        errors.insert(text);
    };
    let is = |types: &[&str]| types.contains(&kind);

    if FORBIDDEN_PORTS.contains(&port) || port < LOWEST_ALLOWED_PORT {
        err(format!("port {port} is forbidden and cannot be used"));
    }
    if is(&["route", "ingress"]) && !tls {
        err(format!("listener {name} is Route or Ingress type listener and requires enabled TLS encryption"));
    }
    let conf = l.get("configuration").filter(|c| !c.is_null());
    if !tls {
        if l.pointer("/authentication/type").and_then(Value::as_str) == Some("tls") {
            err(format!("listener {name} cannot use tls type authentication with disabled TLS encryption"));
        }
        if conf.is_some_and(|c| is_set(c.get("brokerCertChainAndKey"))) {
            err(format!("listener {name} cannot configure custom TLS certificate with disabled TLS encryption"));
        }
    }
    let host_types = strimzi.host_types();
    let host_kinds: &[&str] = match strimzi {
        Strimzi::V1_2 => &["route", "ingress", "tlsroute"],
        Strimzi::V0_45 => &["route", "ingress"],
    };
    let label_kinds: &[&str] = match strimzi {
        Strimzi::V1_2 => &["loadbalancer", "nodeport", "route", "tlsroute", "ingress", "cluster-ip"],
        Strimzi::V0_45 => &["loadbalancer", "nodeport", "route", "ingress", "cluster-ip"],
    };
    if let Some(c) = conf {
        let has = |k: &str| is_set(c.get(k));
        if !is(&["internal", "cluster-ip"]) && has("useServiceDnsDomain") {
            err(format!("listener {name} cannot configure useServiceDnsDomain because it is not internal or cluster-ip listener"));
        }
        if kind == "internal" && has("ipFamilyPolicy") {
            err(format!("listener {name} cannot configure ipFamilyPolicy because it is internal listener"));
        }
        if kind == "internal" && has("ipFamilies") {
            err(format!("listener {name} cannot configure ipFamilies because it is internal listener"));
        }
        if !is(&["ingress", "loadbalancer"]) && has("class") {
            err(format!("listener {name} cannot configure class because it is not an Ingress or LoadBalancer based listener"));
        }
        if !is(&["loadbalancer", "nodeport"]) && has("externalTrafficPolicy") {
            err(format!(
                "listener {name} cannot configure externalTrafficPolicy because it is not LoadBalancer or NodePort based listener"
            ));
        }
        if kind != "loadbalancer" && non_empty(c.get("loadBalancerSourceRanges")) {
            err(format!("listener {name} cannot configure loadBalancerSourceRanges because it is not LoadBalancer based listener"));
        }
        if kind != "loadbalancer" && has("allocateLoadBalancerNodePorts") {
            err(format!("listener {name} cannot configure allocateLoadBalancerNodePorts because it is not LoadBalancer based listener"));
        }
        if kind != "loadbalancer" && non_empty(c.get("finalizers")) {
            err(format!("listener {name} cannot configure finalizers because it is not LoadBalancer based listener"));
        }
        if kind != "nodeport" && has("preferredNodePortAddressType") {
            err(format!("listener {name} cannot configure preferredAddressType because it is not NodePort based listener"));
        }
        if kind == "internal" && has("publishNotReadyAddresses") {
            err(format!("listener {name} cannot configure publishNotReadyAddresses because it is internal listener"));
        }
        if kind != "loadbalancer" && c.get("createBootstrapService").and_then(Value::as_bool) == Some(false) {
            err(format!("listener {name} cannot configure createBootstrapService because it is not load balancer listener"));
        }
        if !is(host_kinds) && has("hostTemplate") {
            err(format!("listener {name} cannot configure hostTemplate because it is not {host_types} based listener"));
        }
        if kind == "internal" {
            for (field, what) in
                [("perBrokerLabelsTemplate", "perBrokerLabelsTemplate"), ("perBrokerAnnotationsTemplate", "perBrokerAnnotationsTemplate")]
            {
                if strimzi == Strimzi::V1_2 && non_empty(c.get(field)) {
                    err(format!(
                        "listener {name} cannot configure {what} because it is not LoadBalancer, NodePort, Route, Ingress or ClusterIP based listener"
                    ));
                }
            }
        }
        if strimzi == Strimzi::V1_2 && kind != "tlsroute" && has("parentRefs") {
            err(format!("listener {name} cannot configure parentRefs because it is not TLSRoute based listener"));
        }
        if let Some(b) = c.get("bootstrap").filter(|b| !b.is_null()) {
            if !is(host_kinds) && is_set(b.get("host")) {
                err(format!("listener {name} cannot configure bootstrap.host because it is not {host_types} based listener"));
            }
            if kind != "loadbalancer" && is_set(b.get("loadBalancerIP")) {
                err(format!("listener {name} cannot configure bootstrap.loadBalancerIP because it is not LoadBalancer based listener"));
            }
            if !is(&["nodeport", "loadbalancer"]) && is_set(b.get("nodePort")) {
                err(format!("listener {name} cannot configure bootstrap.nodePort because it is not NodePort based listener"));
            }
            if !is(label_kinds) {
                for field in ["labels", "annotations"] {
                    if non_empty(b.get(field)) {
                        err(format!(
                            "listener {name} cannot configure bootstrap.{field} because it is not {} based listener",
                            strimzi.labels_types()
                        ));
                    }
                }
            }
            if kind != "nodeport" && is_set(b.get("externalIPs")) {
                err(format!("listener {name} cannot configure bootstrap.externalIPs because it is not NodePort based listener"));
            }
        }
        for broker in c.get("brokers").and_then(Value::as_array).into_iter().flatten() {
            if !is(host_kinds) && is_set(broker.get("host")) {
                err(format!("listener {name} cannot configure brokers[].host because it is not {host_types} based listener"));
            }
            if kind != "loadbalancer" && is_set(broker.get("loadBalancerIP")) {
                err(format!("listener {name} cannot configure brokers[].loadBalancerIP because it is not LoadBalancer based listener"));
            }
            if !is(&["nodeport", "loadbalancer"]) && is_set(broker.get("nodePort")) {
                err(format!("listener {name} cannot configure brokers[].nodePort because it is not NodePort based listener"));
            }
            if !is(label_kinds) {
                for field in ["labels", "annotations"] {
                    if non_empty(broker.get(field)) {
                        err(format!(
                            "listener {name} cannot configure brokers[].{field} because it is not {} based listener",
                            strimzi.labels_types()
                        ));
                    }
                }
            }
            if kind != "nodeport" && is_set(broker.get("externalIPs")) {
                err(format!("listener {name} cannot configure brokers[].externalIPs because it is not NodePort based listener"));
            }
        }
        if let Some(cert) = c.get("brokerCertChainAndKey").filter(|v| !v.is_null()) {
            for (field, what) in [("secretName", "secret name"), ("key", "key"), ("certificate", "certificate")] {
                if cert.get(field).and_then(Value::as_str).unwrap_or("").is_empty() {
                    err(format!("listener '{name}' cannot have an empty {what} in the brokerCertChainAndKey"));
                }
            }
        }
    }
    let needs_hosts = |label: &str, err: &mut dyn FnMut(String)| {
        if let Some(c) = conf {
            if c.pointer("/bootstrap/host").filter(|h| !h.is_null()).is_none() {
                err(format!("listener {name} is missing a bootstrap host property which is required for {label} based listeners"));
            }
            if c.get("hostTemplate").filter(|h| !h.is_null()).is_some() {
                // A template covers every broker.
            } else if let Some(brokers) = c.get("brokers").and_then(Value::as_array) {
                for id in broker_ids {
                    let found = brokers.iter().find(|b| b.get("broker").and_then(Value::as_i64) == Some(*id));
                    if found.and_then(|b| b.get("host")).filter(|h| !h.is_null()).is_none() {
                        err(format!(
                            "listener {name} is missing a broker host property for broker with ID {id} which is required for {label} based listeners"
                        ));
                    }
                }
            } else {
                err(format!(
                    "listener {name} is missing a broker configuration with host properties which are required for {label} based listeners"
                ));
            }
        }
    };
    if kind == "ingress" {
        if conf.is_none() {
            err(format!("listener {name} is missing a configuration with host properties which are required for Ingress based listeners"));
        }
        needs_hosts("Ingress", &mut err);
    }
    if strimzi == Strimzi::V1_2 && kind == "tlsroute" {
        match conf {
            None => {
                err(format!(
                    "listener {name} is missing a configuration with bootstrap and broker host properties which are required for TLSRoute based listeners"
                ));
                err(format!("listener {name} is missing a parent references property which is required for TLSRoute based listeners"));
            }
            Some(c) => {
                if c.get("parentRefs").filter(|p| !p.is_null()).is_none() {
                    err(format!("listener {name} is missing a parent references property which is required for TLSRoute based listeners"));
                }
                needs_hosts("TLSRoute", &mut err);
            }
        }
    }
}

/// The condition message of a Kafka whose listeners the operator rejects.
pub fn rejection_message(errors: &BTreeSet<String>) -> String {
    format!("Listener configuration is not valid: [{}]", errors.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// The listeners of a Kafka resource and its broker node IDs (`spec.kafka.replicas` in 0.45.2's
/// ZooKeeper mode; broker-role KafkaNodePools are counted by the caller in KRaft mode).
pub fn kafka_listeners(kafka: &Value) -> Vec<Value> {
    kafka.pointer("/spec/kafka/listeners").and_then(Value::as_array).cloned().unwrap_or_default()
}
