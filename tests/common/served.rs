//! A running `amqdr serve` process: started with a command, stopped with SIGTERM, asked over
//! plain HTTP/1.1, its metrics checked by prometheus_client's OpenMetrics parser
//! (tests/testbed/openmetrics/parse.sh).

#![allow(dead_code)]

use super::kube_testbed::repo_root;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Served {
    child: Option<Child>,
    pub addr: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Start `cmd` (an `amqdr serve ...` command); wait until it says where it listens.
    pub fn start(mut cmd: Command) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let child =
            cmd.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).stdin(Stdio::null()).spawn().expect("start amqdr serve");
        let mut served = Served { child: Some(child), addr: String::new(), log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = served.log_text();
            if let Some(rest) = text.split(" on http://").nth(1) {
                served.addr = rest.split_whitespace().next().unwrap().to_string();
                return served;
            }
            if let Some(status) = served.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("amqdr serve exited ({status}) before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "amqdr serve did not start listening:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET `path`: status code and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        get(&self.addr, path)
    }

    /// Poll `what` every 100 ms until it holds; panics with the last answer at `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut check: impl FnMut(&Served) -> Result<(), String>) -> Duration {
        let started = Instant::now();
        loop {
            match check(self) {
                Ok(()) => return started.elapsed(),
                Err(last) => {
                    if started.elapsed() > timeout {
                        panic!("{what}: not reached within {timeout:?}; last: {last}\nlog:\n{}", self.log_text());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `/metrics` parsed by prometheus_client's OpenMetrics parser (strict): the families.
    pub fn metrics(&self) -> Value {
        let (code, text) = self.get("/metrics");
        assert_eq!(code, 200, "{text}");
        parse_openmetrics(&text)
    }

    /// SIGTERM, then wait for the exit (graceful shutdown).
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("amqdr serve did not stop within 30 s of SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A minimal HTTP/1.1 GET, as a monitor would send it.
pub fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, body.to_string())
}

pub fn parse_openmetrics(text: &str) -> Value {
    let mut child = Command::new(repo_root().join("tests/testbed/openmetrics/parse.sh"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/testbed/openmetrics/parse.sh");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the OpenMetrics parser rejected /metrics: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `sample` (with all `labels`) of family `family`.
pub fn sample(families: &Value, family: &str, sample: &str, labels: &[(&str, &str)]) -> Option<f64> {
    families[family]["samples"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == sample && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap_or(f64::NAN))
}
