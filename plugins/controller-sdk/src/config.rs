//! Reading a controller's configuration: the Plugin object's `spec.config`, JSON
//! text ("{}" when it has none). A key the controller does not take is refused by
//! name, so that a typo fails the install instead of silently changing nothing.

use serde::de::DeserializeOwned;

/// Parses `config` into `T` (declare it `#[serde(deny_unknown_fields)]` with
/// defaults); the error names the controller and what is wrong.
pub fn parse<T: DeserializeOwned>(controller: &str, config: &str) -> Result<T, String> {
    serde_json::from_str(config).map_err(|e| format!("config of the {controller} controller: {e}"))
}

/// For a controller that takes no configuration: `{}` (or nothing) is fine, any
/// key is refused.
pub fn none(controller: &str, config: &str) -> Result<(), String> {
    if config.trim().is_empty() {
        return Ok(());
    }
    let map: serde_json::Map<String, serde_json::Value> = parse(controller, config)?;
    match map.keys().next() {
        None => Ok(()),
        Some(key) => Err(format!(
            "config of the {controller} controller: unknown field `{key}`: this controller takes no configuration"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Burst {
        #[serde(default)]
        burst_replicas: u32,
    }

    #[test]
    fn a_key_not_taken_is_named() {
        let err = parse::<Burst>("replicaset", r#"{"burstReplica": 3}"#).unwrap_err();
        assert!(
            err.contains("replicaset controller") && err.contains("burstReplica"),
            "{err}"
        );
        assert_eq!(
            parse::<Burst>("replicaset", r#"{"burstReplicas": 3}"#)
                .unwrap()
                .burst_replicas,
            3
        );
        assert_eq!(
            parse::<Burst>("replicaset", "{}").unwrap().burst_replicas,
            0
        );
    }

    #[test]
    fn a_controller_without_configuration_refuses_every_key() {
        assert!(none("namespace", "{}").is_ok());
        assert!(none("namespace", " ").is_ok());
        let err = none("namespace", r#"{"workers": 4}"#).unwrap_err();
        assert!(
            err.contains("`workers`") && err.contains("namespace"),
            "{err}"
        );
        let err = none("namespace", "[1]").unwrap_err();
        assert!(err.contains("namespace controller"), "{err}");
    }
}
