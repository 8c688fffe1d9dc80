//! Objects on top of the key-value store: JSON encoding, `resourceVersion` from the
//! store's revisions, listing with selectors and continue tokens.
//!
//! Stored bytes never carry `resourceVersion`: it is always the revision of the
//! object's last write, set when the object is read (as Kubernetes does over etcd).

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use wharf_api_types::ResourceInfo;
use wharf_api_types::custom;
use wharf_store::{KeyValue, Revision, Store, StoreError};

use crate::error::ApiError;
use crate::request::Options;

/// Object access for the API handlers.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn Store>,
}

/// One page of a listing.
pub struct Listed<T = Value> {
    pub items: Vec<T>,
    pub revision: Revision,
    pub continue_token: Option<String>,
}

impl Objects {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Parses stored bytes and sets `metadata.resourceVersion` to `revision`.
    pub fn decode(bytes: &[u8], revision: Revision) -> Result<Value, ApiError> {
        let mut obj: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
        wharf_api_types::meta::set(&mut obj, "resourceVersion", revision.to_string());
        Ok(obj)
    }

    fn decode_kv(kv: &KeyValue) -> Result<Value, ApiError> {
        Self::decode(&kv.value, kv.mod_revision)
    }

    /// Stored form: the object without `resourceVersion` (taken out and put back
    /// rather than cloning the whole object).
    fn encode(obj: &mut Value) -> Vec<u8> {
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut);
        let taken = meta.and_then(|m| {
            m.remove("selfLink");
            m.remove("resourceVersion")
        });
        let bytes = serde_json::to_vec(&*obj).unwrap_or_default();
        if let (Some(rv), Some(m)) = (
            taken,
            obj.get_mut("metadata").and_then(Value::as_object_mut),
        ) {
            m.insert("resourceVersion".into(), rv);
        }
        bytes
    }

    /// Waits up to 3 s (as Kubernetes does) for the store to reach `revision`.
    pub async fn wait_for_revision(&self, revision: Revision) -> Result<(), ApiError> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let current = self.store.current_revision();
            if current >= revision {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::too_large_revision(revision, current));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub async fn get(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Value, Revision), ApiError> {
        let kv = self
            .store
            .get(&info.key(namespace, name))
            .await
            .map_err(|e| ApiError::from_store(info, name, e))?
            .ok_or_else(|| ApiError::not_found(info, name))?;
        let mut obj = Self::decode_kv(&kv)?;
        if custom::is_custom(info) {
            at_version(info, &mut obj);
        }
        Ok((obj, kv.mod_revision))
    }

    pub async fn try_get(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<(Value, Revision)>, ApiError> {
        match self.get(info, namespace, name).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists `info` objects (in `namespace`, or everywhere) that match the options'
    /// selectors, at most `limit` of them, resuming after a continue token.
    pub async fn list(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        options: &Options,
    ) -> Result<Listed, ApiError> {
        let custom = custom::is_custom(info);
        self.list_with(info, namespace, options, |kv| {
            if !options.selects_json(&kv.value)? {
                return Ok(None);
            }
            let mut obj = Self::decode_kv(kv)?;
            if custom {
                at_version(info, &mut obj);
            }
            Ok(Some(obj))
        })
        .await
    }

    /// Like [`list`](Self::list), but each selected object comes back as JSON bytes
    /// with its `resourceVersion` spliced in, without decoding the whole object:
    /// listing thousands of objects is mostly decoding and re-encoding otherwise.
    /// Selectors read only the fields they name (see [`Options::selects_json`]).
    pub async fn list_json(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        options: &Options,
    ) -> Result<Listed<Vec<u8>>, ApiError> {
        let custom = custom::is_custom(info);
        self.list_with(info, namespace, options, |kv| {
            if !options.selects_json(&kv.value)? {
                return Ok(None);
            }
            let raw = raw_with_revision(&kv.value, kv.mod_revision)?;
            Ok(Some(if custom {
                raw_at_version(info, raw)
            } else {
                raw
            }))
        })
        .await
    }

    async fn list_with<T>(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        options: &Options,
        select: impl Fn(&KeyValue) -> Result<Option<T>, ApiError>,
    ) -> Result<Listed<T>, ApiError> {
        let prefix = info.key_prefix(namespace);
        // The revision the listing shows: the newest, unless the client asked for
        // an exact one or continues a listing (whose later pages show what its
        // first page did, as Kubernetes reads them from etcd at that revision).
        let mut at = None;
        if let Some(rv) = options.revision()? {
            // "Not older than rv": a revision from the future is waited for briefly.
            self.wait_for_revision(rv).await?;
            if options.resource_version_match.as_deref() == Some("Exact") {
                at = Some(rv);
            }
        }
        let (mut start_after, token_revision) = match &options.continue_token {
            Some(token) => {
                let (key, rev) = decode_continue(token, &prefix)?;
                (Some(key), Some(rev))
            }
            None => (None, None),
        };
        if let Some(rev) = token_revision.filter(|&r| r > 0) {
            at = Some(rev);
        }
        // A name selector is a point read (a cluster-wide listing of a namespaced
        // kind has to scan: names repeat across namespaces).
        if let Some(name) = options.fields.equality("metadata.name")
            && (namespace.is_some() || !info.namespaced)
        {
            let key = info.key(namespace, name);
            let (kv, revision) = match at {
                None => {
                    let revision = self.store.current_revision();
                    let kv = self.store.get(&key).await;
                    (
                        kv.map_err(|e| ApiError::from_store(info, name, e))?,
                        revision,
                    )
                }
                // The key as a prefix, then the one key itself.
                Some(revision) => {
                    let page = self.store.list_at(&key, None, 0, revision).await;
                    let page = page.map_err(|e| ApiError::from_store(info, name, e))?;
                    (page.items.into_iter().find(|kv| kv.key == key), revision)
                }
            };
            let items = match kv {
                Some(kv) => select(&kv)?.into_iter().collect(),
                None => Vec::new(),
            };
            return Ok(Listed {
                items,
                revision,
                continue_token: None,
            });
        }
        if options.limit > 0 && at.is_none() {
            // The first page of a paginated listing is read at one revision too,
            // so that a write racing it cannot show in it and not in later pages.
            at = Some(self.store.current_revision());
        }
        let prefix = prefix.as_str();
        let list_page = |start_after: Option<String>, batch: usize| async move {
            let page = match at {
                Some(revision) => {
                    self.store
                        .list_at(prefix, start_after.as_deref(), batch, revision)
                        .await
                }
                None => self.store.list(prefix, start_after.as_deref(), batch).await,
            };
            page.map_err(|e| match e {
                StoreError::Compacted { .. } if options.continue_token.is_some() => {
                    ApiError::gone(CONTINUE_EXPIRED.to_string())
                }
                e => ApiError::from_store(info, "", e),
            })
        };
        let mut items = Vec::new();
        let mut revision = None;
        let want = options.limit;
        loop {
            // Over-fetch a little when filtering, so a selective selector does not
            // turn one page into many round trips.
            let batch = if want == 0 {
                0
            } else {
                (want - items.len()).max(64)
            };
            let page = list_page(start_after.clone(), batch).await?;
            revision.get_or_insert(page.revision);
            let mut last_key = None;
            let mut filled = false;
            for kv in &page.items {
                last_key = Some(kv.key.clone());
                if let Some(item) = select(kv)? {
                    items.push(item);
                    if want > 0 && items.len() == want {
                        filled = true;
                        break;
                    }
                }
            }
            let more_in_store = page.more
                || (filled && last_key.as_deref() != page.items.last().map(|kv| kv.key.as_str()));
            if filled {
                let revision = token_revision.or(revision).unwrap_or(0);
                let continue_token = if more_in_store {
                    last_key.map(|k| encode_continue(&k, revision))
                } else {
                    None
                };
                return Ok(Listed {
                    items,
                    revision,
                    continue_token,
                });
            }
            if !page.more {
                break;
            }
            start_after = last_key;
        }
        Ok(Listed {
            items,
            revision: token_revision.or(revision).unwrap_or(0),
            continue_token: None,
        })
    }

    pub async fn create(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
    ) -> Result<Written, ApiError> {
        let stored = Self::encode(&mut obj);
        let revision = self
            .store
            .create(&info.key(namespace, name), stored.clone())
            .await
            .map_err(|e| ApiError::from_store(info, name, e))?;
        Ok(Self::written(info, obj, stored, revision))
    }

    /// What a handler gets back from writing `obj` (stored as `stored`) at
    /// `revision`; a CRD's kinds are served from then on.
    fn written(info: &ResourceInfo, obj: Value, stored: Vec<u8>, revision: Revision) -> Written {
        let object = with_revision(obj, revision);
        Self::serve_custom_kinds(info, &object);
        Written {
            object,
            stored,
            revision,
        }
    }

    /// Whether `namespace` is being deleted, reading only its `deletionTimestamp`
    /// (every namespaced create asks this); NotFound when it does not exist.
    pub async fn namespace_terminating(&self, namespace: &str) -> Result<bool, ApiError> {
        #[derive(serde::Deserialize, Default)]
        struct Meta {
            #[serde(rename = "deletionTimestamp")]
            deletion_timestamp: Option<serde::de::IgnoredAny>,
        }
        #[derive(serde::Deserialize)]
        struct Probe {
            #[serde(default)]
            metadata: Meta,
        }
        let info = wharf_api_types::resources::find("", "v1", "namespaces")
            .ok_or_else(|| ApiError::internal("no namespace kind"))?;
        let kv = self
            .store
            .get(&info.key(None, namespace))
            .await
            .map_err(|e| ApiError::from_store(info, namespace, e))?
            .ok_or_else(|| ApiError::not_found(info, namespace))?;
        let probe: Probe = serde_json::from_slice(&kv.value)
            .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
        Ok(probe.metadata.deletion_timestamp.is_some())
    }

    fn is_crd(info: &ResourceInfo) -> bool {
        info.group == custom::CRD_GROUP && info.kind == "CustomResourceDefinition"
    }

    /// A CustomResourceDefinition written: its kinds are served from now on (a
    /// CRD being deleted keeps them until it is gone).
    fn serve_custom_kinds(info: &ResourceInfo, obj: &Value) {
        if Self::is_crd(info)
            && let Err(e) = custom::register(obj)
        {
            tracing::warn!(error = %e, "a stored CustomResourceDefinition could not be served");
        }
    }

    /// Serves the kinds of every stored CustomResourceDefinition (at start).
    pub async fn serve_stored_crds(&self) -> Result<usize, ApiError> {
        let Some(info) =
            wharf_api_types::resources::find(custom::CRD_GROUP, "v1", "customresourcedefinitions")
        else {
            return Ok(0);
        };
        let all = Options::parse(&Default::default(), info)?;
        let listed = self.list(info, None, &all).await?;
        for crd in &listed.items {
            Self::serve_custom_kinds(info, crd);
        }
        Ok(listed.items.len())
    }

    /// A CustomResourceDefinition deleted: its kinds stop being served and their
    /// objects are removed, as Kubernetes' CRD finalizer does.
    async fn drop_custom_kinds(&self, crd: &Value) {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kinds: Vec<&'static ResourceInfo> = custom::registered()
            .into_iter()
            .filter(|c| c.crd == name)
            .map(|c| c.info)
            .collect();
        custom::unregister(name);
        // Every version shares one storage prefix.
        let Some(info) = kinds.first() else { return };
        let prefix = info.key_prefix(None);
        loop {
            let page = match self.store.list(&prefix, None, 500).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(crd = name, error = %e, "could not list the objects of a deleted CRD");
                    return;
                }
            };
            if page.items.is_empty() {
                return;
            }
            for kv in page.items {
                let _ = self.store.delete(&kv.key, None).await;
            }
        }
    }

    pub async fn update(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
        expected: Option<Revision>,
    ) -> Result<Written, ApiError> {
        let stored = Self::encode(&mut obj);
        let revision = self
            .store
            .update(&info.key(namespace, name), stored.clone(), expected)
            .await
            .map_err(|e| ApiError::from_store(info, name, e))?;
        Ok(Self::written(info, obj, stored, revision))
    }

    /// Removes the object; returns its last state.
    pub async fn delete(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        expected: Option<Revision>,
    ) -> Result<Value, ApiError> {
        let (_, old) = self
            .store
            .delete(&info.key(namespace, name), expected)
            .await
            .map_err(|e| ApiError::from_store(info, name, e))?;
        let mut obj = Self::decode_kv(&old)?;
        if Self::is_crd(info) {
            self.drop_custom_kinds(&obj).await;
        } else if custom::is_custom(info) {
            at_version(info, &mut obj);
        }
        Ok(obj)
    }
}

