//! The canonical form of a decoded object: what Kubernetes' own encoding of its Go
//! structs gives back, so that clients read what they would read from Kubernetes.
//!
//! Two things differ from a plain round trip through k8s-openapi's structs, which
//! keep an empty list or map the client sent:
//! - An optional list or map that is empty is left out, as Go's `omitempty` does
//!   (`labels: {}` after the last label is removed, `ownerReferences: []` after an
//!   orphaning delete). An empty *struct* (`emptyDir: {}`, `securityContext: {}`) is
//!   a value in Go and stays.
//! - Every resource quantity is in its canonical form (`1000m` → `1`, `0.5` →
//!   `500m`, `1048576Ki` → `1Gi`), as `resource.Quantity` marshals itself.
//!
//! Which fields are lists, maps, structs or quantities comes from the kinds' OpenAPI
//! schemas (k8s-openapi's, through schemars), compiled once into a small tree.
//! Custom kinds have no typed struct; only their `metadata` is canonical, as
//! Kubernetes coerces a custom object's metadata through `ObjectMeta`.

use std::collections::HashMap;
use std::sync::OnceLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::resources::{RESOURCES, ResourceInfo};

/// Puts `obj`, an object of `info`'s kind just decoded, in canonical form.
pub fn apply(info: &ResourceInfo, obj: &mut Value) {
    let shapes = shapes();
    match shapes.kinds.get(&(info.group, info.kind)) {
        Some(&root) => shapes.walk(root, obj),
        None => {
            if let Some(meta) = obj.get_mut("metadata") {
                shapes.walk(shapes.meta, meta);
            }
        }
    }
}

/// What a schema says about a value, as far as canonical form cares.
#[derive(Debug, Clone)]
enum Shape {
    /// Nothing to do inside (a string, a number, free-form JSON).
    Plain,
    Quantity,
    List(usize),
    /// A map with values of this shape.
    Map(usize),
    /// A struct's fields, sorted by name.
    Struct(Vec<Field>),
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    shape: usize,
    /// Go has no `omitempty` for it: an empty value is kept.
    required: bool,
}

struct Shapes {
    nodes: Vec<Shape>,
    kinds: HashMap<(&'static str, &'static str), usize>,
    meta: usize,
}

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let mut generator = SchemaSettings::openapi3().into_generator();
        let mut roots = Vec::new();
        for info in RESOURCES {
            if let Some(schema_fn) = info.schema {
                roots.push((info, schema_fn(&mut generator).to_value()));
            }
        }
        let meta_root = generator.subschema_for::<ObjectMeta>().to_value();
        let definitions = generator.take_definitions(true);
        let mut compiler = Compiler {
            definitions: &definitions,
            nodes: Vec::new(),
            named: HashMap::new(),
            pending: Default::default(),
        };
        let kinds = roots
            .iter()
            .map(|(info, schema)| ((info.group, info.kind), compiler.compile(schema)))
            .collect();
        let meta = compiler.compile(&meta_root);
        Shapes {
            nodes: compiler.nodes,
            kinds,
            meta,
        }
    })
}

struct Compiler<'a> {
    definitions: &'a Map<String, Value>,
    nodes: Vec<Shape>,
    /// Definitions compiled (or being compiled: schemas may refer to themselves).
    named: HashMap<String, usize>,
    /// Those still being compiled.
    pending: std::collections::HashSet<usize>,
}

impl Compiler<'_> {
    fn push(&mut self, shape: Shape) -> usize {
        self.nodes.push(shape);
        self.nodes.len() - 1
    }

    fn compile(&mut self, schema: &Value) -> usize {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            if let Some(&id) = self.named.get(name) {
                return id;
            }
            if name == QUANTITY {
                let id = self.push(Shape::Quantity);
                self.named.insert(name.to_string(), id);
                return id;
            }
            // Reserved first, so a schema that refers to itself ends the recursion.
            let id = self.push(Shape::Plain);
            self.named.insert(name.to_string(), id);
            self.pending.insert(id);
            let shape = match self.definitions.get(name) {
                Some(def) => {
                    let inner = self.compile(def);
                    self.nodes[inner].clone()
                }
                None => Shape::Plain,
            };
            self.nodes[id] = shape;
            self.pending.remove(&id);
            return id;
        }
        // `Option<T>` comes out as `anyOf: [T, null]` (or `allOf: [T]` once
        // published); the non-null alternative is the shape.
        for combinator in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(alternatives)) = schema.get(combinator) {
                let non_null: Vec<&Value> = alternatives
                    .iter()
                    .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                    .collect();
                if let [only] = non_null.as_slice() {
                    return self.compile(only);
                }
                return self.push(Shape::Plain);
            }
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        };
        match ty {
            Some("array") => {
                let items = schema.get("items").cloned().unwrap_or(Value::Bool(true));
                let item = self.compile(&items);
                self.push(Shape::List(item))
            }
            _ if schema.get("properties").is_some() => {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut fields: Vec<Field> = Vec::new();
                if let Some(Value::Object(properties)) = schema.get("properties") {
                    for (name, property) in properties {
                        let shape = self.compile(property);
                        fields.push(Field {
                            name: name.clone(),
                            shape,
                            required: required.contains(&name.as_str()),
                        });
                    }
                }
                // A struct with nothing to change at any depth is walked past (a
                // field still being compiled, a self-reference, may have work).
                if fields.iter().all(|f| {
                    matches!(self.nodes[f.shape], Shape::Plain) && !self.pending.contains(&f.shape)
                }) {
                    return self.push(Shape::Plain);
                }
                fields.sort_by(|a, b| a.name.cmp(&b.name));
                self.push(Shape::Struct(fields))
            }
            Some("object") => match schema.get("additionalProperties") {
                Some(values @ Value::Object(_)) => {
                    let value = self.compile(values);
                    self.push(Shape::Map(value))
                }
                _ => self.push(Shape::Plain),
            },
            _ => self.push(Shape::Plain),
        }
    }
}

