//! Why a node cannot take a pod, cheap to make on the path where nobody reads it.
//!
//! A cycle filters until it has enough feasible nodes, and the reasons of the nodes
//! it rejected on the way are read only when no node fits. Most reasons are fixed
//! text; the one that is not, a taint's ("node(s) had untolerated taint {k: v}"),
//! is built once per taint when the node enters the view and shared from then on.
//! Building it per rejection cost every tainted node a cycle passes an allocation
//! and a free, which a WebAssembly guest pays several times over (its allocator is
//! a chain of wasm calls).

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Why a node cannot take a pod, worded as Kubernetes words it in `FailedScheduling`
/// events ("Insufficient cpu"). Several reasons are separated by newlines.
///
/// Made from text with `.into()`: a `&'static str` is kept as it is, a `String`
/// once into shared storage, so cloning a rejection never copies its text.
#[derive(Clone)]
pub struct Rejection(Text);

#[derive(Clone)]
enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Rejection {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Static(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl Deref for Rejection {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Rejection {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&'static str> for Rejection {
    fn from(s: &'static str) -> Self {
        Rejection(Text::Static(s))
    }
}

impl From<String> for Rejection {
    fn from(s: String) -> Self {
        Rejection(Text::Shared(s.into()))
    }
}

impl From<Arc<str>> for Rejection {
    fn from(s: Arc<str>) -> Self {
        Rejection(Text::Shared(s))
    }
}

impl From<Cow<'static, str>> for Rejection {
    fn from(s: Cow<'static, str>) -> Self {
        match s {
            Cow::Borrowed(s) => s.into(),
            Cow::Owned(s) => s.into(),
        }
    }
}

impl From<Rejection> for String {
    fn from(r: Rejection) -> Self {
        r.as_str().to_owned()
    }
}

// Compared and hashed by their text, however it is held.
impl PartialEq for Rejection {
    fn eq(&self, other: &Rejection) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Rejection {}

impl std::hash::Hash for Rejection {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for Rejection {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Rejection {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_owned_text_read_back_the_same() {
        let fixed: Rejection = "Insufficient cpu".into();
        let owned: Rejection = String::from("Insufficient cpu").into();
        assert_eq!(fixed, "Insufficient cpu");
        assert_eq!(fixed, owned);
        assert_eq!(owned.as_str(), "Insufficient cpu");
        assert_eq!(fixed.to_string(), owned.to_string());
        assert_eq!(format!("{owned:?}"), "\"Insufficient cpu\"");
    }

    #[test]
    fn a_clone_shares_the_text_rather_than_copying_it() {
        let r: Rejection = String::from("node(s) had untolerated taint {k: v}").into();
        let copy = r.clone();
        assert!(std::ptr::eq(r.as_str(), copy.as_str()));
    }
}