/// An object just written: as the handlers go on to use it, and the bytes stored,
/// from which its JSON is made without encoding the object again.
pub struct Written {
    pub object: Value,
    stored: Vec<u8>,
    revision: Revision,
}

impl Written {
    /// The object as JSON, `resourceVersion` included.
    pub fn json(&self) -> Result<Vec<u8>, ApiError> {
        raw_with_revision(&self.stored, self.revision)
    }
}

pub fn with_revision(mut obj: Value, rev: Revision) -> Value {
    wharf_api_types::meta::set(&mut obj, "resourceVersion", rev.to_string());
    obj
}

/// A custom object as read through `info`'s version of its kind. Kinds served in
/// several versions share their objects, each stored at the version it was
/// written through; Wharf serves conversion strategy `None`, as Kubernetes does
/// by default, under which converting an object only changes its apiVersion.
/// Like Kubernetes' decoding from storage, the read also prunes and defaults the
/// object by the version's schema as it is now.
pub(crate) fn at_version(info: &ResourceInfo, obj: &mut Value) {
    custom::on_read(info, obj);
    let wanted = info.api_version();
    if let Some(map) = obj.as_object_mut()
        && map.get("apiVersion").and_then(Value::as_str) != Some(wanted.as_str())
    {
        map.insert("apiVersion".into(), Value::from(wanted));
    }
}

