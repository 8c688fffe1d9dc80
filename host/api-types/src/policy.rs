//! `policy/v1` PodDisruptionBudgets: how they are checked, and the budget arithmetic
//! the eviction subresource applies, as Kubernetes' disruption controller and
//! eviction REST handler define them.

use serde_json::Value;

use crate::validation::{CountOrPercent, FieldError, count_or_percent, validate_label_selector};

pub const GROUP: &str = "policy";

const EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

/// `ValidatePodDisruptionBudgetSpec`: one of `minAvailable` and `maxUnavailable`,
/// each a non-negative count or a percentage of at most 100; a valid selector; a
/// known policy for unhealthy pods.
pub fn validate_budget(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let min = spec.get("minAvailable").unwrap_or(&Value::Null);
    let max = spec.get("maxUnavailable").unwrap_or(&Value::Null);
    if !min.is_null() && !max.is_null() {
        errors.push(FieldError::invalid(
            "spec",
            spec,
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (value, field) in [(min, "spec.minAvailable"), (max, "spec.maxUnavailable")] {
        if let Some(CountOrPercent::Percent(p)) = count_or_percent(value, field, errors)
            && p > 100
        {
            errors.push(FieldError::invalid(
                field,
                value,
                "must not be greater than 100%",
            ));
        }
    }
    if let Some(selector) = spec.get("selector").filter(|s| !s.is_null()) {
        validate_label_selector(selector, "spec.selector", errors);
    }
    // `ValidatePodDisruptionBudgetStatusUpdate`: counts are never negative.
    for field in [
        "disruptionsAllowed",
        "currentHealthy",
        "desiredHealthy",
        "expectedPods",
    ] {
        if let Some(n) = obj
            .pointer(&format!("/status/{field}"))
            .and_then(Value::as_i64)
            && n < 0
        {
            errors.push(FieldError::invalid(
                &format!("status.{field}"),
                &Value::from(n),
                "must be greater than or equal to 0",
            ));
        }
    }
    if let Some(policy) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
        && !EVICTION_POLICIES.contains(&policy)
    {
        errors.push(FieldError::not_supported(
            "spec.unhealthyPodEvictionPolicy",
            &Value::from(policy),
            EVICTION_POLICIES,
        ));
    }
}

/// How many of a budget's pods must stay healthy, given `expected` pods in all
/// (`getExpectedPodCount` then `desiredHealthy`): `minAvailable` as a count is
/// itself; as a percentage, of `expected` rounded up; `maxUnavailable` (a count, or
/// a percentage rounded up) is taken off `expected`. A budget with neither field
/// asks nothing. `None` for a value that is neither a count nor a percentage.
pub fn desired_healthy(spec: &Value, expected: i64) -> Option<i64> {
    let percent_of = |p: i64| (p * expected + 99) / 100;
    if let Some(min) = spec.get("minAvailable").filter(|v| !v.is_null()) {
        return Some(match parse(min)? {
            CountOrPercent::Count(n) => n,
            CountOrPercent::Percent(p) => percent_of(p as i64),
        });
    }
    if let Some(max) = spec.get("maxUnavailable").filter(|v| !v.is_null()) {
        let unavailable = match parse(max)? {
            CountOrPercent::Count(n) => n,
            CountOrPercent::Percent(p) => percent_of(p as i64),
        };
        return Some((expected - unavailable).max(0));
    }
    Some(0)
}

/// Whether the budget counts its pods by their controllers' scale (a percentage or
/// `maxUnavailable`) rather than by the pods there are (`minAvailable` as a count).
pub fn counts_by_scale(spec: &Value) -> bool {
    match spec.get("minAvailable").filter(|v| !v.is_null()) {
        Some(min) => matches!(parse(min), Some(CountOrPercent::Percent(_))),
        None => spec.get("maxUnavailable").is_some_and(|v| !v.is_null()),
    }
}

fn parse(value: &Value) -> Option<CountOrPercent> {
    let mut ignored = Vec::new();
    count_or_percent(value, "", &mut ignored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(obj: Value) -> Vec<String> {
        let mut errors = Vec::new();
        validate_budget(&obj, &mut errors);
        errors.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn a_budget_sets_one_bound_within_range() {
        assert!(messages(json!({"spec": {"minAvailable": "50%", "selector": {}}})).is_empty());
        assert_eq!(
            messages(json!({"spec": {"minAvailable": 1, "maxUnavailable": 1}})),
            [
                "spec: Invalid value: {\"maxUnavailable\":1,\"minAvailable\":1}: minAvailable and maxUnavailable cannot be both set"
            ]
        );
        assert_eq!(
            messages(
                json!({"spec": {"maxUnavailable": "150%", "unhealthyPodEvictionPolicy": "Never"}})
            ),
            [
                "spec.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%",
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"",
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"minAvailable": -1}, "status": {"currentHealthy": -3}})),
            [
                "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
                "status.currentHealthy: Invalid value: -3: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn desired_healthy_follows_kubernetes_rounding() {
        assert_eq!(desired_healthy(&json!({"minAvailable": 2}), 5), Some(2));
        assert_eq!(desired_healthy(&json!({"minAvailable": "50%"}), 5), Some(3));
        assert_eq!(desired_healthy(&json!({"maxUnavailable": 1}), 5), Some(4));
        assert_eq!(
            desired_healthy(&json!({"maxUnavailable": "30%"}), 5),
            Some(3)
        );
        assert_eq!(desired_healthy(&json!({"maxUnavailable": 9}), 5), Some(0));
        assert_eq!(desired_healthy(&json!({}), 5), Some(0));
        assert!(!counts_by_scale(&json!({"minAvailable": 2})));
        assert!(counts_by_scale(&json!({"minAvailable": "20%"})));
        assert!(counts_by_scale(&json!({"maxUnavailable": 0})));
    }
}
