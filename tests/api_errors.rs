//! Bad input over raw HTTP: every error is a `kind: Status` with Kubernetes' code and
//! reason, nothing is partially written, and the server keeps serving — including
//! under a few hundred randomly mangled requests.

mod support;

use serde_json::{Value, json};
use support::Server;

fn assert_status(code: u16, body: &Value, want: u16, reason: &str) {
    assert_eq!(code, want, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], want);
    assert_eq!(body["reason"], reason, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
}

/// A client that writes its whole oversized body before reading, as simple HTTP
/// clients do, still reads the 413 Status rather than a reset connection: the
/// server reads (and drops) the rest of the body before it answers and closes.
#[test]
fn an_oversized_body_written_in_full_still_gets_its_status() {
    use std::io::{Read, Write};
    let s = Server::start();
    let addr = s.http().base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_write_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    // Far past the 3 MiB limit: more than any socket buffers hold unread.
    let body = vec![b' '; 16 << 20];
    write!(
        conn,
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(&body)
        .expect("the server keeps reading the body it refuses");
    let mut answer = String::new();
    conn.read_to_string(&mut answer)
        .expect("the answer arrives, not a reset");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let status: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_status(413, &status, 413, "RequestEntityTooLarge");
    // And the server keeps serving.
    let (code, body) = s.http().get("/api/v1/namespaces/default");
    assert_eq!(code, 200, "{body}");
}

#[test]
fn each_kind_of_bad_request_gets_its_status() {
    let s = Server::start();
    let http = s.http();
    let (code, body) = http.send("POST", PODS, "application/json", b"{not json".to_vec());
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.send("POST", PODS, "application/yaml", b"a: [unclosed".to_vec());
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.send("POST", PODS, "text/plain", b"hello".to_vec());
    assert_status(code, &body, 415, "UnsupportedMediaType");
    let (code, body) = http.get("/api/v1/namespaces/default/widgets");
    assert_status(code, &body, 404, "NotFound");
    let (code, body) = http.get("/apis/nope.example.com/v1");
    assert_status(code, &body, 404, "NotFound");
    let (code, body) = http.get(&format!("{PODS}/missing"));
    assert_status(code, &body, 404, "NotFound");
    assert_eq!(body["message"], "pods \"missing\" not found");
    assert_eq!(body["details"]["name"], "missing");

    let huge = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                      "data": {"x": "y".repeat(4 * 1024 * 1024)}});
    let (code, body) = http.post_json("/api/v1/namespaces/default/configmaps", &huge);
    assert_status(code, &body, 413, "RequestEntityTooLarge");

    let (code, body) = http.post_json(PODS, &pod("Bad_Name"));
    assert_status(code, &body, 422, "Invalid");
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(body["details"]["causes"][0]["reason"], "FieldValueInvalid");

    let mut no_image = pod("p");
    no_image["spec"]["containers"][0]["image"] = json!("");
    let (code, body) = http.post_json(PODS, &no_image);
    assert_status(code, &body, 422, "Invalid");
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.containers[0].image"
    );

    let mut typed_wrong = pod("p");
    typed_wrong["spec"]["containers"] = json!({"not": "a list"});
    let (code, body) = http.post_json(PODS, &typed_wrong);
    assert_status(code, &body, 400, "BadRequest");

    let (code, body) = http.post_json(&format!("{PODS}?fieldValidation=Strict"), &json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}, "extra": 1}));
    assert_status(code, &body, 400, "BadRequest");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"extra\"")
    );
    let dup = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d","name":"d"},"spec":{"containers":[{"name":"c","image":"i:1"}]}}"#;
    let (code, body) = http.send(
        "POST",
        &format!("{PODS}?fieldValidation=Strict"),
        "application/json",
        dup.to_vec(),
    );
    assert_status(code, &body, 400, "BadRequest");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field \"metadata.name\"")
    );

    let (code, body) = http.post_json("/api/v1/namespaces/ghost/pods", &pod("p"));
    assert_status(code, &body, 404, "NotFound");
    assert_eq!(body["message"], "namespaces \"ghost\" not found");

    let (code, body) = http.post_json(PODS, &pod("twice"));
    assert_eq!(code, 201, "{body}");
    let (code, body) = http.post_json(PODS, &pod("twice"));
    assert_status(code, &body, 409, "AlreadyExists");

    let (code, body) = http.send("PUT", PODS, "application/json", b"{}".to_vec());
    assert_status(code, &body, 405, "MethodNotAllowed");
    let (code, body) = http.get(&format!("{PODS}?labelSelector=a%20in%20(b"));
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.get(&format!("{PODS}?fieldSelector=spec.bogus%3Dx"));
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.get(&format!("{PODS}?limit=1&continue=garbage"));
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.get(&format!("{PODS}?resourceVersionMatch=Exact"));
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http.get(&format!(
        "{PODS}?resourceVersion=1&resourceVersionMatch=Sometimes"
    ));
    assert_status(code, &body, 400, "BadRequest");

    let (code, _) = http.get("/livez");
    assert_eq!(code, 200, "the server is still serving");
    let (code, list) = http.get(PODS);
    assert_eq!(code, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["twice"], "no rejected request wrote anything");
}