/// [`at_version`] on stored JSON. Custom kinds are few and their objects small
/// next to pods, so they are decoded and encoded again rather than spliced.
pub(crate) fn raw_at_version(info: &ResourceInfo, bytes: Vec<u8>) -> Vec<u8> {
    let Ok(mut obj) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    at_version(info, &mut obj);
    serde_json::to_vec(&obj).unwrap_or(bytes)
}

/// Stored JSON with `metadata.resourceVersion` set. Every object of a JSON list
/// and every JSON watch event goes through here.
pub(crate) fn raw_with_revision(bytes: &[u8], revision: Revision) -> Result<Vec<u8>, ApiError> {
    match splice_revision(bytes, revision) {
        Some(out) => Ok(out),
        None => rebuild_with_revision(bytes, revision),
    }
}

/// The common case, without decoding anything: find the top-level `metadata`
/// object and insert `"resourceVersion":"N"` as its first member. Stored objects
/// carry no resourceVersion (see [`Objects::encode`]); `None` if this one does, or
/// its metadata is not an object, and the caller decodes it instead.
///
/// The members before `metadata` are skipped, not parsed, and nothing after it is
/// read: an object's JSON is encoded with its members in order, so for most kinds
/// only `apiVersion` and `kind` come first. (Parsing the whole document to find
/// `metadata`, as this did before, cost as much as decoding it: ~15,000
/// instructions a call against ~3,900 now, averaged under callgrind over the
/// responses and watch events of 1,000 pod creates and status patches. It is
/// paid for every object of a JSON list, every JSON watch event to every
/// watcher, and every write's response.) `bytes` is JSON the
/// store holds, so it is well formed; what the scan does not expect gives `None`.
fn splice_revision(bytes: &[u8], revision: Revision) -> Option<Vec<u8>> {
    let (start, end) = json_scan::member_value(bytes, b"metadata")?;
    let metadata = &bytes[start..end];
    if metadata.first() != Some(&b'{') || json_scan::contains(metadata, b"\"resourceVersion\"") {
        return None;
    }
    let empty = json_scan::skip_whitespace(bytes, start + 1).is_some_and(|i| bytes[i] == b'}');
    let mut out = Vec::with_capacity(bytes.len() + 48);
    out.extend_from_slice(&bytes[..=start]);
    out.extend_from_slice(b"\"resourceVersion\":\"");
    out.extend_from_slice(revision.to_string().as_bytes());
    out.push(b'"');
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(&bytes[start + 1..]);
    Some(out)
}

