//! The Wharf controller SDK: a controller is a type implementing [`Reconciler`],
//! exported with [`export_controller!`](crate::export_controller).
//!
//! A reconcile reads the cluster as the host's informer caches hold it and writes
//! through the API server, via a [`Context`] with typed helpers over k8s-openapi
//! (any other kind, a custom resource say, goes through the `*_json` methods). It
//! keeps nothing between calls: everything it needs, it reads again. The host
//! writes what the API answers back into its caches, so a reconcile always sees
//! the writes of the ones before it.
//!
//! ```ignore
//! use wharf_controller_sdk::*;
//! use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
//!
//! struct DefaultAccount;
//!
//! impl Reconciler for DefaultAccount {
//!     fn configure(config: &str) -> Result<Self, String> {
//!         config::none("default-account", config)?; // refuses any key, by name
//!         Ok(DefaultAccount)
//!     }
//!     fn registration(&self) -> Registration {
//!         registration::<Namespace>(vec![watch::<ServiceAccount>(Mapping::InNamespace)])
//!     }
//!     fn reconcile(&self, ctx: &Context, key: &Key) -> Result<Outcome, Error> {
//!         // ...
//!         Ok(Outcome::Done)
//!     }
//! }
//!
//! wharf_controller_sdk::export_controller!(DefaultAccount);
//! ```

pub mod config;
mod context;
pub mod kinds;
pub mod ownership;
pub mod pods;
pub mod selector;

/// Bindings generated from `wit/plugin` for the `controller-plugin` world.
/// Authors use the re-exports of this crate instead.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/plugin",
        world: "controller-plugin",
        pub_export_macro: true,
        export_macro_name: "__export_controller_world",
        default_bindings_module: "wharf_controller_sdk::bindings",
    });
}

/// The WIT package version this SDK builds controllers for.
pub const WIT_PACKAGE: &str = "wharf:plugin@0.1.0";

pub use context::{Api, Context, Error, HostApi};
pub use k8s_openapi;

pub use crate::bindings::wharf::plugin::controller_types::{
    ApiError, DeleteRequest, ErrorReason, EventType, Key, KindRef, Level, Mapping, Outcome,
    PatchRequest, PatchType, Registration, SubresourceUpdate, Trigger, Watch, Write,
};

/// A controller. One value is made per instance (by `configure`) and asked to
/// reconcile keys one at a time; the host runs several instances in parallel.
pub trait Reconciler: Sized {
    /// Reads the Plugin object's `spec.config` (JSON text, "{}" when none).
    fn configure(config: &str) -> Result<Self, String>;

    /// What this controller reconciles and reads.
    fn registration(&self) -> Registration;

    /// Brings the object at `key` to its desired state.
    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error>;
}

/// A count as Kubernetes writes an `omitempty` status field: absent when zero. A
/// Deployment scaled to zero has no `readyReplicas` on Kubernetes, and clients
/// written against it (`status.ready_replicas or 0`) see the same here.
pub fn omit_zero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// The kind of a k8s-openapi type, as the WIT names kinds.
pub fn kind_of<K: k8s_openapi::Resource>() -> KindRef {
    KindRef {
        api_version: K::API_VERSION.to_string(),
        kind: K::KIND.to_string(),
    }
}

/// A watch of a k8s-openapi kind.
pub fn watch<K: k8s_openapi::Resource>(mapping: Mapping) -> Watch {
    Watch {
        kind: kind_of::<K>(),
        mapping,
    }
}

/// A registration with `K` as the primary kind, woken by every change to one,
/// and no periodic resync.
pub fn registration<K: k8s_openapi::Resource>(watches: Vec<Watch>) -> Registration {
    Registration {
        primary: kind_of::<K>(),
        primary_trigger: Trigger::AnyChange,
        watches,
        resync_seconds: 0,
    }
}

/// Glue between a [`Reconciler`] and the exported WIT interface; used by
/// [`export_controller!`](crate::export_controller).
#[doc(hidden)]
pub struct Exported<R> {
    reconciler: Option<R>,
}

impl<R> Default for Exported<R> {
    fn default() -> Self {
        Exported { reconciler: None }
    }
}

impl<R: Reconciler> Exported<R> {
    pub fn configure(&mut self, config: &str) -> Result<Registration, String> {
        let r = R::configure(config)?;
        let registration = r.registration();
        self.reconciler = Some(r);
        Ok(registration)
    }

    pub fn reconcile(&self, key: &Key) -> Result<Outcome, String> {
        let Some(r) = &self.reconciler else {
            return Err("reconcile before configure".into());
        };
        r.reconcile(&Context::new(&HostApi), key)
            .map_err(|e| e.to_string())
    }
}

/// Exports a [`Reconciler`] as the plugin's `controller` interface.
#[macro_export]
macro_rules! export_controller {
    ($reconciler:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __WharfControllerExport;

            ::std::thread_local! {
                static __WHARF_CONTROLLER: ::std::cell::RefCell<
                    $crate::Exported<$reconciler>,
                > = ::std::cell::RefCell::new(::std::default::Default::default());
            }

            impl $crate::bindings::exports::wharf::plugin::controller::Guest
                for __WharfControllerExport
            {
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<$crate::Registration, ::std::string::String> {
                    __WHARF_CONTROLLER.with(|s| s.borrow_mut().configure(&config))
                }

                fn reconcile(
                    key: $crate::Key,
                ) -> ::std::result::Result<$crate::Outcome, ::std::string::String> {
                    __WHARF_CONTROLLER.with(|s| s.borrow().reconcile(&key))
                }
            }

            $crate::bindings::__export_controller_world!(
                __WharfControllerExport with_types_in $crate::bindings
            );
        };
    };
}