/// A create is answered with the object exactly as a read returns it afterwards
/// (the answer is made from the stored bytes), and a namespace being deleted takes
/// no new objects.
#[test]
fn creates_answer_what_was_stored_and_respect_terminating_namespaces() {
    let s = Server::start();
    let http = s.http();
    let (code, created) = http.post_json(PODS, &pod("answered"));
    assert_eq!(code, 201, "{created}");
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap();
    assert!(rv.parse::<u64>().unwrap() > 0, "{created}");
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );
    assert_eq!(
        created["spec"]["restartPolicy"], "Always",
        "defaults applied"
    );
    // A ConfigMap, which neither a controller nor the scheduler changes after
    // the create (the scheduler may already have marked the pod unschedulable).
    let configmaps = "/api/v1/namespaces/default/configmaps";
    let (code, created) = http.post_json(
        configmaps,
        &json!({"metadata": {"name": "answered", "labels": {"a": "b"}}, "data": {"k": "v"}}),
    );
    assert_eq!(code, 201, "{created}");
    let (code, read) = http.get(&format!("{configmaps}/answered"));
    assert_eq!(code, 200);
    assert_eq!(created, read, "the create's answer is the stored object");

    // A finalizer of its own keeps the namespace in Terminating once deleted.
    let (code, body) = http.post_json(
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "closing", "finalizers": ["example.com/hold"]}}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = http.send(
        "DELETE",
        "/api/v1/namespaces/closing",
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200, "{body}");
    let (code, body) = http.post_json("/api/v1/namespaces/closing/pods", &pod("late"));
    assert_status(code, &body, 403, "Forbidden");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("because it is being terminated"),
        "{body}"
    );
}

#[test]
fn watch_past_the_history_window_is_gone() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let s = Server::start_with(&data, &["--history-window", "5"]);
    let http = s.http();
    for i in 0..40 {
        let (code, _) = http.post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": format!("c{i}")}}),
        );
        assert_eq!(code, 201);
    }
    let body = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2&timeoutSeconds=2",
            s.url
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let first: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "ERROR", "{body}");
    assert_eq!(first["object"]["code"], 410);
    assert_eq!(first["object"]["reason"], "Expired");
    assert!(
        first["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 2")
    );
}