/// Just enough of a JSON scanner to find one member of the top-level object in
/// well-formed JSON without building anything.
mod json_scan {
    /// The span `start..end` of the value of the top-level member `key` (an
    /// unescaped name). `None` if there is none, or the input is not an object
    /// the scan understands.
    pub fn member_value(bytes: &[u8], key: &[u8]) -> Option<(usize, usize)> {
        let mut i = skip_whitespace(bytes, 0)?;
        if bytes[i] != b'{' {
            return None;
        }
        i += 1;
        loop {
            i = skip_whitespace(bytes, i)?;
            if bytes[i] != b'"' {
                return None; // `}`: no such member.
            }
            let name_end = skip_string(bytes, i)?;
            let name = &bytes[i + 1..name_end - 1];
            i = skip_whitespace(bytes, name_end)?;
            if bytes[i] != b':' {
                return None;
            }
            let start = skip_whitespace(bytes, i + 1)?;
            let end = skip_value(bytes, start)?;
            if name == key {
                return Some((start, end));
            }
            i = skip_whitespace(bytes, end)?;
            match bytes[i] {
                b',' => i += 1,
                _ => return None,
            }
        }
    }

    /// The index of the first non-whitespace byte at or after `i`.
    pub fn skip_whitespace(bytes: &[u8], i: usize) -> Option<usize> {
        let rest = bytes.get(i..)?;
        let n = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
        Some(i + n)
    }

