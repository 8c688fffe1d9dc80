//! A container's probes and lifecycle hooks: each names exactly one handler,
//! and the handler is well formed, as Kubernetes' `validateProbe` and
//! `validateHandler` check them.

use serde_json::Value;

use super::FieldError;
use super::ports::check_number_or_name;

const PROBES: &[&str] = &["livenessProbe", "readinessProbe", "startupProbe"];
const HOOKS: &[&str] = &["postStart", "preStop"];
const PROBE_HANDLERS: &[&str] = &["exec", "httpGet", "tcpSocket", "grpc"];
const HOOK_HANDLERS: &[&str] = &["exec", "httpGet", "tcpSocket", "sleep"];
const SCHEMES: &[&str] = &["HTTP", "HTTPS"];
const TIMINGS: &[&str] = &[
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
];

/// The probes and hooks of one container (`at` is the container's path).
pub fn check_container(container: &Value, at: &str, errors: &mut Vec<FieldError>) {
    for probe in PROBES {
        let Some(p) = container.get(*probe).filter(|p| !p.is_null()) else {
            continue;
        };
        let path = format!("{at}.{probe}");
        check_handler(p, &path, PROBE_HANDLERS, errors);
        for timing in TIMINGS {
            if let Some(n) = p.get(*timing).and_then(Value::as_i64)
                && n < 0
            {
                errors.push(FieldError::invalid(
                    &format!("{path}.{timing}"),
                    &Value::from(n),
                    "must be greater than or equal to 0",
                ));
            }
        }
        // Only readiness can need more than one success in a row.
        if *probe != "readinessProbe"
            && let Some(n) = p.get("successThreshold").and_then(Value::as_i64)
            && n != 1
            && n >= 0
        {
            errors.push(FieldError::invalid(
                &format!("{path}.successThreshold"),
                &Value::from(n),
                "must be 1",
            ));
        }
    }
    let lifecycle = container.get("lifecycle");
    for hook in HOOKS {
        if let Some(h) = lifecycle
            .and_then(|l| l.get(*hook))
            .filter(|h| !h.is_null())
        {
            check_handler(h, &format!("{at}.lifecycle.{hook}"), HOOK_HANDLERS, errors);
        }
    }
}

/// An init container that runs to completion is neither probed nor hooked.
pub fn forbid_in_init_container(container: &Value, at: &str, errors: &mut Vec<FieldError>) {
    for field in PROBES.iter().chain(&["lifecycle"]) {
        if container.get(*field).is_some_and(|v| !v.is_null()) {
            errors.push(FieldError::forbidden(
                &format!("{at}.{field}"),
                "may not be set for init containers without restartPolicy=Always",
            ));
        }
    }
}

/// Exactly one of `handlers`, well formed.
fn check_handler(probe: &Value, path: &str, handlers: &[&str], errors: &mut Vec<FieldError>) {
    let mut found = 0;
    for handler in handlers {
        let Some(h) = probe.get(*handler).filter(|h| !h.is_null()) else {
            continue;
        };
        let at = format!("{path}.{handler}");
        if found > 0 {
            errors.push(FieldError::forbidden(
                &at,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        found += 1;
        match *handler {
            "exec"
                if h.get("command")
                    .and_then(Value::as_array)
                    .is_none_or(|c| c.is_empty()) =>
            {
                errors.push(FieldError::required(&format!("{at}.command")));
            }
            "httpGet" => {
                check_number_or_name(h.get("port"), &format!("{at}.port"), errors);
                if let Some(scheme) = h.get("scheme").and_then(Value::as_str)
                    && !SCHEMES.contains(&scheme)
                {
                    errors.push(FieldError::not_supported(
                        &format!("{at}.scheme"),
                        &Value::from(scheme),
                        SCHEMES,
                    ));
                }
            }
            "tcpSocket" => check_number_or_name(h.get("port"), &format!("{at}.port"), errors),
            "grpc" => match h.get("port").and_then(Value::as_i64) {
                Some(p) if (1..=65535).contains(&p) => {}
                Some(p) => errors.push(FieldError::invalid(
                    &format!("{at}.port"),
                    &Value::from(p),
                    "must be between 1 and 65535, inclusive",
                )),
                None => errors.push(FieldError::required(&format!("{at}.port"))),
            },
            _ => {}
        }
    }
    if found == 0 {
        errors.push(FieldError::required_because(
            path,
            "must specify a handler type",
        ));
    }
}
