//! The greeter: for every `Greeting` (a custom kind, `crd.yaml`), a ConfigMap
//! `<name>-greeting` holding the greeting text, owned by the Greeting, and the
//! Greeting's status saying where it is. Built with `--features shout`, it is the
//! second version of the same controller, which greets louder.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Value, json};
use wharf_controller_sdk::{
    Context, Error, ErrorReason, Key, KindRef, Mapping, Outcome, Reconciler, Registration, Trigger,
    Write, watch,
};

fn greeting_kind() -> KindRef {
    KindRef {
        api_version: "example.wharf.dev/v1".into(),
        kind: "Greeting".into(),
    }
}

/// The text a Greeting becomes.
pub fn greeting(message: &str, audience: &str) -> String {
    let text = format!("{message}, {audience}");
    if cfg!(feature = "shout") {
        format!("{}!", text.to_uppercase())
    } else {
        text
    }
}

pub struct Greeter;

impl Reconciler for Greeter {
    fn configure(config: &str) -> Result<Self, String> {
        // This controller takes no configuration: a key in `spec.config` is a
        // mistake, refused by name rather than ignored.
        wharf_controller_sdk::config::none("greeter", config)?;
        Ok(Greeter)
    }

    fn registration(&self) -> Registration {
        Registration {
            primary: greeting_kind(),
            primary_trigger: Trigger::AnyChange,
            // A ConfigMap changed or deleted by hand brings its Greeting back.
            watches: vec![watch::<ConfigMap>(Mapping::Owner)],
            resync_seconds: 0,
        }
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(g) = ctx.get_json(&greeting_kind(), &key.namespace, &key.name)? else {
            // Deleted: its ConfigMap is owned by it, so it goes too.
            return Ok(Outcome::Done);
        };
        let text = greeting(
            g.pointer("/spec/message")
                .and_then(Value::as_str)
                .unwrap_or(""),
            g.pointer("/spec/audience")
                .and_then(Value::as_str)
                .unwrap_or("world"),
        );
        let name = format!("{}-greeting", key.name);
        let data: BTreeMap<String, String> = [("greeting".to_string(), text.clone())].into();
        match ctx.get::<ConfigMap>(&key.namespace, &name)? {
            Some(cm) if cm.data.as_ref() == Some(&data) => {}
            Some(mut cm) => {
                cm.data = Some(data);
                ctx.update(&cm)?;
            }
            None => {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(key.namespace.clone()),
                        owner_references: Some(vec![OwnerReference {
                            api_version: "example.wharf.dev/v1".into(),
                            kind: "Greeting".into(),
                            name: key.name.clone(),
                            uid: g
                                .pointer("/metadata/uid")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .into(),
                            controller: Some(true),
                            block_owner_deletion: Some(true),
                        }]),
                        ..Default::default()
                    },
                    data: Some(data),
                    ..Default::default()
                };
                match ctx.create(&cm) {
                    Ok(_) => {}
                    Err(e) if e.reason() == Some(ErrorReason::AlreadyExists) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let status = json!({
            "configMap": name,
            "greeting": text,
            "observedGeneration": g.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        });
        if g.get("status") != Some(&status) {
            let mut updated = g.clone();
            updated["status"] = status;
            match ctx.apply(Write::UpdateStatus(updated.to_string())) {
                Ok(_) => {}
                // Changed meanwhile: that change brings another pass.
                Err(e) if e.reason() == Some(ErrorReason::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Outcome::Done)
    }
}

wharf_controller_sdk::export_controller!(Greeter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_composed() {
        let g = greeting("hello", "team");
        if cfg!(feature = "shout") {
            assert_eq!(g, "HELLO, TEAM!");
        } else {
            assert_eq!(g, "hello, team");
        }
    }
}
