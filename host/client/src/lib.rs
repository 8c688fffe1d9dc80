//! Reaching a Wharf (or any Kubernetes) API server: kubeconfig files, read and
//! written the way kubectl reads them, and a small JSON-over-HTTP client.
//!
//! Every client-side `wharf` command finds its server here: `--kubeconfig`, else the
//! first file named by `KUBECONFIG`, else `~/.kube/config`.

#![forbid(unsafe_code)]

pub mod events;
mod meta;
mod reflector;

use std::path::{Path, PathBuf};

pub use meta::{Meta, nullable};
pub use reflector::{Object, Reflected, reflect};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config")]
    NoKubeconfig,
    // The causes are part of each message rather than error sources: the CLI
    // prints an error with its chain of sources, which repeated them.
    #[error("reading kubeconfig {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("kubeconfig {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("writing kubeconfig {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// `error` with its causes: reqwest's own message leaves out why (a refused
    /// connection, say).
    #[error("request to {url} failed: {}", with_causes(error))]
    Http { url: String, error: reqwest::Error },
    /// A request to the API server in this process could not be made or answered.
    #[error("request to {url} failed: {message}")]
    Local { url: String, message: String },
    #[error("{url} answered {code}: {message}")]
    Api {
        url: String,
        code: u16,
        /// The `reason` of the `Status` (`AlreadyExists`, `Conflict`…), if any.
        reason: String,
        message: String,
    },
}

/// `error`'s message followed by those of its sources, each once.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// The parts of a kubeconfig Wharf uses (unknown fields are kept out, not refused).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    #[serde(rename = "current-context", default)]
    pub current_context: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: Cluster,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cluster {
    pub server: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: User,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NamedContext {
    pub name: String,
    pub context: Context,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Context {
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Kubeconfig {
    /// A kubeconfig for the cluster administrator of the server at `server`.
    pub fn admin(server: &str) -> Self {
        Self {
            api_version: "v1".into(),
            kind: "Config".into(),
            clusters: vec![NamedCluster {
                name: "wharf".into(),
                cluster: Cluster {
                    server: server.into(),
                },
            }],
            users: vec![NamedUser {
                name: "wharf-admin".into(),
                user: User::default(),
            }],
            contexts: vec![NamedContext {
                name: "wharf".into(),
                context: Context {
                    cluster: "wharf".into(),
                    user: "wharf-admin".into(),
                    namespace: None,
                },
            }],
            current_context: "wharf".into(),
        }
    }

    /// Which file to read: the explicit one, else `KUBECONFIG`'s first entry, else
    /// `~/.kube/config`.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ClientError> {
        if let Some(p) = explicit {
            return Ok(p.to_path_buf());
        }
        if let Some(list) = std::env::var_os("KUBECONFIG")
            && let Some(first) = std::env::split_paths(&list).find(|p| !p.as_os_str().is_empty())
        {
            return Ok(first);
        }
        let home = std::env::var_os("HOME").ok_or(ClientError::NoKubeconfig)?;
        let default = PathBuf::from(home).join(".kube").join("config");
        if default.exists() {
            Ok(default)
        } else {
            Err(ClientError::NoKubeconfig)
        }
    }

    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|error| ClientError::Read {
            path: path.into(),
            error,
        })?;
        serde_yaml_ng::from_str(&text).map_err(|e| ClientError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })
    }

    /// Writes the file readable by its owner only (it may hold credentials), via a
    /// temporary file so a reader never sees half of it.
    pub fn write(&self, path: &Path) -> Result<(), ClientError> {
        let io = |error| ClientError::Write {
            path: path.into(),
            error,
        };
        let text = serde_yaml_ng::to_string(self).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The server URL and token of the current context.
    pub fn current(&self, path: &Path) -> Result<(String, Option<String>), ClientError> {
        let invalid = |message: String| ClientError::Invalid {
            path: path.into(),
            message,
        };
        let ctx = self
            .contexts
            .iter()
            .find(|c| c.name == self.current_context)
            .ok_or_else(|| {
                invalid(format!(
                    "current-context {:?} is not defined",
                    self.current_context
                ))
            })?;
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == ctx.context.cluster)
            .ok_or_else(|| invalid(format!("cluster {:?} is not defined", ctx.context.cluster)))?;
        let token = self
            .users
            .iter()
            .find(|u| u.name == ctx.context.user)
            .and_then(|u| u.user.token.clone());
        Ok((cluster.cluster.server.clone(), token))
    }
}

