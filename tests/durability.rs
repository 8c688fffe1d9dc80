//! Durability through `kill -9`: every write the server acknowledged is there after a
//! restart, revisions keep going up, and watch history from before the crash is still
//! served.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::Server;

const WRITERS: usize = 8;

/// Streams creates from several clients, SIGKILLs the server mid-stream, restarts it,
/// and checks every acknowledged create. Three rounds, on one data directory.
#[test]
fn acknowledged_writes_survive_kill_9() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut acked_all: BTreeMap<String, u64> = BTreeMap::new();
    let mut highest_rv = 0u64;
    for round in 0..3 {
        let mut server = Server::start_in(&data);
        let acked = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let http = server.http();
            let acked = acked.clone();
            let stop = stop.clone();
            writers.push(std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("r{round}-w{w}-{i}");
                    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name}, "data": {"round": round.to_string(), "payload": "x".repeat(512)}});
                    let result = http
                        .client
                        .post(format!("{}/api/v1/namespaces/default/configmaps", http.base))
                        .json(&body)
                        .timeout(Duration::from_secs(5))
                        .send();
                    match result {
                        Ok(resp) if resp.status().as_u16() == 201 => {
                            let v: serde_json::Value = resp.json().unwrap();
                            let rv: u64 = v["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
                            acked.lock().unwrap().push((name, rv));
                        }
                        // The server died under us: anything unacknowledged may or may not exist.
                        _ => return,
                    }
                    i += 1;
                }
            }));
        }
        // Let the stream get going (a fresh server may first be busy compiling its
        // plugins on a shared machine), run a while longer, then kill at a point
        // the writers cannot anticipate.
        let going = Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() <= 20 && Instant::now() < going {
            std::thread::sleep(Duration::from_millis(20));
        }
        let until = Instant::now() + Duration::from_millis(300 + 300 * round as u64);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() > 20,
            "round {round}: the stream made progress ({} writes)",
            acked.len()
        );
        for (name, rv) in acked {
            highest_rv = highest_rv.max(rv);
            acked_all.insert(name, rv);
        }

        let restarted = Server::start_in(&data);
        let http = restarted.http();
        let (code, list) = http.get("/api/v1/namespaces/default/configmaps");
        assert_eq!(code, 200);
        let present: BTreeMap<String, u64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["metadata"]["name"].as_str().unwrap().to_string(),
                    o["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                )
            })
            .collect();
        for (name, rv) in &acked_all {
            assert_eq!(
                present.get(name),
                Some(rv),
                "round {round}: acknowledged {name}@{rv} lost after kill -9"
            );
        }
        let (code, created) = http.post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": format!("after-{round}")}}),
        );
        assert_eq!(code, 201, "{created}");
        let rv: u64 = created["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            rv > highest_rv,
            "revisions continue upward: {rv} after {highest_rv}"
        );
        highest_rv = rv;
        drop(restarted);
    }
}

/// A watch from a revision written before a crash resumes from the history on disk.
#[test]
fn watch_history_survives_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = Server::start_in(&data);
    let http = server.http();
    let mut revs = Vec::new();
    for i in 0..5 {
        let (code, obj) = http.post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": format!("h{i}")}}),
        );
        assert_eq!(code, 201);
        revs.push(
            obj["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    server.kill9();
    let restarted = Server::start_in(&data);
    let resp = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={}&timeoutSeconds=2",
            restarted.url, revs[1]
        ))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let events: Vec<serde_json::Value> = BufReader::new(resp)
        .lines()
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("ADDED", "h2"), ("ADDED", "h3"), ("ADDED", "h4")],
        "exactly what followed, in order"
    );
}

/// A second server on a data directory in use is refused before it touches
/// anything, saying why; the first keeps serving.
#[test]
fn a_data_directory_serves_one_server_at_a_time() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let server = Server::start_in(&data);
    let out = std::process::Command::new(support::WHARF)
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .expect("run a second wharf server");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("is in use by another process") && text.contains("--data-dir"),
        "{text}"
    );
    assert!(!text.contains("Os {"), "a raw OS error: {text}");
    server.ok(&["get", "namespace", "default"]);
}

/// A server that cannot start (its port taken, a bad flag) says why and leaves no
/// data directory behind.
#[test]
fn a_refused_start_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let start = |extra: &[&str]| {
        let data = temp.path().join("data");
        let out = std::process::Command::new(support::WHARF)
            .args(["server", "--data-dir"])
            .arg(&data)
            .args(extra)
            .output()
            .expect("run wharf server");
        assert!(!out.status.success());
        assert!(!data.exists(), "{} was created", data.display());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let text = start(&["--listen", &addr]);
    assert!(
        text.contains(&format!("listening on {addr}")) && text.contains("in use"),
        "{text}"
    );
    let missing = temp.path().join("no-such-plugins");
    let text = start(&[
        "--listen",
        "127.0.0.1:0",
        "--plugin-dir",
        missing.to_str().unwrap(),
    ]);
    assert!(
        text.contains("--plugin-dir") && text.contains("not a directory"),
        "{text}"
    );
}
