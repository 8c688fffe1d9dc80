//! Property tests: garbage and random JSON through all three formats must never panic, and
//! what comes back must keep the crate's promises.

use serde_json::{Map, Value, json};

use super::{assert_no_directives, deployment};
use crate::{PatchError, PatchType, apply};

const TYPES: [PatchType; 3] = [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge];

/// Marsaglia's xorshift64: tiny, deterministic, good enough to wander the input space.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Keys that steer into every corner of the strategic merge: directives, merge-keyed lists,
/// primitive lists, and their merge keys.
const KEYS: &[&str] = &[
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/finalizers",
    "$setElementOrder/env",
    "$setElementOrder/ports",
    "$setElementOrder/tolerations",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/containers",
    "$deleteFromPrimitiveList",
    "$setElementOrder",
    "metadata",
    "spec",
    "template",
    "status",
    "containers",
    "env",
    "ports",
    "finalizers",
    "conditions",
    "tolerations",
    "volumes",
    "name",
    "type",
    "port",
    "containerPort",
    "image",
    "value",
    "x",
    "",
];

const STRINGS: &[&str] = &[
    "replace", "delete", "merge", "app", "sidecar", "a", "b", "name", "x", "", "$patch",
];

fn random_scalar(rng: &mut XorShift) -> Value {
    match rng.below(7) {
        0 => Value::Null,
        1 => json!(rng.chance(2)),
        2 => json!(rng.below(4)),
        3 => json!(rng.next() as i64),
        4 => json!(rng.below(4) as f64 + 0.5),
        5 => json!(u64::MAX - rng.below(3) as u64),
        _ => json!(rng.pick(STRINGS)),
    }
}

fn random_value(rng: &mut XorShift, depth: usize) -> Value {
    if depth == 0 || rng.chance(3) {
        return random_scalar(rng);
    }
    if rng.chance(2) {
        let len = rng.below(5);
        Value::Array((0..len).map(|_| random_value(rng, depth - 1)).collect())
    } else {
        random_object(rng, depth - 1)
    }
}

fn random_object(rng: &mut XorShift, depth: usize) -> Value {
    let mut map = Map::new();
    for _ in 0..rng.below(5) {
        let key = (*rng.pick(KEYS)).to_owned();
        // Merge lists want objects with their keys; give them those often.
        let value = if rng.chance(2) && depth > 0 {
            let len = rng.below(4);
            Value::Array(
                (0..len)
                    .map(|_| {
                        let mut element = random_object(rng, depth - 1);
                        if let Value::Object(m) = &mut element
                            && rng.chance(2)
                        {
                            m.insert("name".into(), json!(rng.pick(STRINGS)));
                        }
                        element
                    })
                    .collect(),
            )
        } else {
            random_value(rng, depth)
        };
        map.insert(key, value);
    }
    Value::Object(map)
}

/// A JSON patch operation aimed at paths that exist in the sample Deployment, or nearly.
fn random_operation(rng: &mut XorShift) -> Value {
    const PATHS: &[&str] = &[
        "",
        "/spec",
        "/spec/replicas",
        "/metadata/labels/app",
        "/metadata/finalizers/0",
        "/metadata/finalizers/-",
        "/metadata/finalizers/9",
        "/spec/template/spec/containers/0/env/1",
        "/spec/template/spec/containers/-",
        "/nope/deeper",
        "/a~1b",
        "/a~2",
        "no-slash",
    ];
    const OPS: &[&str] = &["add", "remove", "replace", "move", "copy", "test", "bogus"];
    let mut op = Map::new();
    if !rng.chance(10) {
        op.insert("op".into(), json!(rng.pick(OPS)));
    }
    if !rng.chance(10) {
        op.insert("path".into(), json!(rng.pick(PATHS)));
    }
    if rng.chance(2) {
        op.insert("from".into(), json!(rng.pick(PATHS)));
    }
    if rng.chance(4) {
        op.insert("from".into(), random_scalar(rng));
    }
    if !rng.chance(5) {
        op.insert("value".into(), random_value(rng, 3));
    }
    Value::Object(op)
}

#[track_caller]
fn check(patch_type: PatchType, original: &Value, body: &[u8]) {
    match apply(patch_type, original, body) {
        Ok(patched) => {
            assert!(patched.is_object());
            if patch_type == PatchType::StrategicMerge {
                assert_no_directives(&patched);
            }
        }
        Err(e) => {
            assert!(matches!(e.http_status(), 400 | 413 | 422 | 500), "{e:?}");
            assert!(!matches!(e, PatchError::InvalidOriginal { .. }), "{e:?}");
        }
    }
}

