//! The ClusterRole aggregation controller: a ClusterRole with an
//! `aggregationRule` gets, as its rules, the rules of every other ClusterRole its
//! selectors match, as Kubernetes' aggregation controller gives them. That is how
//! `admin`, `edit` and `view` are built (from the `aggregate-to-*` roles, and from
//! each other), and how a chart extends them: a ClusterRole labelled
//! `rbac.authorization.k8s.io/aggregate-to-view: "true"` adds its rules to `view`.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use wharf_controller_sdk::ownership::skip_lost_race;
use wharf_controller_sdk::selector::matches;
use wharf_controller_sdk::{Context, Error, Key, Outcome, Reconciler, Registration, registration};

pub struct AggregationController;

impl Reconciler for AggregationController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("clusterrole-aggregation", config)?;
        Ok(AggregationController)
    }

    fn registration(&self) -> Registration {
        let mut r = registration::<ClusterRole>(vec![]);
        r.resync_seconds = 300;
        r
    }

    /// Any ClusterRole's change (its labels, its rules, its going) can change what
    /// any aggregated role holds, so every aggregated role is brought up to date;
    /// there are few, and only those that change are written.
    fn reconcile(&self, ctx: &Context<'_>, _key: &Key) -> Result<Outcome, Error> {
        let roles: Vec<ClusterRole> = ctx.list("", "")?;
        for role in roles.iter().filter(|r| is_aggregated(r)) {
            let wanted = aggregated_rules(role, &roles);
            if role.rules.as_deref().unwrap_or_default() != wanted.as_slice() {
                let mut updated = role.clone();
                updated.rules = Some(wanted);
                skip_lost_race(ctx.update(&updated).map(|_| ()))?;
            }
        }
        Ok(Outcome::Done)
    }
}

fn is_aggregated(role: &ClusterRole) -> bool {
    role.aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// The rules of every other ClusterRole one of `role`'s selectors matches, in
/// the order of their names, each distinct rule once.
pub fn aggregated_rules(role: &ClusterRole, all: &[ClusterRole]) -> Vec<PolicyRule> {
    let selectors = role
        .aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_deref())
        .unwrap_or_default();
    let no_labels = BTreeMap::new();
    let mut sources: Vec<&ClusterRole> = all
        .iter()
        .filter(|other| other.metadata.name != role.metadata.name)
        .filter(|other| other.metadata.deletion_timestamp.is_none())
        .filter(|other| {
            let labels = other.metadata.labels.as_ref().unwrap_or(&no_labels);
            selectors.iter().any(|s| matches(s, labels))
        })
        .collect();
    sources.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut rules: Vec<PolicyRule> = Vec::new();
    for rule in sources.iter().flat_map(|r| r.rules.iter().flatten()) {
        if !rules.contains(rule) {
            rules.push(rule.clone());
        }
    }
    rules
}

wharf_controller_sdk::export_controller!(AggregationController);

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::AggregationRule;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn role(
        name: &str,
        labels: &[(&str, &str)],
        verbs: &[&str],
        aggregates: Option<&str>,
    ) -> ClusterRole {
        ClusterRole {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            rules: Some(
                verbs
                    .iter()
                    .map(|v| PolicyRule {
                        verbs: vec![v.to_string()],
                        api_groups: Some(vec![String::new()]),
                        resources: Some(vec!["pods".into()]),
                        ..Default::default()
                    })
                    .collect(),
            ),
            aggregation_rule: aggregates.map(|label| AggregationRule {
                cluster_role_selectors: Some(vec![LabelSelector {
                    match_labels: Some([(label.to_string(), "true".to_string())].into()),
                    ..Default::default()
                }]),
            }),
        }
    }

    #[test]
    fn an_aggregated_role_holds_each_matching_rule_once_in_name_order() {
        let view = role("view", &[("to-edit", "true")], &[], Some("to-view"));
        let all = [
            role("z-extra", &[("to-view", "true")], &["list", "get"], None),
            role("a-base", &[("to-view", "true")], &["get"], None),
            role("other", &[], &["delete"], None),
            view.clone(),
        ];
        let verbs: Vec<String> = aggregated_rules(&view, &all)
            .into_iter()
            .map(|r| r.verbs[0].clone())
            .collect();
        assert_eq!(verbs, ["get", "list"]);
        // A role never aggregates itself, even when its own labels match.
        let selfish = role(
            "selfish",
            &[("to-view", "true")],
            &["watch"],
            Some("to-view"),
        );
        assert!(aggregated_rules(&selfish, std::slice::from_ref(&selfish)).is_empty());
    }
}