/// An error answer: the `message` of the `Status` it carries, else its text.
fn api_error(url: String, code: u16, body: &[u8]) -> ClientError {
    let status = serde_json::from_slice::<Value>(body).ok();
    let field = |f: &str| {
        status
            .as_ref()
            .and_then(|v| v.get(f).and_then(Value::as_str).map(str::to_string))
    };
    let message = field("message").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    ClientError::Api {
        url,
        code,
        reason: field("reason").unwrap_or_default(),
        message,
    }
}

/// How long the server is asked to keep a watch open (client-go asks for 5–10
/// minutes); the reflector then resumes from the last revision it saw.
pub const WATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// How long an ordinary request may take before it is abandoned.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// JSON over HTTP to one API server, or straight into one in this process.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    base: String,
    token: Option<String>,
    /// Sent as `User-Agent`: the API server names the manager of a write by it
    /// in managed fields, as Kubernetes does (`kube-scheduler/v1.32.0 …`).
    user_agent: String,
}

/// The `User-Agent` of a client that names no role.
fn default_user_agent() -> String {
    format!("wharf/v{}", env!("CARGO_PKG_VERSION"))
}

/// An API server in this process, called as a service: the request goes through
/// the same router and handlers a request from the network does.
pub type LocalService = tower::util::BoxCloneSyncService<
    axum::http::Request<axum::body::Body>,
    axum::http::Response<axum::body::Body>,
    std::convert::Infallible,
>;

/// The chunks of a streamed answer (a watch).
type ByteStream = futures::stream::BoxStream<'static, Result<bytes::Bytes, ClientError>>;

#[derive(Clone)]
enum Transport {
    Http(reqwest::Client),
    /// The scheduler and controller manager inside `wharf server` reach their own
    /// API server this way: no socket, no HTTP framing, no second JSON client.
    /// (Measured in the scheduler benchmark: hyper's server side and the reqwest
    /// client together cost about two thirds as much CPU as the handlers.)
    InProcess(LocalService),
}

/// A request before it is sent, whatever carries it.
struct Outgoing<'a> {
    method: reqwest::Method,
    path: &'a str,
    content_type: Option<&'a str>,
    body: Vec<u8>,
    /// Bounded by [`REQUEST_TIMEOUT`] (everything but a watch), so a hung
    /// connection cannot hold a caller (a binding, say) forever.
    bounded: bool,
}

