//! The Wharf plugin SDK: what a plugin author depends on.
//!
//! A scheduling policy is a type implementing [`scheduling::Policy`] (a filter, a
//! score and optionally a normalize step, as in Kubernetes' scheduling framework),
//! exported with [`export_scheduler_policy!`]. The SDK keeps the node view the host
//! pushes into the instance, runs the framework's cycle over it, and turns the
//! result into the WIT `decision`; the author writes only placement logic.
//!
//! ```ignore
//! use wharf_plugin_sdk::scheduling::{filters, scores, NodeInfo, Policy, Pod, Rejection, View};
//!
//! #[derive(Default)]
//! struct MostPods;
//!
//! impl Policy for MostPods {
//!     fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
//!         filters::standard(view, pod, node)
//!     }
//!     fn score(&self, _view: &View, _pod: &Pod, node: &NodeInfo) -> i64 {
//!         node.pod_count() as i64
//!     }
//! }
//!
//! wharf_plugin_sdk::export_scheduler_policy!(MostPods);
//! ```

pub mod scheduling;
pub mod testing;

/// Bindings generated from `wit/plugin` (package `wharf:plugin@0.1.0`). Authors
/// normally use the re-exports in [`scheduling`] instead.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/plugin",
        world: "scheduler",
        pub_export_macro: true,
        export_macro_name: "__export_scheduler_world",
        default_bindings_module: "wharf_plugin_sdk::bindings",
    });
}

/// The WIT package version this SDK builds plugins for; the host refuses a plugin
/// whose version it does not support, naming both.
pub const WIT_PACKAGE: &str = "wharf:plugin@0.1.0";

/// Exports a [`scheduling::Policy`] as the plugin's `scheduler-policy` interface.
///
/// The policy type must implement `Default`; `configure` is then called with the
/// Plugin object's `spec.config`.
#[macro_export]
macro_rules! export_scheduler_policy {
    ($policy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __WharfSchedulerExport;

            ::std::thread_local! {
                static __WHARF_STATE: ::std::cell::RefCell<
                    $crate::scheduling::Instance<$policy>,
                > = ::std::cell::RefCell::new($crate::scheduling::Instance::default());
            }

            impl $crate::bindings::exports::wharf::plugin::scheduler_policy::Guest
                for __WharfSchedulerExport
            {
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    __WHARF_STATE.with(|s| s.borrow_mut().configure(&config))
                }

                fn sync(changes: ::std::vec::Vec<$crate::scheduling::Change>) {
                    __WHARF_STATE.with(|s| s.borrow_mut().sync(changes))
                }

                fn schedule(pod: $crate::scheduling::Pod) -> $crate::scheduling::Decision {
                    __WHARF_STATE.with(|s| s.borrow_mut().schedule(&pod))
                }
            }

            $crate::bindings::__export_scheduler_world!(
                __WharfSchedulerExport with_types_in $crate::bindings
            );
        };
    };
}
