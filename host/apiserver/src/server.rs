//! The API server: routing of every request to discovery, health, OpenAPI or a verb
//! on a resource.
//!
//! Routing is done by hand rather than with a route table: Kubernetes paths are
//! resolved against the resource table (`namespaces/{ns}/{plural}/{name}/{sub}`), and
//! one function that sees the whole path gives one place for the 404s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body as HttpBody;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wharf_api_types::resources::Subresource;
use wharf_store::Store;

use crate::discovery;
use crate::error::ApiError;
use crate::render::{Body, respond};
use crate::request::{self, Options, Representation, Target};
use crate::storage::Objects;

/// Shared state of one API server.
pub struct ApiServer {
    pub(crate) objects: Objects,
    /// Serialises cluster IP and node port allocation.
    pub(crate) allocation: tokio::sync::Mutex<()>,
    pub(crate) ready: AtomicBool,
    pub(crate) metrics: Metrics,
    /// Other roles in this process (the scheduler, say) add their metrics here.
    extra_metrics: std::sync::RwLock<Vec<MetricsSource>>,
    /// The other parts of the control plane in this process and their health
    /// probes, for `kubectl get componentstatuses` (the store's is built in).
    components: std::sync::RwLock<Vec<(String, crate::components::Probe)>>,
    pub(crate) started: Instant,
    pub(crate) settings: crate::Settings,
}

/// Renders a role's metrics in Prometheus' text format.
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

/// Counters served on `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub watches_open: AtomicU64,
}

impl ApiServer {
    pub fn new(store: Arc<dyn Store>, settings: crate::Settings) -> Arc<Self> {
        Arc::new(Self {
            objects: Objects::new(store),
            allocation: tokio::sync::Mutex::new(()),
            ready: AtomicBool::new(false),
            metrics: Metrics::default(),
            extra_metrics: std::sync::RwLock::new(Vec::new()),
            components: std::sync::RwLock::new(Vec::new()),
            started: Instant::now(),
            settings,
        })
    }

    /// The axum router serving the whole API.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(dispatch)
            .with_state(self.clone())
    }

    pub fn add_metrics(&self, sources: Vec<MetricsSource>) {
        self.extra_metrics
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extend(sources);
    }

    /// Lists `name` in `kubectl get componentstatuses`, healthy when `probe` says so.
    pub fn add_component(&self, name: &str, probe: crate::components::Probe) {
        self.components
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), probe));
    }

    /// Every component's health, probed now: the store first, then the others in
    /// the order they were added.
    fn component_health(&self) -> Vec<(String, crate::components::Health)> {
        let store = self
            .store()
            .health()
            .map(|()| "ok".to_string())
            .map_err(|e| e.to_string());
        let mut out = vec![(crate::components::STORE.to_string(), store)];
        let components = self.components.read().unwrap_or_else(|e| e.into_inner());
        out.extend(
            components
                .iter()
                .map(|(name, probe)| (name.clone(), probe())),
        );
        out
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.objects.store()
    }
}

async fn dispatch(State(server): State<Arc<ApiServer>>, req: Request) -> Response {
    server.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = match route(&server, req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%method, %path, code = e.code, reason = e.reason, "request failed");
            e.into_response()
        }
    };
    if response.status().is_client_error() || response.status().is_server_error() {
        server.metrics.errors.fetch_add(1, Ordering::Relaxed);
    }
    response
}