impl<'a> Outgoing<'a> {
    fn new(method: reqwest::Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            content_type: None,
            body: Vec::new(),
            bounded: true,
        }
    }

    fn json(self, body: &Value) -> Self {
        self.with_body(
            "application/json",
            serde_json::to_vec(body).unwrap_or_default(),
        )
    }

    fn with_body(mut self, content_type: &'a str, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type);
        self.body = body;
        self
    }
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Self {
        // Controllers keep many requests in flight on loopback; Nagle's delay would
        // add milliseconds to each small write.
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            transport: Transport::Http(http),
            base: base.trim_end_matches('/').to_string(),
            token,
            user_agent: default_user_agent(),
        }
    }

    /// The same client, telling the server it is `role` (`wharf-scheduler`): what
    /// managed fields name it by.
    pub fn for_role(&self, role: &str) -> Self {
        Self {
            user_agent: format!("{role}/v{}", env!("CARGO_PKG_VERSION")),
            ..self.clone()
        }
    }

    /// A client of the API server `service` in this process. `base` names it in
    /// messages (the address it also serves the network on).
    pub fn in_process(base: &str, service: LocalService) -> Self {
        Self {
            transport: Transport::InProcess(service),
            base: base.trim_end_matches('/').to_string(),
            token: None,
            user_agent: default_user_agent(),
        }
    }

    /// A client for the current context of the kubeconfig `locate` finds.
    pub fn from_kubeconfig(explicit: Option<&Path>) -> Result<Self, ClientError> {
        let path = Kubeconfig::locate(explicit)?;
        let config = Kubeconfig::load(&path)?;
        let (server, token) = config.current(&path)?;
        Ok(Self::new(&server, token))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request; answers its status code and its body as a stream.
    async fn open(&self, out: Outgoing<'_>) -> Result<(u16, ByteStream), ClientError> {
        let url = format!("{}{}", self.base, out.path);
        match &self.transport {
            Transport::Http(http) => {
                let mut req = http
                    .request(out.method, &url)
                    .header("user-agent", &self.user_agent);
                if out.bounded {
                    req = req.timeout(REQUEST_TIMEOUT);
                }
                if let Some(t) = &self.token {
                    req = req.bearer_auth(t);
                }
                if let Some(ct) = out.content_type {
                    req = req.header("content-type", ct).body(out.body);
                }
                let resp = req.send().await.map_err(|error| ClientError::Http {
                    url: url.clone(),
                    error,
                })?;
                let code = resp.status().as_u16();
                let stream = resp.bytes_stream().map(move |chunk| {
                    chunk.map_err(|error| ClientError::Http {
                        url: url.clone(),
                        error,
                    })
                });
                Ok((code, stream.boxed()))
            }
            Transport::InProcess(service) => {
                let mut req = axum::http::Request::builder()
                    .method(out.method.as_str())
                    .uri(out.path)
                    .header("user-agent", &self.user_agent);
                if let Some(ct) = out.content_type {
                    req = req.header("content-type", ct);
                }
                let req =
                    req.body(axum::body::Body::from(out.body))
                        .map_err(|e| ClientError::Local {
                            url: url.clone(),
                            message: e.to_string(),
                        })?;
                let resp = match service.clone().oneshot(req).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                };
                let code = resp.status().as_u16();
                let stream = resp.into_body().into_data_stream().map(move |chunk| {
                    chunk.map_err(|e| ClientError::Local {
                        url: url.clone(),
                        message: e.to_string(),
                    })
                });
                Ok((code, stream.boxed()))
            }
        }
    }

    /// Sends a request and reads the whole answer: its status code and body.
    async fn exchange(&self, out: Outgoing<'_>) -> Result<(u16, Vec<u8>), ClientError> {
        // reqwest bounds an HTTP exchange itself.
        let deadline = out.bounded && matches!(self.transport, Transport::InProcess(_));
        let path = out.path;
        let whole = async {
            let (code, mut stream) = self.open(out).await?;
            let mut body = Vec::new();
            while let Some(chunk) = stream.next().await {
                body.extend_from_slice(&chunk?);
            }
            Ok((code, body))
        };
        if !deadline {
            return whole.await;
        }
        tokio::time::timeout(REQUEST_TIMEOUT, whole)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Local {
                    url: format!("{}{path}", self.base),
                    message: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
                })
            })
    }

    /// A JSON answer, or the error a 4xx/5xx carries.
    async fn send(&self, out: Outgoing<'_>) -> Result<Value, ClientError> {
        let path = out.path;
        let (code, body) = self.exchange(out).await?;
        if code >= 400 {
            return Err(api_error(format!("{}{path}", self.base), code, &body));
        }
        Ok(serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())))
    }

    /// Sends a request whose answer the caller does not read: the status code is
    /// checked, the body is dropped. Decoding a whole object only to drop it costs
    /// more than a small write itself; callers that post Events or report status
    /// at a high rate use the `_unread` forms.
    async fn send_unread(&self, out: Outgoing<'_>) -> Result<(), ClientError> {
        let path = out.path;
        let (code, body) = self.exchange(out).await?;
        if code >= 400 {
            return Err(api_error(format!("{}{path}", self.base), code, &body));
        }
        Ok(())
    }

    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::GET, path)).await
    }

    pub async fn create(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::POST, path).json(body))
            .await
    }

    /// [`Client::create`] without reading the created object back.
    pub async fn create_unread(&self, path: &str, body: &Value) -> Result<(), ClientError> {
        self.send_unread(Outgoing::new(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn replace(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::PUT, path).json(body))
            .await
    }

    /// A JSON merge patch (RFC 7386).
    pub async fn merge_patch(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.patch(path, "application/merge-patch+json", body.to_string())
            .await
    }

    /// [`Client::merge_patch`] without reading the patched object back.
    pub async fn merge_patch_unread(&self, path: &str, body: &Value) -> Result<(), ClientError> {
        self.send_unread(Outgoing::new(reqwest::Method::PATCH, path).with_body(
            "application/merge-patch+json",
            body.to_string().into_bytes(),
        ))
        .await
    }

    /// A strategic merge patch, as kubectl sends for built-in kinds.
    pub async fn strategic_patch(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.patch(
            path,
            "application/strategic-merge-patch+json",
            body.to_string(),
        )
        .await
    }

    /// A patch of any type, named by its content type.
    pub async fn patch(
        &self,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Result<Value, ClientError> {
        self.send(
            Outgoing::new(reqwest::Method::PATCH, path).with_body(content_type, body.into_bytes()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::DELETE, path))
            .await
    }

    /// A delete with `DeleteOptions` (preconditions, propagationPolicy).
    pub async fn delete_with(&self, path: &str, options: &Value) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::DELETE, path).json(options))
            .await
    }

    /// Uploads raw bytes (a plugin module, say) with the given content type.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, ClientError> {
        self.send(Outgoing::new(reqwest::Method::POST, path).with_body(content_type, body))
            .await
    }

    /// Raw bytes of a non-JSON resource.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let (code, body) = self
            .exchange(Outgoing::new(reqwest::Method::GET, path))
            .await?;
        if code >= 400 {
            return Err(api_error(format!("{}{path}", self.base), code, &body));
        }
        Ok(body)
    }

    /// Opens a watch and returns its stream of bytes; [`reflect`] reads it.
    pub(crate) async fn open_watch(
        &self,
        path: &str,
        resource_version: &str,
    ) -> Result<ByteStream, ClientError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let full = format!(
            "{path}{sep}watch=1&allowWatchBookmarks=true&resourceVersion={resource_version}&timeoutSeconds={}",
            WATCH_TIMEOUT.as_secs()
        );
        let mut out = Outgoing::new(reqwest::Method::GET, &full);
        out.bounded = false;
        let (code, mut stream) = self.open(out).await?;
        if code >= 400 {
            let mut body = Vec::new();
            while let Some(Ok(chunk)) = stream.next().await {
                body.extend_from_slice(&chunk);
            }
            return Err(api_error(format!("{}{full}", self.base), code, &body));
        }
        Ok(stream)
    }

    /// A plain-text endpoint such as `/readyz`.
    pub async fn get_text(&self, path: &str) -> Result<(u16, String), ClientError> {
        let (code, body) = self
            .exchange(Outgoing::new(reqwest::Method::GET, path))
            .await?;
        Ok((code, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_kubeconfig_round_trips_and_resolves() {
        let dir = std::env::temp_dir().join(format!("wharf-client-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("admin.kubeconfig");
        let config = Kubeconfig::admin("http://127.0.0.1:6443");
        config.write(&path).unwrap();
        let loaded = Kubeconfig::load(&path).unwrap();
        assert_eq!(loaded, config);
        assert_eq!(
            loaded.current(&path).unwrap(),
            ("http://127.0.0.1:6443".to_string(), None)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn broken_kubeconfig_names_the_file() {
        let dir = std::env::temp_dir().join(format!("wharf-client-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad");
        std::fs::write(&path, "clusters: [oops").unwrap();
        let err = Kubeconfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("bad") && err.contains("not valid"), "{err}");
        let empty = Kubeconfig::default();
        assert!(empty.current(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
