//! The Kubernetes test bed (tests/testbed/up kube NAME): a real kube-apiserver with etcd and
//! kube-controller-manager on loopback. Tests play the operator's part with [`Standin`].

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct KubeTestbed {
    pub name: String,
    pub kubeconfig: PathBuf,
    /// An identity without any RBAC binding.
    pub limited_kubeconfig: PathBuf,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parse `export NAME=VALUE` lines (values possibly single- or double-quoted).
pub fn parse_exports(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(|c| c == '\'' || c == '"').to_string()))
        .collect()
}

/// Start (or reuse) the test bed cluster NAME.
pub fn kube(name: &str) -> KubeTestbed {
    let up = repo_root().join("tests/testbed/up");
    let out = Command::new(&up).args(["kube", name]).output().unwrap_or_else(|e| panic!("running {}: {e}", up.display()));
    assert!(out.status.success(), "tests/testbed/up kube {name} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let exports = parse_exports(&String::from_utf8_lossy(&out.stdout));
    let kubeconfig = PathBuf::from(exports.get("KUBECONFIG").expect("KUBECONFIG exported"));
    let limited_key = format!("AMQDR_TESTBED_KUBE_{}_LIMITED_KUBECONFIG", name.to_uppercase().replace('-', "_"));
    let limited_kubeconfig = PathBuf::from(exports.get(&limited_key).unwrap_or_else(|| panic!("{limited_key} exported")));
    KubeTestbed { name: name.to_string(), kubeconfig, limited_kubeconfig }
}

/// The current-context name of a kubeconfig file.
pub fn current_context(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).expect("read kubeconfig");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("kubeconfig YAML");
    doc["current-context"].as_str().expect("current-context").to_string()
}

/// A kubeconfig with the contexts of several test bed clusters, renamed `ctx-<name>`.
pub fn merged_kubeconfig(beds: &[&KubeTestbed], out: &Path) -> Vec<String> {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    let mut names = Vec::new();
    for bed in beds {
        let text = std::fs::read_to_string(&bed.kubeconfig).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let current = doc["current-context"].as_str().unwrap();
        let ctx = doc["contexts"].as_array().unwrap().iter().find(|c| c["name"] == current).unwrap();
        let cluster_name = ctx["context"]["cluster"].as_str().unwrap();
        let user_name = ctx["context"]["user"].as_str().unwrap();
        let mut cluster = doc["clusters"].as_array().unwrap().iter().find(|c| c["name"] == cluster_name).unwrap().clone();
        let mut user = doc["users"].as_array().unwrap().iter().find(|u| u["name"] == user_name).unwrap().clone();
        let new = format!("ctx-{}", bed.name);
        cluster["name"] = serde_json::json!(new);
        user["name"] = serde_json::json!(new);
        clusters.push(cluster);
        users.push(user);
        contexts.push(serde_json::json!({"name": new, "context": {"cluster": new, "user": new}}));
        names.push(new);
    }
    let merged = serde_json::json!({
        "apiVersion": "v1", "kind": "Config", "current-context": names[0],
        "clusters": clusters, "users": users, "contexts": contexts,
    });
    // JSON is valid YAML for kubeconfig loaders.
    std::fs::write(out, serde_json::to_string_pretty(&merged).unwrap()).unwrap();
    names
}

/// The real binary against a kubeconfig, with no `AMQDR_*` settings from the environment and no
/// standard input, as CI runs it.
pub fn amqdr(kubeconfig: &Path, args: &[String]) -> std::process::Output {
    amqdr_with_env(kubeconfig, args, &[])
}

/// [`amqdr`] with `AMQDR_*` variables of the test's choosing (none of the test process's own).
pub fn amqdr_with_env(kubeconfig: &Path, args: &[String], env: &[(String, String)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amqdr"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AMQDR_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.args(args).env("KUBECONFIG", kubeconfig).env("CI", "true").stdin(std::process::Stdio::null()).output().expect("run amqdr")
}

/// [`amqdr`] on a blocking thread, so the test's own watches (the stand-in) keep running.
pub async fn run(kubeconfig: &Path, args: Vec<String>) -> std::process::Output {
    run_with_env(kubeconfig, args, Vec::new()).await
}

/// [`amqdr_with_env`] on a blocking thread.
pub async fn run_with_env(kubeconfig: &Path, args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    let kubeconfig = kubeconfig.to_path_buf();
    tokio::task::spawn_blocking(move || amqdr_with_env(&kubeconfig, &args, &env)).await.expect("amqdr thread")
}

pub async fn client(kubeconfig: &Path, context: Option<&str>) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let options = kube::config::KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    let config = kube::Config::from_custom_kubeconfig(kc, &options).await.expect("kubeconfig");
    kube::Client::try_from(config).expect("client")
}