    /// The index just past the string that starts (with its quote) at `i`.
    fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
        let mut j = i + 1;
        loop {
            let n = bytes
                .get(j..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\')?;
            j += n;
            if bytes[j] == b'"' {
                return Some(j + 1);
            }
            j += 2; // An escape: the backslash and the byte it escapes.
        }
    }

    /// The index just past the value that starts at `i`.
    fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
        match *bytes.get(i)? {
            b'"' => skip_string(bytes, i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match *bytes.get(j)? {
                        b'"' => {
                            j = skip_string(bytes, j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            // A number, `true`, `false` or `null`: up to the next delimiter.
            _ => {
                let n = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))?;
                (n > 0).then_some(i + n)
            }
        }
    }

    /// Whether `needle` occurs in `haystack`.
    pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        let Some(&first) = needle.first() else {
            return true;
        };
        (0..haystack.len()).any(|i| haystack[i] == first && haystack[i..].starts_with(needle))
    }
}

/// The general case: decode the top level and `metadata`, set the revision, and
/// encode them again around the other members' raw text.
fn rebuild_with_revision(bytes: &[u8], revision: Revision) -> Result<Vec<u8>, ApiError> {
    use serde_json::value::RawValue;
    let corrupt =
        |e: serde_json::Error| ApiError::internal(format!("stored object is not valid JSON: {e}"));
    let top: std::collections::BTreeMap<std::borrow::Cow<'_, str>, &RawValue> =
        serde_json::from_slice(bytes).map_err(corrupt)?;
    let mut metadata: Value = match top.get("metadata") {
        Some(raw) => serde_json::from_str(raw.get()).map_err(corrupt)?,
        None => Value::Object(Default::default()),
    };
    if let Some(m) = metadata.as_object_mut() {
        m.insert("resourceVersion".into(), Value::from(revision.to_string()));
    }
    let metadata = serde_json::to_string(&metadata).map_err(corrupt)?;
    let mut out = Vec::with_capacity(bytes.len() + 32);
    out.push(b'{');
    let mut first = true;
    let mut wrote_metadata = false;
    for (key, raw) in &top {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend(serde_json::to_vec(key.as_ref()).map_err(corrupt)?);
        out.push(b':');
        if key == "metadata" {
            out.extend_from_slice(metadata.as_bytes());
            wrote_metadata = true;
        } else {
            out.extend_from_slice(raw.get().as_bytes());
        }
    }
    if !wrote_metadata {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(b"\"metadata\":");
        out.extend_from_slice(metadata.as_bytes());
    }
    out.push(b'}');
    Ok(out)
}

