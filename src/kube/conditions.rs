//! Readiness as pure functions of an object's JSON, so they are unit-tested on status fixtures.

use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// The condition a step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// CustomResourceDefinition condition Established=True.
    Established,
    /// Deployment Available=True, rolled out at the current generation.
    Available,
    /// Strimzi resource Ready=True with `status.observedGeneration == metadata.generation`.
    Ready,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Condition::Established => "Established",
            Condition::Available => "Available",
            Condition::Ready => "Ready",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Not yet, with a one-line summary of what was seen (for progress and timeouts).
    Pending(String),
}

fn conditions(obj: &Value) -> Vec<&Value> {
    obj.pointer("/status/conditions").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
}

fn find_condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    conditions(obj).into_iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn is_true(c: Option<&Value>) -> bool {
    c.and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True")
}

/// `Type=Status (reason: message)` for every condition, for messages.
pub fn summarize_conditions(obj: &Value) -> String {
    let list: Vec<String> = conditions(obj)
        .iter()
        .map(|c| {
            let get = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            let mut s = format!("{}={}", get("type"), get("status"));
            match (get("reason"), get("message")) {
                ("", "") => {}
                (r, "") => s.push_str(&format!(" ({r})")),
                ("", m) => s.push_str(&format!(" ({m})")),
                (r, m) => s.push_str(&format!(" ({r}: {m})")),
            }
            s
        })
        .collect();
    if list.is_empty() { "no status conditions yet".into() } else { list.join("; ") }
}

fn generation(obj: &Value) -> Option<i64> {
    obj.pointer("/metadata/generation").and_then(Value::as_i64)
}

fn observed_generation(obj: &Value) -> Option<i64> {
    obj.pointer("/status/observedGeneration").and_then(Value::as_i64)
}

/// The current generation has been seen by the controller (a Ready from an older spec does not count).
fn generation_observed(obj: &Value, exact: bool) -> Result<(), String> {
    match (generation(obj), observed_generation(obj)) {
        (Some(g), Some(o)) if (exact && o == g) || (!exact && o >= g) => Ok(()),
        (Some(g), Some(o)) => Err(format!("status is for generation {o}, the spec is at generation {g}")),
        (Some(_), None) => Err("no observedGeneration in status yet".into()),
        (None, _) => Ok(()),
    }
}

pub fn evaluate(condition: Condition, obj: &Value) -> Readiness {
    match condition {
        Condition::Established => {
            if is_true(find_condition(obj, "Established")) {
                Readiness::Ready
            } else {
                Readiness::Pending(summarize_conditions(obj))
            }
        }
        Condition::Available => {
            if let Err(why) = generation_observed(obj, false) {
                return Readiness::Pending(why);
            }
            if obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                return Readiness::Pending("the rollout is paused".into());
            }
            let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let updated = obj.pointer("/status/updatedReplicas").and_then(Value::as_i64).unwrap_or(0);
            let available = obj.pointer("/status/availableReplicas").and_then(Value::as_i64).unwrap_or(0);
            if is_true(find_condition(obj, "Available")) && updated >= want && available >= want {
                Readiness::Ready
            } else {
                Readiness::Pending(format!("{available}/{want} available, {updated} updated; {}", summarize_conditions(obj)))
            }
        }
        Condition::Ready => {
            if let Err(why) = generation_observed(obj, true) {
                return Readiness::Pending(format!("{why}; {}", summarize_conditions(obj)));
            }
            if is_true(find_condition(obj, "Ready")) { Readiness::Ready } else { Readiness::Pending(summarize_conditions(obj)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_saphyr::from_str(text).unwrap()
    }

    #[test]
    fn strimzi_ready_needs_current_generation() {
        let ready = yaml("metadata: {generation: 2}\nstatus: {observedGeneration: 2, conditions: [{type: Ready, status: 'True'}]}");
        assert_eq!(evaluate(Condition::Ready, &ready), Readiness::Ready);
        let stale = yaml("metadata: {generation: 3}\nstatus: {observedGeneration: 2, conditions: [{type: Ready, status: 'True'}]}");
        match evaluate(Condition::Ready, &stale) {
            Readiness::Pending(why) => assert!(why.contains("generation 2") && why.contains("generation 3"), "{why}"),
            r => panic!("{r:?}"),
        }
        let failing = yaml(
            "metadata: {generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: NotReady, status: 'True', reason: InvalidResourceException, message: 'bad listener'}]}",
        );
        match evaluate(Condition::Ready, &failing) {
            Readiness::Pending(why) => assert!(why.contains("InvalidResourceException: bad listener"), "{why}"),
            r => panic!("{r:?}"),
        }
        let empty = yaml("metadata: {generation: 1}");
        assert!(matches!(evaluate(Condition::Ready, &empty), Readiness::Pending(_)));
    }

    #[test]
    fn crd_established() {
        let crd = yaml("status: {conditions: [{type: NamesAccepted, status: 'True'}, {type: Established, status: 'True'}]}");
        assert_eq!(evaluate(Condition::Established, &crd), Readiness::Ready);
        let not_yet = yaml("status: {conditions: [{type: NamesAccepted, status: 'True'}]}");
        assert!(matches!(evaluate(Condition::Established, &not_yet), Readiness::Pending(_)));
    }

    #[test]
    fn deployment_available() {
        let ok = yaml(
            "metadata: {generation: 2}\nspec: {replicas: 1}\nstatus: {observedGeneration: 2, updatedReplicas: 1, availableReplicas: 1, conditions: [{type: Available, status: 'True'}]}",
        );
        assert_eq!(evaluate(Condition::Available, &ok), Readiness::Ready);
        let paused = yaml(
            "metadata: {generation: 1}\nspec: {replicas: 1, paused: true}\nstatus: {observedGeneration: 1, conditions: [{type: Available, status: 'True'}]}",
        );
        assert_eq!(evaluate(Condition::Available, &paused), Readiness::Pending("the rollout is paused".into()));
        let unavailable = yaml(
            "metadata: {generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, updatedReplicas: 1, conditions: [{type: Available, status: 'False', reason: MinimumReplicasUnavailable}]}",
        );
        match evaluate(Condition::Available, &unavailable) {
            Readiness::Pending(why) => assert!(why.contains("0/1 available") && why.contains("MinimumReplicasUnavailable"), "{why}"),
            r => panic!("{r:?}"),
        }
    }
}
