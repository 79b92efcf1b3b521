//! `passerelle serve --config server.toml --check`: a good file is summed up, a mistake is named
//! by file, line and key, and the environment overrides the file.

mod common;

use common::bin;

#[test]
fn a_config_mistake_names_its_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("server.toml");
    std::fs::write(
        &good,
        "[server]\naddr = \"127.0.0.1:7811\"\npublic_scopes = [\"search\", \"stats\"]\nmaster_key_env = \"PASSERELLE_TEST_MASTER\"\n\n[limits]\nper_client_per_minute = 120\n",
    )
    .unwrap();
    let out = bin().args(["serve", "--config", good.to_str().unwrap(), "--check"]).env("PASSERELLE_TEST_MASTER", "un-secret-de-test").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("127.0.0.1:7811") && said.contains("search, stats") && said.contains("master key: set"), "{said}");
    assert!(!said.contains("un-secret-de-test"), "the master key was printed");

    // The environment overrides the file.
    let out = bin().args(["serve", "--config", good.to_str().unwrap(), "--check"]).env("PASSERELLE_ADDR", "127.0.0.1:7812").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("127.0.0.1:7812"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\naddr = \"127.0.0.1:7811\"\n\n[limits]\nper_client_per_minute = 0\n").unwrap();
    let out = bin().args(["serve", "--config", bad.to_str().unwrap(), "--check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.toml:5") && err.contains("per_client_per_minute"), "{err}");

    std::fs::write(&bad, "[server]\npubic_scopes = [\"search\"]\n").unwrap();
    let out = bin().args(["serve", "--config", bad.to_str().unwrap(), "--check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.toml:2") && err.contains("pubic_scopes"), "{err}");
}