fn text(code: StatusCode, body: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn route(server: &Arc<ApiServer>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path().to_string();
    let query = request::query_map(req.uri().query());
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let json = |v: Value| Ok(respond(200, Representation::Json, Body::Plain(v), &[]));
    let is_get = req.method() == Method::GET;
    match path.trim_end_matches('/') {
        "/version" if is_get => return json(discovery::version()),
        "/livez" | "/readyz" | "/healthz" if is_get => return Ok(health(server, &path, &query)),
        one if is_get && is_health_check_path(one) => return Ok(health_check(server, one)),
        "/metrics" if is_get => return Ok(text(StatusCode::OK, metrics(server))),
        "/api" if is_get => return json(discovery::core_versions()),
        "/apis" if is_get => return json(discovery::groups()),
        "/openapi/v3" if is_get => return json(crate::openapi::index()),
        "/openapi/v2" if is_get => {
            let doc = crate::openapi_v2::document();
            if crate::openapi_v2::wants_protobuf(accept.as_deref()) {
                return Ok((
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, crate::openapi_v2::PROTOBUF_MEDIA_TYPE)],
                    crate::openapi_v2::protobuf(&doc),
                )
                    .into_response());
            }
            return json(doc);
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix(wharf_api_types::plugin::BLOBS_PATH) {
        match (req.method().clone(), rest.trim_end_matches('/')) {
            (Method::POST, "") => return crate::blobs::upload(server, req.into_body()).await,
            (Method::GET, digest) if digest.starts_with('/') => {
                return crate::blobs::download(server, &digest[1..]).await;
            }
            _ => {}
        }
    }
    if is_get && let Some(gv) = path.strip_prefix("/openapi/v3/") {
        let doc = match gv
            .trim_end_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["api", version] => crate::openapi::document("", version),
            ["apis", group, version] => crate::openapi::document(group, version),
            _ => None,
        };
        return doc.map_or_else(|| Err(ApiError::not_found_path(&path)), json);
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if is_get {
        match segments.as_slice() {
            ["api", version] => {
                return discovery::resource_list("", version)
                    .map_or_else(|| Err(ApiError::not_found_path(&path)), json);
            }
            ["apis", group] => {
                return discovery::group(group)
                    .map_or_else(|| Err(ApiError::not_found_path(&path)), json);
            }
            ["apis", group, version] => {
                return discovery::resource_list(group, version)
                    .map_or_else(|| Err(ApiError::not_found_path(&path)), json);
            }
            _ => {}
        }
    }
    if let Some(name) = crate::components::target(&segments) {
        if !is_get || query.get("watch").is_some_and(|w| w != "false" && w != "0") {
            let verb = if is_get {
                "watch".to_string()
            } else {
                req.method().as_str().to_ascii_lowercase()
            };
            return Err(ApiError::method_not_allowed(&verb));
        }
        let repr = request::negotiate(accept.as_deref(), &query)?;
        return crate::components::answer(&server.component_health(), name, repr);
    }
    if let Some(review) = crate::review::find(&path) {
        return answer_review(review, req, &query, accept.as_deref()).await;
    }
    if let Some((namespace, name, sub)) = crate::kubelet::target(&path) {
        let container = query.get("container").map(String::as_str);
        return Err(crate::kubelet::answer(server, namespace, name, sub, container).await);
    }
    if let ["api", "v1", "namespaces", namespace, "bindings"] = segments.as_slice() {
        return bind_by_name(server, namespace, req, &query, accept.as_deref()).await;
    }
    let Some(target) = request::parse_target(&path)? else {
        return Err(ApiError::not_found_path(&path));
    };
    let options = Options::parse(&query, target.info)?;
    let repr = request::negotiate(accept.as_deref(), &query)?;
    let method = req.method().clone();
    // A deprecated version of a custom kind says so on every answer, as
    // Kubernetes does (kubectl prints it as a warning).
    let deprecation = wharf_api_types::custom::of(target.info).and_then(|c| c.deprecation_warning);
    let response = match (&method, target.name.is_some(), target.subresource) {
        (&Method::GET, false, _) if options.watch || target.watch_path => {
            options.check_watch_semantics()?;
            crate::watch::serve(server.clone(), target, options, repr).await
        }
        (&Method::GET, false, _) => list(server, &target, &options, repr).await,
        (&Method::GET, true, Some(Subresource::Scale)) => {
            crate::write::get_scale(server, &target, repr).await
        }
        (
            &Method::GET,
            true,
            Some(Subresource::Binding | Subresource::Finalize | Subresource::Eviction),
        ) => Err(ApiError::method_not_allowed("get")),
        (&Method::GET, true, _) if options.watch || target.watch_path => {
            // A watch on one object is a watch on its collection narrowed by name.
            options.check_watch_semantics()?;
            let mut options = options;
            options.narrow_to_name(target.name.as_deref().unwrap_or_default());
            let target = Target {
                name: None,
                ..target
            };
            crate::watch::serve(server.clone(), target, options, repr).await
        }
        (&Method::GET, true, _) => get(server, &target, repr).await,
        _ => {
            let content_type = content_type(&req);
            let mut options = options;
            options.user_agent = req
                .headers()
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = read_body(req.into_body()).await?;
            crate::write::handle(
                server,
                &method,
                &target,
                &options,
                repr,
                content_type.as_deref(),
                &body,
            )
            .await
        }
    };
    match deprecation {
        Some(warning) => response.map(|mut r| {
            crate::render::add_warning(&mut r, &warning);
            r
        }),
        None => response,
    }
}

/// `POST /api/v1/namespaces/{ns}/bindings`: the older form of a pod's binding,
/// naming the pod in the Binding's metadata; served as `pods/{name}/binding`.
async fn bind_by_name(
    server: &Arc<ApiServer>,
    namespace: &str,
    req: Request,
    query: &std::collections::HashMap<String, String>,
    accept: Option<&str>,
) -> Result<Response, ApiError> {
    let (content_type, body) = posted(req).await?;
    let (binding, _) = request::parse_body(content_type.as_deref(), &body)?;
    let name = wharf_api_types::meta::name(&binding)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_object(
                "",
                "Binding",
                "",
                &[wharf_api_types::validation::FieldError::required(
                    "metadata.name",
                )],
            )
        })?
        .to_string();
    let path = format!("/api/v1/namespaces/{namespace}/pods/{name}/binding");
    let Some(target) = request::parse_target(&path)? else {
        return Err(ApiError::not_found_path(&path));
    };
    let options = Options::parse(query, target.info)?;
    let repr = request::negotiate(accept, query)?;
    crate::write::handle(
        server,
        &Method::POST,
        &target,
        &options,
        repr,
        content_type.as_deref(),
        &body,
    )
    .await
}

