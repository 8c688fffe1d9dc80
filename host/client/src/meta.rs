//! Pieces for owners that decode objects into their own types (see
//! [`crate::Object`]): the metadata every such type reads, and lenient fields.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A field that may be absent or `null`: either way it reads as its default.
/// Use it as `#[serde(deserialize_with = "wharf_client::nullable")]`.
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// An object's `metadata`, as far as Wharf's own roles read it. Labels, owner
/// references, finalizers and the deletion timestamp stay JSON: they are small,
/// and read leniently.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(deserialize_with = "nullable")]
    pub uid: String,
    #[serde(deserialize_with = "nullable")]
    pub resource_version: String,
    pub labels: Value,
    pub deletion_timestamp: Value,
    pub owner_references: Value,
    pub finalizers: Value,
}

impl Meta {
    /// For [`crate::Object::resource_version`].
    pub fn resource_version(&self) -> Option<&str> {
        Some(self.resource_version.as_str()).filter(|v| !v.is_empty())
    }

    pub fn is_deleting(&self) -> bool {
        !self.deletion_timestamp.is_null()
    }
}
