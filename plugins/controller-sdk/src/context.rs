//! A reconcile's view of the cluster: typed reads and writes over the host's
//! imports (or, in native tests, over any other [`Api`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::wharf::plugin::cluster;
use crate::{
    ApiError, DeleteRequest, ErrorReason, EventType, Key, KindRef, Level, PatchRequest, PatchType,
    Write, kind_of,
};

/// What a reconcile can ask of its host, as the WIT `cluster` interface says it.
pub trait Api {
    fn get(&self, kind: &KindRef, key: &Key) -> Option<String>;
    fn fetch(&self, kind: &KindRef, key: &Key) -> Result<Option<String>, ApiError>;
    fn fetch_list(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, ApiError>;
    fn list(&self, kind: &KindRef, namespace: &str, selector: &str) -> Result<Vec<String>, String>;
    fn list_owned(&self, kind: &KindRef, namespace: &str, owner_uid: &str) -> Vec<String>;
    fn apply(&self, op: Write) -> Result<String, ApiError>;
    fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>>;
    fn event(&self, regarding: &str, kind: EventType, reason: &str, message: &str);
    fn log(&self, level: Level, message: &str);
}

/// The real host, through the component's imports.
pub struct HostApi;

impl Api for HostApi {
    fn get(&self, kind: &KindRef, key: &Key) -> Option<String> {
        cluster::get(kind, key)
    }
    fn fetch(&self, kind: &KindRef, key: &Key) -> Result<Option<String>, ApiError> {
        cluster::fetch(kind, key)
    }
    fn fetch_list(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, ApiError> {
        cluster::fetch_list(kind, namespace, selector)
    }
    fn list(&self, kind: &KindRef, namespace: &str, selector: &str) -> Result<Vec<String>, String> {
        cluster::list(kind, namespace, selector)
    }
    fn list_owned(&self, kind: &KindRef, namespace: &str, owner_uid: &str) -> Vec<String> {
        cluster::list_owned(kind, namespace, owner_uid)
    }
    fn apply(&self, op: Write) -> Result<String, ApiError> {
        cluster::apply(&op)
    }
    fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>> {
        cluster::apply_all(&ops)
    }
    fn event(&self, regarding: &str, kind: EventType, reason: &str, message: &str) {
        cluster::event(regarding, kind, reason, message)
    }
    fn log(&self, level: Level, message: &str) {
        cluster::log(level, message)
    }
}

/// Why a reconcile failed; the host logs it and retries the key with backoff.
#[derive(Debug)]
pub enum Error {
    /// The API refused a write.
    Api(ApiError),
    /// An object from the cache or the API did not decode.
    Decode {
        what: String,
        message: String,
    },
    Other(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Api(e) => write!(
                f,
                "the API answered {} ({:?}): {}",
                e.code, e.reason, e.message
            ),
            Error::Decode { what, message } => write!(f, "decoding {what}: {message}"),
            Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

impl Error {
    /// What went wrong, in the words a user reads in an Event or a condition: the
    /// API's own message when the API refused (`pods "web-" is forbidden: …`).
    pub fn message(&self) -> String {
        match self {
            Error::Api(e) => e.message.clone(),
            other => other.to_string(),
        }
    }

    /// The API's reason, when the API refused.
    pub fn reason(&self) -> Option<ErrorReason> {
        match self {
            Error::Api(e) => Some(e.reason),
            _ => None,
        }
    }
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        self.reason == ErrorReason::NotFound
    }
    pub fn is_conflict(&self) -> bool {
        self.reason == ErrorReason::Conflict
    }
    pub fn is_already_exists(&self) -> bool {
        self.reason == ErrorReason::AlreadyExists
    }
}

fn decode<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::Decode {
        what: what.to_string(),
        message: e.to_string(),
    })
}

fn encode<T: Serialize>(obj: &T) -> String {
    // k8s-openapi's types always serialize.
    serde_json::to_string(obj).unwrap_or_default()
}

fn key(namespace: &str, name: &str) -> Key {
    Key {
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

/// Typed access to the cluster during one reconcile.
pub struct Context<'a> {
    api: &'a dyn Api,
}

impl<'a> Context<'a> {
    pub fn new(api: &'a dyn Api) -> Self {
        Context { api }
    }

    /// One object of kind `K` from the cache.
    pub fn get<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, Error>
    where
        K: k8s_openapi::Resource + DeserializeOwned,
    {
        match self.api.get(&kind_of::<K>(), &key(namespace, name)) {
            Some(json) => decode(&format!("{} {namespace}/{name}", K::KIND), &json).map(Some),
            None => Ok(None),
        }
    }

    /// Objects of kind `K` from the cache, in `namespace` (empty: all), matching
    /// the label `selector` (empty: all).
    pub fn list<K>(&self, namespace: &str, selector: &str) -> Result<Vec<K>, Error>
    where
        K: k8s_openapi::Resource + DeserializeOwned,
    {
        let what = format!("a {} in {namespace}", K::KIND);
        self.api
            .list(&kind_of::<K>(), namespace, selector)
            .map_err(Error::Other)?
            .iter()
            .map(|j| decode(&what, j))
            .collect()
    }

    /// Objects of kind `K` from the cache in `namespace` whose ownerReferences
    /// name `owner_uid`, whatever their labels now say.
    pub fn list_owned<K>(&self, namespace: &str, owner_uid: &str) -> Result<Vec<K>, Error>
    where
        K: k8s_openapi::Resource + DeserializeOwned,
    {
        let what = format!("a {} in {namespace}", K::KIND);
        self.api
            .list_owned(&kind_of::<K>(), namespace, owner_uid)
            .iter()
            .map(|j| decode(&what, j))
            .collect()
    }

    /// Objects from the cache as the JSON text the host sent, undecoded.
    pub fn list_raw(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, Error> {
        self.api
            .list(kind, namespace, selector)
            .map_err(Error::Other)
    }

    /// Like [`Context::get`], for any kind, as JSON.
    pub fn get_json(
        &self,
        kind: &KindRef,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, Error> {
        match self.api.get(kind, &key(namespace, name)) {
            Some(json) => decode(&format!("{} {namespace}/{name}", kind.kind), &json).map(Some),
            None => Ok(None),
        }
    }

    /// One object read from the API server itself, bypassing the cache, as JSON.
    pub fn fetch_json(
        &self,
        kind: &KindRef,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, Error> {
        match self.api.fetch(kind, &key(namespace, name))? {
            Some(json) => decode(&format!("{} {namespace}/{name}", kind.kind), &json).map(Some),
            None => Ok(None),
        }
    }

    /// One object read from the API server itself, bypassing the cache, as the JSON
    /// text the host sent, undecoded.
    pub fn fetch_raw(
        &self,
        kind: &KindRef,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, Error> {
        Ok(self.api.fetch(kind, &key(namespace, name))?)
    }

    /// Objects read from the API server itself, bypassing the cache, as JSON: for
    /// a kind known only at run time, which no registration could name.
    pub fn fetch_list_json(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<serde_json::Value>, Error> {
        let what = format!("a {} in {namespace}", kind.kind);
        self.api
            .fetch_list(kind, namespace, selector)?
            .iter()
            .map(|j| decode(&what, j))
            .collect()
    }

    /// Like [`Context::list`], for any kind, as JSON.
    pub fn list_json(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<serde_json::Value>, Error> {
        let what = format!("a {} in {namespace}", kind.kind);
        self.api
            .list(kind, namespace, selector)
            .map_err(Error::Other)?
            .iter()
            .map(|j| decode(&what, j))
            .collect()
    }

    pub fn create<K>(&self, obj: &K) -> Result<K, Error>
    where
        K: k8s_openapi::Resource + Serialize + DeserializeOwned,
    {
        let json = self.api.apply(Write::Create(encode(obj)))?;
        decode(K::KIND, &json)
    }

    /// Creates several objects concurrently; one answer per object, in order.
    pub fn create_all<K>(&self, objs: &[K]) -> Vec<Result<K, Error>>
    where
        K: k8s_openapi::Resource + Serialize + DeserializeOwned,
    {
        let ops = objs.iter().map(|o| Write::Create(encode(o))).collect();
        self.api
            .apply_all(ops)
            .into_iter()
            .map(|r| r.map_err(Error::from).and_then(|j| decode(K::KIND, &j)))
            .collect()
    }

    /// Replaces an object; its `resourceVersion` must still be current.
    pub fn update<K>(&self, obj: &K) -> Result<K, Error>
    where
        K: k8s_openapi::Resource + Serialize + DeserializeOwned,
    {
        let json = self.api.apply(Write::Update(encode(obj)))?;
        decode(K::KIND, &json)
    }

    /// Replaces an object's status; its `resourceVersion` must still be current.
    pub fn update_status<K>(&self, obj: &K) -> Result<K, Error>
    where
        K: k8s_openapi::Resource + Serialize + DeserializeOwned,
    {
        let json = self.api.apply(Write::UpdateStatus(encode(obj)))?;
        decode(K::KIND, &json)
    }

    pub fn patch<K>(
        &self,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        body: &serde_json::Value,
        subresource: Option<&str>,
    ) -> Result<K, Error>
    where
        K: k8s_openapi::Resource + DeserializeOwned,
    {
        let json = self.api.apply(Write::Patch(PatchRequest {
            kind: kind_of::<K>(),
            key: key(namespace, name),
            patch_type,
            body: body.to_string(),
            subresource: subresource.map(str::to_string),
        }))?;
        decode(K::KIND, &json)
    }

    /// Deletes an object, only if it still has `uid` when one is given.
    pub fn delete<K: k8s_openapi::Resource>(
        &self,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Result<(), Error> {
        self.api
            .apply(Self::delete_op::<K>(namespace, name, uid, None))?;
        Ok(())
    }

    /// Deletes several objects concurrently: (namespace, name, uid) each.
    pub fn delete_all<K: k8s_openapi::Resource>(
        &self,
        objects: &[(String, String, Option<String>)],
    ) -> Vec<Result<(), Error>> {
        let ops = objects
            .iter()
            .map(|(ns, name, uid)| Self::delete_op::<K>(ns, name, uid.as_deref(), None))
            .collect();
        self.api
            .apply_all(ops)
            .into_iter()
            .map(|r| r.map(|_| ()).map_err(Error::from))
            .collect()
    }

    fn delete_op<K: k8s_openapi::Resource>(
        namespace: &str,
        name: &str,
        uid: Option<&str>,
        propagation: Option<&str>,
    ) -> Write {
        Write::Delete(DeleteRequest {
            kind: kind_of::<K>(),
            key: key(namespace, name),
            uid: uid.map(str::to_string),
            propagation: propagation.map(str::to_string),
        })
    }

    /// Any write, as the WIT states it (custom kinds, deletes with propagation).
    pub fn apply(&self, op: Write) -> Result<String, Error> {
        Ok(self.api.apply(op)?)
    }

    pub fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>> {
        self.api.apply_all(ops)
    }

    /// Records an Event about `obj` (shown by `kubectl describe`).
    pub fn event<K: Serialize>(&self, obj: &K, kind: EventType, reason: &str, message: &str) {
        self.api.event(&encode(obj), kind, reason, message)
    }

    pub fn log(&self, level: Level, message: &str) {
        self.api.log(level, message)
    }
}