/// A review (`kubectl auth can-i`, `kubectl auth whoami`): created, answered and
/// never stored, as Kubernetes serves them.
async fn answer_review(
    review: &crate::review::Review,
    req: Request,
    query: &std::collections::HashMap<String, String>,
    accept: Option<&str>,
) -> Result<Response, ApiError> {
    let (content_type, body) = posted(req).await?;
    let repr = request::negotiate(accept, query)?;
    let answer = review.answer(content_type.as_deref(), &body)?;
    Ok(respond(201, repr, Body::Plain(answer), &[]))
}

/// The content type and body of a request to an endpoint that only creates
/// (a review, a binding): any other method is refused.
async fn posted(req: Request) -> Result<(Option<String>, bytes::Bytes), ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::method_not_allowed(
            &req.method().as_str().to_lowercase(),
        ));
    }
    let content_type = content_type(&req);
    let body = read_body(req.into_body()).await?;
    Ok((content_type, body))
}

fn content_type(req: &Request) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// How much of an oversized body is still read, and thrown away, before the 413
/// is sent. A client still writing its body when the server answers and closes
/// the connection gets a broken pipe instead of the Status (Go's server, and so
/// Kubernetes', likewise keeps reading a while before closing). Past this the
/// connection is simply closed.
const OVERSIZED_BODY_DRAIN: usize = 64 * 1024 * 1024;

async fn read_body(body: HttpBody) -> Result<bytes::Bytes, ApiError> {
    use futures::StreamExt;
    let mut chunks = body.into_data_stream();
    let mut kept: Vec<bytes::Bytes> = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
        seen = seen.saturating_add(chunk.len());
        if seen <= request::MAX_BODY {
            kept.push(chunk);
        } else if seen > request::MAX_BODY + OVERSIZED_BODY_DRAIN {
            break;
        }
    }
    if seen > request::MAX_BODY {
        return Err(ApiError::too_large(request::MAX_BODY));
    }
    // Nearly every body arrives as one chunk: hand it on without a copy.
    Ok(match kept.len() {
        0 => bytes::Bytes::new(),
        1 => kept.pop().unwrap_or_default(),
        _ => kept.concat().into(),
    })
}

