//! The SMTP sink of the mail tests: `smtp_sink.py` (aiosmtpd) on a free loopback port, each
//! mail it receives one JSON line. Shared by the mailer's and the forwarding tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use passerelle_server::mail::{MailConfig, Security};
use serde_json::Value;

const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");

/// The sink, stopped (its standard input closed, then killed) when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    pub fn start(login: Option<&str>) -> Sink {
        let check = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        match check {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "the mail tests need Python's aiosmtpd, which is missing ({}). Run the test command, scripts/test, which installs it, \
                 or: python3 -m pip install --user aiosmtpd",
                String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or("")
            ),
            Err(e) => panic!("the mail tests need python3 with aiosmtpd ({e}). Run the test command, scripts/test, which installs aiosmtpd"),
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mails.jsonl");
        let mut command = Command::new("python3");
        command.arg(SINK).arg("0").arg(&out).args(login).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start python3 smtp_sink.py");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut sink = Sink { child, port: 0, out, _dir: dir };
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("smtp_sink.py printed nothing in 30 s");
        sink.port = line.trim().strip_prefix("ready ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("smtp_sink.py said {line:?}, not `ready PORT`"));
        sink
    }

    pub fn mails(&self) -> Vec<Value> {
        read_lines(&self.out)
    }

    pub fn config(&self) -> MailConfig {
        MailConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            from: "passerelle <no-reply@passerelle.example>".into(),
            security: Security::None,
            username: None,
            password: None,
            password_env: None,
            timeout: Duration::from_secs(10),
        }
    }
}

pub fn read_lines(path: &Path) -> Vec<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Every value of header `name` (any case), as the sink's parser decoded it.
pub fn header<'a>(mail: &'a Value, name: &str) -> Vec<&'a str> {
    mail["headers"].as_array().unwrap().iter().filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name)).map(|h| h[1].as_str().unwrap()).collect()
}
