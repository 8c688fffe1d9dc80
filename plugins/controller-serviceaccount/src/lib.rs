//! The ServiceAccount controller: every active namespace has a `default`
//! ServiceAccount; one that is deleted is created again.

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_controller_sdk::{
    Context, Error, ErrorReason, Key, Mapping, Outcome, Reconciler, Registration, registration,
    watch,
};

/// The accounts every namespace gets.
pub const ACCOUNTS: &[&str] = &["default"];

pub struct ServiceAccountController;

impl Reconciler for ServiceAccountController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("serviceaccount", config)?;
        Ok(ServiceAccountController)
    }

    fn registration(&self) -> Registration {
        registration::<Namespace>(vec![watch::<ServiceAccount>(Mapping::InNamespace)])
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(ns) = ctx.get::<Namespace>("", &key.name)? else {
            return Ok(Outcome::Done);
        };
        let terminating = ns.metadata.deletion_timestamp.is_some()
            || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
        if terminating {
            return Ok(Outcome::Done);
        }
        for name in ACCOUNTS {
            if ctx.get::<ServiceAccount>(&key.name, name)?.is_some() {
                continue;
            }
            let account = ServiceAccount {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(key.name.clone()),
                    ..Default::default()
                },
                ..Default::default()
            };
            match ctx.create(&account) {
                Ok(_) => {}
                Err(e) if e.reason() == Some(ErrorReason::AlreadyExists) => {}
                // The namespace began terminating meanwhile.
                Err(e) if e.reason() == Some(ErrorReason::Forbidden) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Outcome::Done)
    }
}

wharf_controller_sdk::export_controller!(ServiceAccountController);
