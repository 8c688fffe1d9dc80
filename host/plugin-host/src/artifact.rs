//! What a plugin file is: checked before it is compiled or run.

use sha2::{Digest, Sha256};

/// The WIT package this host implements. A plugin exporting another version of
/// it is refused with both versions named.
pub const SUPPORTED_PACKAGE: &str = "wharf:plugin@0.1.0";
const PACKAGE_NAME: &str = "wharf:plugin";
const SUPPORTED_VERSION: &str = "0.1.0";

/// The roles a plugin can fill, by the interface it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    SchedulerPolicy,
    Controller,
}

impl PluginKind {
    /// The exported interface's name within the package.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::SchedulerPolicy => "scheduler-policy",
            PluginKind::Controller => "controller",
        }
    }

    /// The name the Plugin object's `spec.kind` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::SchedulerPolicy => "scheduler-policy",
            PluginKind::Controller => "controller",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduler-policy" => Some(PluginKind::SchedulerPolicy),
            "controller" => Some(PluginKind::Controller),
            _ => None,
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("plugin {name}: not a WebAssembly file (it does not start with the wasm magic bytes)")]
    NotWasm { name: String },
    #[error(
        "plugin {name}: a core WebAssembly module, not a component; build it for the \
         wasm32-wasip2 target (cargo build --target wasm32-wasip2) so that it is a component"
    )]
    CoreModule { name: String },
    #[error("plugin {name}: not a valid WebAssembly component: {message}")]
    Invalid { name: String, message: String },
    #[error(
        "plugin {name}: built for {found}, but this Wharf supports {SUPPORTED_PACKAGE}; \
         rebuild it against {SUPPORTED_PACKAGE}"
    )]
    UnsupportedVersion { name: String, found: String },
    #[error(
        "plugin {name}: exports no Wharf plugin interface (expected \
         wharf:plugin/scheduler-policy@{SUPPORTED_VERSION} or \
         wharf:plugin/controller@{SUPPORTED_VERSION}); it exports: {exports}"
    )]
    NoInterface { name: String, exports: String },
    #[error("plugin {name}: the host could not compile it: {message}")]
    Host { name: String, message: String },
    #[error("plugin {name}: is a {found} plugin, but {wanted} was asked for")]
    WrongKind {
        name: String,
        found: PluginKind,
        wanted: PluginKind,
    },
}

/// `sha256:<hex>`, the content address of a plugin module.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Checks the header: wasm at all, and a component rather than a core module.
/// Cheap (no compilation), so the CLI runs it before anything is uploaded.
pub fn check_header(name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return Err(LoadError::NotWasm { name: name.into() });
    }
    // Bytes 4..8: version and layer. Core modules are version 1, layer 0.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule { name: name.into() });
    }
    Ok(())
}

/// Finds which Wharf interface, and which version of the package, a component
/// exports, from its export names (`wharf:plugin/scheduler-policy@0.1.0`).
pub(crate) fn identify<'a>(
    name: &str,
    exports: impl Iterator<Item = &'a str>,
) -> Result<PluginKind, LoadError> {
    let mut seen = Vec::new();
    for export in exports {
        seen.push(export.to_string());
        let Some(rest) = export
            .strip_prefix(PACKAGE_NAME)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        if version != SUPPORTED_VERSION {
            return Err(LoadError::UnsupportedVersion {
                name: name.into(),
                found: if version.is_empty() {
                    format!("{PACKAGE_NAME} (unversioned)")
                } else {
                    format!("{PACKAGE_NAME}@{version}")
                },
            });
        }
        for kind in [PluginKind::SchedulerPolicy, PluginKind::Controller] {
            if interface == kind.interface() {
                return Ok(kind);
            }
        }
    }
    Err(LoadError::NoInterface {
        name: name.into(),
        exports: if seen.is_empty() {
            "nothing".into()
        } else {
            seen.join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked() {
        assert!(matches!(
            check_header("x", b"hello world"),
            Err(LoadError::NotWasm { .. })
        ));
        assert!(matches!(
            check_header("x", b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule { .. })
        ));
        assert!(check_header("x", b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn versions_are_named_when_refused() {
        let err = identify("p", ["wharf:plugin/scheduler-policy@0.2.0"].into_iter()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("wharf:plugin@0.2.0") && msg.contains("wharf:plugin@0.1.0"),
            "{msg}"
        );
        assert_eq!(
            identify("p", ["wharf:plugin/scheduler-policy@0.1.0"].into_iter()).unwrap(),
            PluginKind::SchedulerPolicy
        );
        let none = identify("p", ["wasi:cli/run@0.2.0"].into_iter()).unwrap_err();
        assert!(none.to_string().contains("wasi:cli/run@0.2.0"));
    }
}