/// Continue tokens carry the last key returned and the listing's revision, as
/// Kubernetes' do (base64 of a small JSON document).
fn encode_continue(last_key: &str, revision: Revision) -> String {
    let doc = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": last_key});
    base64::engine::general_purpose::URL_SAFE.encode(doc.to_string())
}

/// Kubernetes' words for a continue token whose revision is compacted (410).
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

fn decode_continue(token: &str, prefix: &str) -> Result<(String, Revision), ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .map_err(|_| invalid("not base64"))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("not JSON"))?;
    if doc.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(invalid("unknown version"));
    }
    let start = doc
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no start key"))?;
    if !start.starts_with(prefix) {
        return Err(invalid("it belongs to a different listing"));
    }
    let rv = doc.get("rv").and_then(Value::as_u64).unwrap_or(0);
    Ok((start.to_string(), rv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_listing_splices_the_revision_and_keeps_the_rest() {
        let stored = br#"{"apiVersion":"v1","data":{"k":"\"metadata\":{"},"kind":"ConfigMap","metadata":{"labels":{"a":"b"},"name":"c"}}"#;
        let with_rv = |stored: &[u8]| {
            let mut want: Value = serde_json::from_slice(stored).unwrap();
            want["metadata"]["resourceVersion"] = Value::from("42");
            want
        };
        // (stored, spliced without decoding)
        let cases: [(&[u8], bool); 7] = [
            (stored, true),
            (br#"{"kind":"ConfigMap","metadata":{}}"#, true),
            (br#"{"kind":"ConfigMap","metadata":  { } }"#, true),
            // Decoded instead: no metadata, or one that may name a revision.
            (br#"{"kind":"ConfigMap"}"#, false),
            (br#"{"metadata":{"resourceVersion":"7","name":"c"}}"#, false),
            (
                br#"{"metadata":{"annotations":{"resourceVersion":"x"}}}"#,
                false,
            ),
            // An escaped quote in a value is not a key.
            (
                br#"{"metadata":{"annotations":{"a":"\"resourceVersion\""}}}"#,
                true,
            ),
        ];
        for (stored, spliced) in cases {
            let shown = String::from_utf8_lossy(stored);
            let out = raw_with_revision(stored, 42).unwrap();
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v, with_rv(stored), "{shown}");
            assert_eq!(splice_revision(stored, 42).is_some(), spliced, "{shown}");
        }
        // Splicing keeps the stored order of members.
        let out = raw_with_revision(stored, 42).unwrap();
        assert!(out.starts_with(br#"{"apiVersion":"v1","data":"#));
        assert!(splice_revision(br#"{"metadata":[1]}"#, 1).is_none());
    }

    /// Every shape of document the scan may meet, from a fixed pseudo-random
    /// sequence: strings with quotes, backslashes, braces and the word
    /// `metadata` in them, nesting, every scalar, compact and pretty printing.
    /// Splicing must give what decoding gives, or decline.
    #[test]
    fn splicing_agrees_with_decoding_on_generated_documents() {
        struct Gen(u64);
        impl Gen {
            fn next(&mut self, n: u64) -> u64 {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (self.0 >> 33) % n
            }
            fn text(&mut self) -> String {
                const PIECES: [&str; 10] = [
                    "a",
                    "\"",
                    "\\",
                    "}",
                    "{",
                    "]",
                    "metadata",
                    "\"metadata\":{",
                    "é",
                    "\n",
                ];
                (0..self.next(5))
                    .map(|_| PIECES[self.next(PIECES.len() as u64) as usize])
                    .collect()
            }
            fn value(&mut self, depth: u32) -> Value {
                match self.next(if depth == 0 { 5 } else { 7 }) {
                    0 => Value::Null,
                    1 => Value::Bool(self.next(2) == 0),
                    2 => json!(self.next(1_000_000) as f64 / 7.0 - 1000.0),
                    3 => json!(self.next(100)),
                    4 => Value::String(self.text()),
                    5 => Value::Array((0..self.next(4)).map(|_| self.value(depth - 1)).collect()),
                    _ => Value::Object(
                        (0..self.next(4))
                            .map(|_| (self.text(), self.value(depth - 1)))
                            .collect(),
                    ),
                }
            }
        }
        let mut g = Gen(7);
        let mut spliced = 0;
        for case in 0..3000 {
            let mut doc = serde_json::Map::new();
            for _ in 0..g.next(4) {
                doc.insert(g.text(), g.value(3));
            }
            if g.next(10) > 0 {
                let metadata = if g.next(5) > 0 {
                    Value::Object((0..g.next(4)).map(|_| (g.text(), g.value(2))).collect())
                } else {
                    g.value(3)
                };
                doc.insert("metadata".into(), metadata);
            }
            for _ in 0..g.next(3) {
                doc.insert(g.text(), g.value(3));
            }
            let doc = Value::Object(doc);
            let bytes = if case % 2 == 0 {
                serde_json::to_vec(&doc).unwrap()
            } else {
                serde_json::to_vec_pretty(&doc).unwrap()
            };
            let shown = String::from_utf8_lossy(&bytes);
            if let Some(out) = splice_revision(&bytes, 42) {
                spliced += 1;
                let got: Value = serde_json::from_slice(&out)
                    .unwrap_or_else(|e| panic!("spliced {shown} into invalid JSON: {e}"));
                // (Decoded from the same text, so that floats compare equal.)
                let mut want: Value = serde_json::from_slice(&bytes).unwrap();
                want["metadata"]["resourceVersion"] = json!("42");
                assert_eq!(got, want, "{shown}");
            } else {
                // Declined: the document has no metadata object, or one that
                // mentions resourceVersion; decoding handles it.
                let decodable = doc["metadata"].is_object()
                    && !String::from_utf8_lossy(&bytes).contains("\"resourceVersion\"");
                assert!(!decodable, "declined {shown}");
            }
        }
        assert!(spliced > 1000, "only {spliced} documents were spliced");
    }

    #[test]
    fn continue_tokens_round_trip_and_are_checked() {
        let t = encode_continue("/registry/core/pods/default/p5", 42);
        assert_eq!(
            decode_continue(&t, "/registry/core/pods/").unwrap(),
            ("/registry/core/pods/default/p5".to_string(), 42)
        );
        assert!(decode_continue(&t, "/registry/core/secrets/").is_err());
        assert!(decode_continue("!!!", "/").is_err());
        assert!(decode_continue("e30=", "/").is_err());
    }
}
