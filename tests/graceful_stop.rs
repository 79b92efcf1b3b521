//! SIGTERM while a batch of writes is in flight (its body half sent): the server finishes it, answers it, then exits
//! cleanly, and every record it acknowledged is there when it starts again.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Server, bin, import_fixtures, run_ok};
use serde_json::{Value, json};

const MASTER: &str = "master-key-of-the-graceful-stop-test";

#[test]
fn sigterm_finishes_the_writes_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import_fixtures(data);
    run_ok(&["index", "--data", data.to_str().unwrap()]);
    let mut child = bin()
        .env("PASSERELLE_MASTER_KEY", MASTER)
        .args(["serve", "--data", data.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_string();

    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"title": format!("Stage d'arrêt propre numéro {i}"), "source_key": format!("arret-{i}"), "contract_type": "internship", "description": "Une offre écrite pendant l'arrêt du serveur."}))
        .collect();
    let body = Value::Array(batch).to_string();
    // The request is surely in flight: its head and half its body are sent, and the server waits
    // for the rest, when SIGTERM arrives.
    let address = base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /api/offers HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {MASTER}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(rest).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("the write in flight is answered");
    let status = raw.split_whitespace().nth(1).unwrap_or_default().to_string();
    let answer: Value = raw.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    assert_eq!(status, "201", "{raw}");
    assert_eq!(answer["written"].as_array().map(Vec::len), Some(100));
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "the server exited with {exit:?}");

    let server = Server::start_env(data, &[], &[("PASSERELLE_MASTER_KEY", MASTER)]);
    let (status, _) = server.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    assert_eq!(status, 200);
    for written in answer["written"].as_array().unwrap() {
        let id = written["id"].as_str().unwrap();
        let (status, stored) = server.call("GET", &format!("/api/offers/{id}"), MASTER, None);
        assert_eq!(status, 200, "{id} was acknowledged and is gone: {stored}");
    }
    let (_, found) = server.get("/api/search?q=arr%C3%AAt%20propre%20num%C3%A9ro&kind=offer&limit=100");
    let titles: Vec<&str> = common::hit_values(&found, "title").into_iter().filter(|t| t.starts_with("Stage d'arrêt propre")).collect();
    assert_eq!(titles.len(), 100, "served after the restart: {found}");
}
