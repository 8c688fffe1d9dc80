//! Wharf's resource model: which kinds exist, how their objects are decoded,
//! defaulted and validated, and how they are selected.
//!
//! Objects travel as `serde_json::Value` in the Kubernetes JSON shape; the typed
//! structs of `k8s-openapi` are used to decode them, which both checks their types
//! and drops fields the kind does not have (reported back as unknown fields).
//!
//! Nothing here does I/O: these are pure functions the API server and, later, the
//! controllers share.

#![forbid(unsafe_code)]

pub mod canonical;
pub mod custom;
pub mod defaults;
pub mod event;
pub mod meta;
pub mod networking;
pub mod plugin;
pub mod policy;
pub mod priority;
pub mod projection;
pub mod quantity;
pub mod rbac;
pub mod resources;
pub mod selector;
pub mod validation;

pub use resources::{RESOURCES, ResourceInfo, Subresource};
