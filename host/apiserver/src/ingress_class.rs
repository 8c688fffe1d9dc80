//! Kubernetes' `DefaultIngressClass` admission plugin: a new Ingress that names no
//! class (neither `spec.ingressClassName` nor the older
//! `kubernetes.io/ingress.class` annotation) gets the default IngressClass, the
//! one annotated `ingressclass.kubernetes.io/is-default-class: "true"`, or the
//! newest such should there be several, as Kubernetes picks since 1.28.

use serde_json::Value;
use wharf_api_types::{meta, networking, resources};

use crate::error::ApiError;
use crate::storage::Objects;

const DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
const LEGACY_CLASS: &str = "kubernetes.io/ingress.class";

pub(crate) async fn admit_ingress(objects: &Objects, ingress: &mut Value) -> Result<(), ApiError> {
    let named = ingress
        .pointer("/spec/ingressClassName")
        .is_some_and(|c| !c.is_null());
    let annotated = ingress
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LEGACY_CLASS))
        .is_some();
    if named || annotated {
        return Ok(());
    }
    let info = resources::find(networking::GROUP, "v1", "ingressclasses")
        .ok_or_else(|| ApiError::internal("no IngressClass kind"))?;
    let page = objects
        .store()
        .list(&info.key_prefix(None), None, 0)
        .await
        .map_err(|e| ApiError::from_store(info, "", e))?;
    let mut newest: Option<(String, String)> = None;
    for kv in page.items {
        let class = Objects::decode(&kv.value, kv.mod_revision)?;
        let is_default = class
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(DEFAULT_CLASS))
            .and_then(Value::as_str)
            == Some("true");
        if !is_default {
            continue;
        }
        let created = meta::str_field(&class, "/metadata/creationTimestamp")
            .unwrap_or_default()
            .to_string();
        let name = meta::name(&class).unwrap_or_default().to_string();
        // RFC 3339 times in UTC with whole seconds sort as strings.
        if newest.as_ref().is_none_or(|(at, _)| created > *at) {
            newest = Some((created, name));
        }
    }
    if let Some((_, name)) = newest
        && let Some(spec) = ingress.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert("ingressClassName".into(), Value::from(name));
    }
    Ok(())
}