#[test]
fn garbage_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let original = deployment();
    let alphabet = b"{}[]\":,-0123456789.eE+ \n\tnulltruefalse\\u$/abc\xff\x00";
    for _ in 0..3000 {
        let len = rng.below(48);
        let bytes: Vec<u8> = (0..len).map(|_| *rng.pick(alphabet)).collect();
        for t in TYPES {
            check(t, &original, &bytes);
        }
    }
    for _ in 0..500 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for t in TYPES {
            check(t, &original, &bytes);
        }
    }
}

#[test]
fn random_json_never_panics_and_keeps_promises() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    for round in 0..4000 {
        let original = if round % 2 == 0 {
            deployment()
        } else {
            random_object(&mut rng, 4)
        };
        let patch = if rng.chance(8) {
            random_value(&mut rng, 4)
        } else {
            random_object(&mut rng, 5)
        };
        let body = serde_json::to_vec(&patch).unwrap();
        check(PatchType::StrategicMerge, &original, &body);
        check(PatchType::Merge, &original, &body);
        check(PatchType::Json, &original, &body);

        let ops: Vec<Value> = (0..rng.below(6))
            .map(|_| random_operation(&mut rng))
            .collect();
        check(
            PatchType::Json,
            &original,
            &serde_json::to_vec(&ops).unwrap(),
        );
    }
}

#[test]
fn mangled_kubectl_patches_never_panic() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    let patches = [
        r#"{"metadata":{"$setElementOrder/finalizers":["example.com/a"],"$deleteFromPrimitiveList/finalizers":["example.com/b"]},"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"},"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"C"}],"env":[{"name":"C","value":"3"},{"$patch":"delete","name":"B"}],"name":"app"},{"$patch":"delete","name":"sidecar"}],"volumes":[{"$retainKeys":["name","secret"],"name":"cfg","secret":{"secretName":"s"}}]}}}}"#,
        r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"copy","from":"/metadata","path":"/spec/m"},{"op":"test","path":"/spec/m/name","value":"web"}]"#,
    ];
    let original = deployment();
    for _ in 0..3000 {
        let mut bytes = rng.pick(&patches).as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = rng.next() as u8,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, *rng.pick(b"{}[]\",:$/0n")),
            }
        }
        for t in TYPES {
            check(t, &original, &bytes);
        }
    }
}

#[test]
fn pathological_bodies_are_refused_without_blowing_the_stack() {
    let original = deployment();
    let deep_arrays = "[".repeat(100_000);
    let deep_objects = "{\"a\":".repeat(100_000);
    let nested_ok = format!("{}1{}", "[".repeat(126), "]".repeat(126));
    for body in [&deep_arrays, &deep_objects, &nested_ok] {
        for t in TYPES {
            check(t, &original, body.as_bytes());
        }
    }
    // A patch nearly as deep as serde_json allows, merged into itself.
    let mut deep = json!(1);
    for _ in 0..120 {
        deep = json!({ "spec": deep });
    }
    let body = serde_json::to_vec(&deep).unwrap();
    for t in TYPES {
        check(t, &original, &body);
        let again = apply(t, &deep, &body);
        assert!(again.is_ok() || t == PatchType::Json, "{t}: {again:?}");
    }
}

#[test]
fn big_merge_lists_stay_fast() {
    // Everything is hashed, so tens of thousands of elements take milliseconds, not minutes.
    let n = 20_000;
    let stored: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "x"}))
        .collect();
    let mut patch: Vec<Value> = (0..n)
        .filter(|i| i % 3 == 0)
        .map(|i| json!({"name": format!("c{i}"), "image": "y"}))
        .collect();
    patch.extend(
        (0..n)
            .filter(|i| i % 3 == 1)
            .map(|i| json!({"name": format!("c{i}"), "$patch": "delete"})),
    );
    patch.extend((0..n / 4).map(|i| json!({"name": format!("new{i}")})));
    let order: Vec<Value> = (0..n)
        .rev()
        .filter(|i| i % 3 != 1)
        .map(|i| json!({"name": format!("c{i}")}))
        .collect();
    let finalizers: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
    let original = json!({"metadata": {"finalizers": finalizers}, "spec": {"containers": stored}});
    let started = std::time::Instant::now();
    let patched = super::smp_ok(
        &original,
        &json!({"spec": {"containers": patch}, "metadata": {"finalizers": ["x"]}}),
    );
    let deleted = (0..n).filter(|i| i % 3 == 1).count();
    assert_eq!(
        patched["spec"]["containers"].as_array().unwrap().len(),
        n - deleted + n / 4
    );
    assert_eq!(
        patched["metadata"]["finalizers"].as_array().unwrap().len(),
        n + 1
    );
    // A reorder of the survivors that leaves out the new ones.
    let _ = apply(
        PatchType::StrategicMerge,
        &patched,
        &serde_json::to_vec(&json!({"spec": {"$setElementOrder/containers": order}})).unwrap(),
    );
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