impl Shapes {
    fn walk(&self, shape: usize, value: &mut Value) {
        match (&self.nodes[shape], value) {
            (Shape::Quantity, Value::String(q)) => {
                if let Some(canonical) = canonical_quantity(q) {
                    *q = canonical;
                }
            }
            (Shape::List(item), Value::Array(items)) if self.has_work(*item) => {
                for v in items {
                    self.walk(*item, v);
                }
            }
            (Shape::Map(item), Value::Object(map)) if self.has_work(*item) => {
                for v in map.values_mut() {
                    self.walk(*item, v);
                }
            }
            (Shape::Struct(fields), Value::Object(map)) => {
                // Empties are rare: found while walking, removed after (a `retain`
                // on every struct cost as much as the rest of the walk).
                let mut empties = Vec::new();
                for (name, v) in map.iter_mut() {
                    let Ok(i) = fields.binary_search_by(|f| f.name.as_str().cmp(name)) else {
                        continue;
                    };
                    let field = &fields[i];
                    let empty = match (&self.nodes[field.shape], &*v) {
                        (Shape::List(_), Value::Array(a)) => a.is_empty(),
                        (Shape::Map(_), Value::Object(m)) => m.is_empty(),
                        _ => false,
                    };
                    if empty && !field.required {
                        empties.push(name.clone());
                    } else if self.has_work(field.shape) {
                        self.walk(field.shape, v);
                    }
                }
                for name in empties {
                    map.remove(&name);
                }
            }
            _ => {}
        }
    }

    /// Whether values of this shape can change at all.
    fn has_work(&self, shape: usize) -> bool {
        !matches!(self.nodes[shape], Shape::Plain)
    }
}