/// A few hundred deterministic random requests: mangled objects, random bytes and
/// content types. The server never answers 5xx, every error is a Status, rejected
/// writes leave nothing behind, and it keeps serving.
#[test]
fn mangled_requests_never_break_the_server() {
    let s = Server::start();
    let http = s.http();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let templates = [
        pod("x"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "v"}}),
    ];
    let paths = [
        "/api/v1/namespaces/default/pods",
        "/apis/apps/v1/namespaces/default/deployments",
        "/api/v1/namespaces/default/services",
        "/api/v1/namespaces/default/configmaps",
    ];
    let junk: [Value; 8] = [
        json!(null),
        json!(-1),
        json!("str"),
        json!([1, {}]),
        json!({}),
        json!(true),
        json!(1e300),
        json!({"$patch": "delete"}),
    ];
    let mut created = Vec::new();
    let mut rejected = Vec::new();
    for i in 0..300 {
        let t = (next() % 4) as usize;
        let name = format!("f{i}");
        let mut obj = templates[t].clone();
        obj["metadata"]["name"] = json!(name);
        // Mangle a random field path.
        let mangles = next() % 4;
        for _ in 0..mangles {
            let value = junk[(next() % junk.len() as u64) as usize].clone();
            match next() % 6 {
                0 => obj["spec"] = value,
                1 => obj["metadata"]["labels"] = value,
                2 => obj["kind"] = value,
                3 => obj["metadata"]["name"] = value,
                4 => {
                    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                        spec.insert("replicas".into(), value);
                    }
                }
                _ => obj["data"] = value,
            }
        }
        let (content_type, body) = match next() % 5 {
            0 => ("application/json", {
                let mut b = obj.to_string().into_bytes();
                let cut = (next() as usize) % (b.len() + 1);
                b.truncate(cut);
                b
            }),
            1 => (
                "application/json",
                (0..(next() % 200)).map(|_| next() as u8).collect(),
            ),
            2 => ("application/yaml", obj.to_string().into_bytes()),
            3 => (
                "application/vnd.kubernetes.protobuf",
                (0..(next() % 64)).map(|_| next() as u8).collect(),
            ),
            _ => ("application/json", obj.to_string().into_bytes()),
        };
        let (code, resp) = http.send("POST", paths[t], content_type, body);
        assert!(code < 500, "request {i} got {code}: {resp}");
        if code == 201 {
            created.push((
                paths[t],
                resp["metadata"]["name"].as_str().unwrap().to_string(),
            ));
        } else {
            assert_eq!(resp["kind"], "Status", "request {i}: {resp}");
            rejected.push((paths[t], name));
        }
    }
    assert!(!rejected.is_empty() && !created.is_empty());
    for (path, name) in &rejected {
        if created.iter().any(|(p, n)| p == path && n == name) {
            continue;
        }
        let (code, _) = http.get(&format!("{path}/{name}"));
        assert_eq!(code, 404, "rejected {path}/{name} left something behind");
    }
    for (path, name) in &created {
        let (code, _) = http.get(&format!("{path}/{name}"));
        assert_eq!(code, 200);
    }
}

#[test]
fn odd_but_legal_inputs_do_not_drop_the_connection() {
    let s = Server::start();
    let http = s.http();
    let (code, body) =
        http.get("/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dcaf%C3%A9");
    assert_eq!(code, 200, "{body}");
    // A huge timeout is clamped, not overflowed (the stream stays open: read the head).
    let resp = http
        .client
        .get(format!(
            "{}/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=9223372036854775807",
            http.base
        ))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    // A resourceVersion the server has not reached: 504 with the cause client-go's
    // reflector looks for, after a short wait.
    let (code, body) = http.get("/api/v1/namespaces/default/pods?resourceVersion=999999999");
    assert_status(code, &body, 504, "Timeout");
    assert_eq!(
        body["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    let (code, body) = http.post_json(PODS, &json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "€".repeat(30)}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}));
    assert_status(code, &body, 422, "Invalid");
    let (code, _) = http.get("/livez");
    assert_eq!(code, 200);
}

#[test]
fn deletes_answer_like_kubernetes() {
    let s = Server::start();
    let http = s.http();
    let (code, _) = http.post_json(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "c"}}),
    );
    assert_eq!(code, 201);
    let (code, body) = http.send(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/c",
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["name"], "c");
    assert_eq!(body["details"]["kind"], "configmaps");
    let (code, _) = http.post_json(PODS, &pod("gone"));
    assert_eq!(code, 201);
    let (code, body) = http.send(
        "DELETE",
        &format!("{PODS}/gone"),
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200);
    assert_eq!(
        body["kind"], "Pod",
        "pods return the deleted object: {body}"
    );
    let (code, _) = http.post_json(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "f", "finalizers": ["example.com/hold"]}}),
    );
    assert_eq!(code, 201);
    let (code, body) = http.send(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/f",
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200);
    assert_eq!(
        body["kind"], "ConfigMap",
        "a marked object is returned: {body}"
    );
    assert!(body["metadata"]["deletionTimestamp"].is_string());
    // Removing the last finalizer finishes the delete.
    let (code, _) = http.send(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/f",
        "application/merge-patch+json",
        br#"{"metadata":{"finalizers":null}}"#.to_vec(),
    );
    assert_eq!(code, 200);
    let (code, _) = http.get("/api/v1/namespaces/default/configmaps/f");
    assert_eq!(code, 404);
}
