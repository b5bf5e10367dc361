//! A Kubernetes object as amqdr renders and applies it ([`Manifest`]), a reference to one
//! ([`ObjectRef`]), and the labels amqdr puts on what it owns.

use serde::Serialize;
use serde_json::{Value, json};
use std::fmt;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "amqdr";
pub const SITE_LABEL: &str = "amqdr.io/site";
pub const PROFILE_LABEL: &str = "amqdr.io/profile";
/// What a Secret's values read as in output unless secrets are asked for.
pub const REDACTED: &str = "<redacted>";

/// One Kubernetes object as JSON, in apply order within its step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Manifest(pub Value);

impl Manifest {
    fn str_at(&self, pointer: &str) -> &str {
        self.0.pointer(pointer).and_then(Value::as_str).unwrap_or("")
    }
    pub fn api_version(&self) -> &str {
        self.str_at("/apiVersion")
    }
    pub fn kind(&self) -> &str {
        self.str_at("/kind")
    }
    pub fn name(&self) -> &str {
        self.str_at("/metadata/name")
    }
    pub fn namespace(&self) -> Option<&str> {
        self.0.pointer("/metadata/namespace").and_then(Value::as_str)
    }
    /// `Kind/name` or `Kind/name in namespace`, for messages.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{} in {ns}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }

    pub fn is_secret(&self) -> bool {
        self.kind() == "Secret" && self.api_version() == "v1"
    }

    /// A copy with Secret values replaced, except public certificates (`*.crt`).
    pub fn redacted(&self) -> Manifest {
        let mut copy = self.clone();
        if copy.is_secret() {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(map)) = copy.0.get_mut(field) {
                    for (key, value) in map.iter_mut() {
                        if !key.ends_with(".crt") {
                            *value = Value::String(REDACTED.into());
                        }
                    }
                }
            }
        }
        copy
    }

    pub fn set_label(&mut self, key: &str, value: &str) {
        let meta = self.0.as_object_mut().and_then(|o| o.entry("metadata").or_insert_with(|| json!({})).as_object_mut());
        if let Some(meta) = meta {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(key.to_string(), Value::String(value.to_string()));
            }
        }
    }

    /// Replace every string equal to `placeholder` (deferred values) with `value`.
    pub fn substitute(&mut self, placeholder: &str, value: &str) -> bool {
        fn walk(v: &mut Value, placeholder: &str, value: &str) -> bool {
            match v {
                Value::String(s) if s == placeholder => {
                    *s = value.to_string();
                    true
                }
                Value::Array(a) => a.iter_mut().fold(false, |acc, x| walk(x, placeholder, value) | acc),
                Value::Object(o) => o.values_mut().fold(false, |acc, x| walk(x, placeholder, value) | acc),
                _ => false,
            }
        }
        walk(&mut self.0, placeholder, value)
    }

    pub fn contains_string(&self, needle: &str) -> bool {
        fn walk(v: &Value, needle: &str) -> bool {
            match v {
                Value::String(s) => s == needle,
                Value::Array(a) => a.iter().any(|x| walk(x, needle)),
                Value::Object(o) => o.values().any(|x| walk(x, needle)),
                _ => false,
            }
        }
        walk(&self.0, needle)
    }
}

/// The object a step waits for or changes, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(m: &Manifest) -> Self {
        ObjectRef {
            api_version: m.api_version().into(),
            kind: m.kind().into(),
            namespace: m.namespace().map(str::to_string),
            name: m.name().into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} in {ns}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_certificates_only() {
        let m = Manifest(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"},
            "data": {"ca.crt": "Q0VSVA==", "ca.key": "S0VZ", "password": "cHc=", "ca.p12": "UDEy", "ca.password": "cHc="}}));
        let r = m.redacted();
        assert_eq!(r.0["data"]["ca.crt"], "Q0VSVA==");
        assert_eq!(r.0["data"]["ca.p12"], REDACTED);
        assert_eq!(r.0["data"]["ca.password"], REDACTED);
        assert_eq!(r.0["data"]["ca.key"], REDACTED);
        assert_eq!(r.0["data"]["password"], REDACTED);
    }
}