/// How a quantity was written, which its canonical form keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// The canonical form of a quantity, as Kubernetes' `Quantity.String()` gives it;
/// `None` when `q` is not a quantity this can represent exactly (validation
/// rejects the malformed ones; absurdly large ones are left as written).
pub fn canonical_quantity(q: &str) -> Option<String> {
    let (negative, rest) = match q.as_bytes().first()? {
        b'-' => (true, &q[1..]),
        b'+' => (false, &q[1..]),
        _ => (false, q),
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let mut exponent = -i32::try_from(fraction.len()).ok()?;
    let format = match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => {
            exponent += match suffix {
                "n" => -9,
                "u" => -6,
                "m" => -3,
                "k" => 3,
                "M" => 6,
                "G" => 9,
                "T" => 12,
                "P" => 15,
                "E" => 18,
                _ => 0,
            };
            Format::DecimalSi
        }
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = match suffix {
                "Ki" => 1,
                "Mi" => 2,
                "Gi" => 3,
                "Ti" => 4,
                "Pi" => 5,
                _ => 6,
            };
            mantissa = mantissa.checked_mul(1u128.checked_shl(10 * power)?)?;
            Format::BinarySi
        }
        e if e.starts_with(['e', 'E']) => {
            exponent = exponent.checked_add(e[1..].parse::<i32>().ok()?)?;
            Format::DecimalExponent
        }
        _ => return None,
    };
    if mantissa == 0 {
        return Some("0".into());
    }
    // Kubernetes keeps nano precision, rounding anything finer up (away from zero).
    if exponent < -9 {
        let drop = u32::try_from(-9 - exponent).ok()?;
        let divisor = 10u128.checked_pow(drop)?;
        mantissa = mantissa.div_ceil(divisor);
        exponent = -9;
    }
    while mantissa.is_multiple_of(10) {
        mantissa /= 10;
        exponent += 1;
    }
    let sign = if negative { "-" } else { "" };
    if format == Format::BinarySi && exponent >= 0 {
        let value = mantissa.checked_mul(10u128.checked_pow(u32::try_from(exponent).ok()?)?)?;
        // Below 1024 a binary suffix cannot be used; Kubernetes writes it decimal.
        if value >= 1024 {
            let mut power = 0;
            let mut n = value;
            while power < 6 && n.is_multiple_of(1024) {
                n /= 1024;
                power += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
            return Some(format!("{sign}{n}{suffix}"));
        }
    }
    // The largest multiple of three at or below the exponent keeps the mantissa
    // whole; E (10^18) is the largest decimal suffix.
    let mut scale = exponent.div_euclid(3) * 3;
    if format == Format::DecimalSi {
        scale = scale.min(18);
    }
    let mantissa =
        mantissa.checked_mul(10u128.checked_pow(u32::try_from(exponent - scale).ok()?)?)?;
    let suffix = match (format, scale) {
        (_, 0) => String::new(),
        (Format::DecimalExponent, s) => format!("e{s}"),
        (_, -9) => "n".into(),
        (_, -6) => "u".into(),
        (_, -3) => "m".into(),
        (_, 3) => "k".into(),
        (_, 6) => "M".into(),
        (_, 9) => "G".into(),
        (_, 12) => "T".into(),
        (_, 15) => "P".into(),
        (_, 18) => "E".into(),
        (_, s) => format!("e{s}"),
    };
    Some(format!("{sign}{mantissa}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;
    use serde_json::json;

    #[test]
    fn quantities_take_kubernetes_canonical_form() {
        for (written, canonical) in [
            ("1000m", "1"),
            ("1.5", "1500m"),
            ("0.5", "500m"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1200", "1200"),
            ("1000", "1k"),
            ("128Mi", "128Mi"),
            ("1048576Ki", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1000Ki", "1000Ki"),
            ("100M", "100M"),
            ("1G", "1G"),
            ("2e3", "2e3"),
            ("2000e0", "2e3"),
            ("1e-3", "1e-3"),
            ("0", "0"),
            ("0Mi", "0"),
            ("0.0000000001", "1n"),
            ("-1.5", "-1500m"),
            ("512", "512"),
            ("0.5Ki", "512"),
            ("1E", "1E"),
            ("1000E", "1000E"),
        ] {
            assert_eq!(
                canonical_quantity(written).as_deref(),
                Some(canonical),
                "{written}"
            );
        }
        for bad in ["", "m", "1.2.3", "5Xi", "lots", "1..2"] {
            assert_eq!(canonical_quantity(bad), None, "{bad}");
        }
    }

    #[test]
    fn empty_optional_lists_and_maps_are_left_out_but_empty_structs_stay() {
        let mut pod = json!({
            "metadata": {"name": "p", "labels": {}, "annotations": {}, "finalizers": [],
                         "ownerReferences": []},
            "spec": {
                "containers": [{"name": "a", "image": "x", "args": [], "env": [],
                                "resources": {"limits": {"cpu": "1000m", "memory": "1048576Ki"},
                                              "requests": {}}}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "tolerations": [],
                "nodeSelector": {},
                "securityContext": {}
            }
        });
        apply(find("", "v1", "pods").unwrap(), &mut pod);
        assert_eq!(
            pod,
            json!({
                "metadata": {"name": "p"},
                "spec": {
                    "containers": [{"name": "a", "image": "x",
                                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
                    "volumes": [{"name": "v", "emptyDir": {}}],
                    "securityContext": {}
                }
            })
        );
    }

    #[test]
    fn a_required_list_stays_even_empty() {
        let mut slice = json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": []});
        apply(
            find("discovery.k8s.io", "v1", "endpointslices").unwrap(),
            &mut slice,
        );
        assert_eq!(slice["endpoints"], json!([]));
    }

    #[test]
    fn a_custom_objects_metadata_is_canonical_and_its_body_untouched() {
        let info = ResourceInfo {
            group: "example.com",
            version: "v1",
            kind: "Widget",
            plural: "widgets",
            singular: "widget",
            namespaced: true,
            short_names: &[],
            categories: &[],
            subresources: &[],
            field_labels: &[],
            tracks_generation: true,
            decode: |v| Ok(v.clone()),
            decode_json: None,
            schema: None,
        };
        let mut obj =
            json!({"metadata": {"name": "c", "labels": {}}, "spec": {"items": [], "m": {}}});
        apply(&info, &mut obj);
        assert_eq!(
            obj,
            json!({"metadata": {"name": "c"}, "spec": {"items": [], "m": {}}})
        );
    }
}
