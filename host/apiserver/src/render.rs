//! Turning objects and lists into responses in the representation the client asked
//! for: JSON, YAML, a `meta.k8s.io/v1` Table, or metadata only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wharf_api_types::ResourceInfo;
use wharf_api_types::custom::{self, PrinterColumn};

use crate::error::ApiError;
use crate::request::{IncludeObject, Representation};
use crate::table;

/// A successful response body before encoding.
pub enum Body<'a> {
    Object(Value),
    /// An object just written, whose JSON is made from the stored bytes.
    Written(crate::storage::Written),
    List {
        info: &'a ResourceInfo,
        items: Vec<Value>,
        revision: u64,
        continue_token: Option<String>,
    },
    /// A document that is not an API object (discovery, Status): always JSON/YAML.
    Plain(Value),
}

impl Body<'_> {
    /// The object itself, for a handler that answers with something made from it.
    pub fn into_object(self) -> Value {
        match self {
            Body::Object(v) | Body::Plain(v) => v,
            Body::Written(w) => w.object,
            Body::List { items, .. } => Value::Array(items),
        }
    }
}

pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// How the rows of one kind are printed: a built-in printer, by kind, or a
/// custom kind's printer columns (those of the CRD version served).
enum Printer<'a> {
    Builtin(&'a str),
    Custom(Vec<PrinterColumn>),
}

impl<'a> Printer<'a> {
    fn of(api_version: &str, kind: &'a str) -> Self {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        match custom::lookup(group, version, kind) {
            Some(c) => Printer::Custom(c.printer_columns),
            None => Printer::Builtin(kind),
        }
    }

    fn cells(&self, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
        match self {
            Printer::Builtin(kind) => table::cells(kind, obj, now),
            Printer::Custom(columns) => table::custom_cells(columns, obj, now),
        }
    }

    fn column_definitions(&self) -> Value {
        match self {
            Printer::Builtin(kind) => Value::from(
                table::columns(kind)
                    .iter()
                    .map(|c| c.to_json())
                    .collect::<Vec<_>>(),
            ),
            Printer::Custom(columns) => Value::from(table::custom_columns(columns)),
        }
    }
}

/// A Table of `rows` objects of `kind` (in `api_version`).
pub fn table(
    api_version: &str,
    kind: &str,
    rows: &[Value],
    include: IncludeObject,
    metadata: Value,
    with_columns: bool,
) -> Value {
    let printer = Printer::of(api_version, kind);
    let now = jiff::Timestamp::now();
    let rows: Vec<Value> = rows
        .iter()
        .map(|obj| {
            let mut row = json!({"cells": printer.cells(obj, now)});
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => row["object"] = partial_metadata(obj),
                IncludeObject::Object => row["object"] = obj.clone(),
            }
            row
        })
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "rows": rows,
    });
    if with_columns {
        t["columnDefinitions"] = printer.column_definitions();
    }
    t
}

/// Encodes `body` in `repr`.
pub fn encode(repr: Representation, body: Body<'_>) -> Value {
    match (repr, body) {
        (_, Body::Plain(v)) => v,
        (_, Body::Written(w)) => encode(repr, Body::Object(w.object)),
        (Representation::Table { include_object }, Body::Object(obj)) => {
            let s = |f: &str| obj.get(f).and_then(Value::as_str).unwrap_or("").to_string();
            let (api_version, kind) = (s("apiVersion"), s("kind"));
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            table(
                &api_version,
                &kind,
                &[obj],
                include_object,
                json!({"resourceVersion": rv}),
                true,
            )
        }
        (
            Representation::Table { include_object },
            Body::List {
                info,
                items,
                revision,
                continue_token,
            },
        ) => table(
            &info.api_version(),
            info.kind,
            &items,
            include_object,
            list_metadata(revision, continue_token),
            true,
        ),
        (Representation::Metadata, Body::Object(obj)) => partial_metadata(&obj),
        (
            Representation::Metadata,
            Body::List {
                items,
                revision,
                continue_token,
                ..
            },
        ) => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_metadata(revision, continue_token),
            "items": items.iter().map(partial_metadata).collect::<Vec<_>>(),
        }),
        (_, Body::Object(obj)) => obj,
        (
            _,
            Body::List {
                info,
                items,
                revision,
                continue_token,
            },
        ) => json!({
            "kind": custom::list_kind(info),
            "apiVersion": info.api_version(),
            "metadata": list_metadata(revision, continue_token),
            "items": items,
        }),
    }
}

fn list_metadata(revision: u64, continue_token: Option<String>) -> Value {
    let mut m = json!({"resourceVersion": revision.to_string()});
    if let Some(c) = continue_token {
        m["continue"] = json!(c);
    }
    m
}

/// A JSON list response assembled from objects that are already JSON.
pub fn json_list(info: &ResourceInfo, listed: crate::storage::Listed<Vec<u8>>) -> Response {
    let head = json!({
        "kind": custom::list_kind(info),
        "apiVersion": info.api_version(),
        "metadata": list_metadata(listed.revision, listed.continue_token),
    })
    .to_string();
    let size: usize = listed.items.iter().map(|i| i.len() + 1).sum();
    let mut body = Vec::with_capacity(head.len() + size + 16);
    // `head` is an object; reopen it to append the items.
    body.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    body.extend_from_slice(b",\"items\":[");
    for (i, item) in listed.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"]}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Adds a `Warning` header (code 299, as Kubernetes sends them) to a response.
pub fn add_warning(response: &mut Response, warning: &str) {
    let text = format!("299 - {}", serde_json::Value::from(warning));
    if let Ok(v) = HeaderValue::from_str(&text) {
        response.headers_mut().append("Warning", v);
    }
}

/// The full response: status code, content type, warnings.
pub fn respond(code: u16, repr: Representation, body: Body<'_>, warnings: &[String]) -> Response {
    let (bytes, content_type) = match (repr, body) {
        (Representation::Json, Body::Written(w)) => match w.json() {
            Ok(json) => (json, "application/json"),
            Err(e) => return e.into_response(),
        },
        (Representation::Yaml, body) => match serde_yaml_ng::to_string(&encode(repr, body)) {
            Ok(s) => (s.into_bytes(), "application/yaml"),
            Err(e) => return ApiError::internal(format!("encoding YAML: {e}")).into_response(),
        },
        (_, body) => (
            serde_json::to_vec(&encode(repr, body)).unwrap_or_default(),
            "application/json",
        ),
    };
    let mut response = (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, content_type)],
        bytes,
    )
        .into_response();
    for w in warnings {
        add_warning(&mut response, w);
    }
    response
}