async fn get(
    server: &ApiServer,
    target: &Target,
    repr: Representation,
) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let (obj, _) = server
        .objects
        .get(target.info, target.namespace.as_deref(), name)
        .await?;
    Ok(respond(200, repr, Body::Object(obj), &[]))
}

async fn list(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
) -> Result<Response, ApiError> {
    options.check_list_semantics()?;
    if repr == Representation::Json {
        let listed = server
            .objects
            .list_json(target.info, target.namespace.as_deref(), options)
            .await?;
        return Ok(crate::render::json_list(target.info, listed));
    }
    let listed = server
        .objects
        .list(target.info, target.namespace.as_deref(), options)
        .await?;
    Ok(respond(
        200,
        repr,
        Body::List {
            info: target.info,
            items: listed.items,
            revision: listed.revision,
            continue_token: listed.continue_token,
        },
        &[],
    ))
}

/// The checks behind `/livez`, `/readyz` or `/healthz` (`path`), each passing or not.
fn health_checks(server: &ApiServer, path: &str) -> Vec<(&'static str, bool)> {
    let store_ok = server.store().health().is_ok();
    let mut checks = vec![("ping", true), ("store", store_ok)];
    if path.starts_with("/readyz") {
        checks.push(("bootstrap", server.ready.load(Ordering::Acquire)));
    }
    checks
}

/// `/livez/ping`, `/readyz/store`: one check, as Kubernetes serves each by name.
fn is_health_check_path(path: &str) -> bool {
    ["/livez/", "/readyz/", "/healthz/"].iter().any(|base| {
        path.strip_prefix(base)
            .is_some_and(|c| !c.is_empty() && !c.contains('/'))
    })
}

fn health_check(server: &ApiServer, path: &str) -> Response {
    let (base, name) = path.rsplit_once('/').unwrap_or((path, ""));
    match health_checks(server, base)
        .into_iter()
        .find(|(c, _)| *c == name)
    {
        Some((_, true)) => text(StatusCode::OK, "ok".into()),
        Some((check, false)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal server error: {check} check failed\n"),
        ),
        None => ApiError::not_found_path(path).into_response(),
    }
}

fn health(
    server: &ApiServer,
    path: &str,
    query: &std::collections::HashMap<String, String>,
) -> Response {
    let checks = health_checks(server, path);
    let ok = checks.iter().all(|(_, ok)| *ok);
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let name = path.trim_start_matches('/');
    if query.contains_key("verbose") {
        let mut out = String::new();
        for (check, ok) in &checks {
            out.push_str(&format!(
                "[{}]{check} {}\n",
                if *ok { "+" } else { "-" },
                if *ok { "ok" } else { "failed" }
            ));
        }
        out.push_str(&format!(
            "{name} check {}\n",
            if ok { "passed" } else { "failed" }
        ));
        return text(code, out);
    }
    text(
        code,
        if ok {
            "ok".into()
        } else {
            format!("{name} check failed")
        },
    )
}

fn metrics(server: &ApiServer) -> String {
    let m = &server.metrics;
    let mut out = format!(
        "# HELP wharf_apiserver_requests_total Requests served.\n# TYPE wharf_apiserver_requests_total counter\nwharf_apiserver_requests_total {}\n\
         # HELP wharf_apiserver_request_errors_total Requests answered with a 4xx or 5xx status.\n# TYPE wharf_apiserver_request_errors_total counter\nwharf_apiserver_request_errors_total {}\n\
         # HELP wharf_apiserver_watches Watches currently open.\n# TYPE wharf_apiserver_watches gauge\nwharf_apiserver_watches {}\n\
         # HELP wharf_store_revision The store's newest durable revision.\n# TYPE wharf_store_revision gauge\nwharf_store_revision {}\n\
         # HELP wharf_process_uptime_seconds Seconds since the server started.\n# TYPE wharf_process_uptime_seconds gauge\nwharf_process_uptime_seconds {}\n",
        m.requests.load(Ordering::Relaxed),
        m.errors.load(Ordering::Relaxed),
        m.watches_open.load(Ordering::Relaxed),
        server.store().current_revision(),
        server.started.elapsed().as_secs(),
    );
    for source in server
        .extra_metrics
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        out.push_str(&source());
    }
    out
}
