//! Reviews: what a client asks the server about itself, answered and never stored.
//!
//! - "May I?" — `SelfSubjectAccessReview` (`kubectl auth can-i VERB RESOURCE`);
//! - "What may I do?" — `SelfSubjectRulesReview` (`kubectl auth can-i --list`);
//! - "May they?" — `SubjectAccessReview` (what an aggregated server or a webhook asks);
//! - "Who am I?" — `SelfSubjectReview` (`kubectl auth whoami`).
//!
//! Wharf serves plain HTTP on loopback with neither authentication nor authorization,
//! so the truthful answers are the ones Kubernetes gives with anonymous requests and
//! the `AlwaysAllow` authorizer: the caller is `system:anonymous`, and everything is
//! allowed. Scripts and tools that check their permissions before acting then work
//! instead of failing on a 404.
//!
//! Each review is decoded with its k8s-openapi type (so a malformed one gets the same
//! 400 as any object), checked as Kubernetes checks it (a 422 naming the field), and
//! returned with its `status` filled in.

use k8s_openapi::api::authentication::v1 as authn;
use k8s_openapi::api::authorization::v1 as authz;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wharf_api_types::validation::FieldError;

use crate::error::ApiError;

/// Why every review is allowed; `kubectl auth can-i -v` and API clients show it.
const ALLOWED_REASON: &str = "Wharf does not authorize requests: every request is allowed";

/// Who every caller is: with no authentication, each request is anonymous.
const USERNAME: &str = "system:anonymous";
const GROUPS: &[&str] = &["system:unauthenticated"];

/// A kind of review and where it is served: `POST /apis/{group}/{version}/{plural}`.
pub struct Review {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    answer: fn(Value) -> Result<Value, ApiError>,
}

pub const REVIEWS: &[Review] = &[
    Review {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        kind: "SelfSubjectAccessReview",
        answer: self_subject_access,
    },
    Review {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectrulesreviews",
        kind: "SelfSubjectRulesReview",
        answer: self_subject_rules,
    },
    Review {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "subjectaccessreviews",
        kind: "SubjectAccessReview",
        answer: subject_access,
    },
    Review {
        group: "authentication.k8s.io",
        version: "v1",
        plural: "selfsubjectreviews",
        kind: "SelfSubjectReview",
        answer: self_subject,
    },
];

/// The review served at `path`, if any.
pub fn find(path: &str) -> Option<&'static Review> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["apis", group, version, plural] => REVIEWS
            .iter()
            .find(|r| r.group == *group && r.version == *version && r.plural == *plural),
        _ => None,
    }
}

/// The group/versions that serve reviews, for discovery.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for r in REVIEWS {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

impl Review {
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// Answers a review sent as `content_type`: the review with its status set.
    pub fn answer(&self, content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
        let (mut value, _duplicates) = crate::request::parse_body(content_type, body)?;
        crate::admission::settle_type(&mut value, &self.api_version(), self.kind)?;
        (self.answer)(value)
    }
}

/// Decodes `value` as `T`, with the error any malformed object gets.
fn typed<T: DeserializeOwned>(value: Value, kind: &str) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("{kind} cannot be handled as a {kind}: {e}")))
}

fn encode(review: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(review)
        .map_err(|e| ApiError::internal(format!("encoding the review: {e}")))
}

fn allowed() -> authz::SubjectAccessReviewStatus {
    authz::SubjectAccessReviewStatus {
        allowed: true,
        reason: Some(ALLOWED_REASON.into()),
        ..Default::default()
    }
}

/// Kubernetes' rule for an access review's spec: exactly one of the two kinds of
/// attributes.
fn attribute_errors(
    resource: Option<&authz::ResourceAttributes>,
    non_resource: Option<&authz::NonResourceAttributes>,
) -> Vec<FieldError> {
    match (resource, non_resource) {
        (Some(_), Some(n)) => vec![FieldError::invalid(
            "spec.nonResourceAttributes",
            &serde_json::to_value(n).unwrap_or(Value::Null),
            "cannot be specified in combination with resourceAttributes",
        )],
        (None, None) => vec![FieldError::invalid(
            "spec.resourceAttributes",
            &Value::Null,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
        _ => Vec::new(),
    }
}

/// Refuses an access review that broke a rule (422, naming the fields).
fn verdict(kind: &str, name: Option<&str>, errors: &[FieldError]) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    let name = name.unwrap_or_default();
    Err(ApiError::invalid_object(
        "authorization.k8s.io",
        kind,
        name,
        errors,
    ))
}

fn self_subject_access(value: Value) -> Result<Value, ApiError> {
    const KIND: &str = "SelfSubjectAccessReview";
    let mut review: authz::SelfSubjectAccessReview = typed(value, KIND)?;
    let spec = &review.spec;
    let errors = attribute_errors(
        spec.resource_attributes.as_ref(),
        spec.non_resource_attributes.as_ref(),
    );
    verdict(KIND, review.metadata.name.as_deref(), &errors)?;
    review.status = Some(allowed());
    encode(&review)
}

fn subject_access(value: Value) -> Result<Value, ApiError> {
    const KIND: &str = "SubjectAccessReview";
    let mut review: authz::SubjectAccessReview = typed(value, KIND)?;
    let spec = &review.spec;
    let mut errors = attribute_errors(
        spec.resource_attributes.as_ref(),
        spec.non_resource_attributes.as_ref(),
    );
    let no_user = spec.user.as_deref().unwrap_or_default().is_empty();
    if no_user && spec.groups.as_ref().is_none_or(Vec::is_empty) {
        errors.push(FieldError::invalid(
            "spec.user",
            &Value::from(""),
            "at least one of user or group must be specified",
        ));
    }
    verdict(KIND, review.metadata.name.as_deref(), &errors)?;
    review.status = Some(allowed());
    encode(&review)
}

fn self_subject_rules(value: Value) -> Result<Value, ApiError> {
    let mut review: authz::SelfSubjectRulesReview = typed(value, "SelfSubjectRulesReview")?;
    let all = || Some(vec!["*".to_string()]);
    review.status = Some(authz::SubjectRulesReviewStatus {
        resource_rules: vec![authz::ResourceRule {
            verbs: vec!["*".into()],
            api_groups: all(),
            resources: all(),
            resource_names: None,
        }],
        non_resource_rules: vec![authz::NonResourceRule {
            verbs: vec!["*".into()],
            non_resource_urls: all(),
        }],
        incomplete: false,
        evaluation_error: None,
    });
    encode(&review)
}

fn self_subject(value: Value) -> Result<Value, ApiError> {
    let mut review: authn::SelfSubjectReview = typed(value, "SelfSubjectReview")?;
    review.status = Some(authn::SelfSubjectReviewStatus {
        user_info: Some(authn::UserInfo {
            username: Some(USERNAME.into()),
            groups: Some(GROUPS.iter().map(|g| g.to_string()).collect()),
            ..Default::default()
        }),
    });
    encode(&review)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ask(path: &str, body: Value) -> Result<Value, ApiError> {
        let review = find(path).expect("a review path");
        review.answer(Some("application/json"), body.to_string().as_bytes())
    }

    #[test]
    fn access_is_allowed_and_the_question_is_echoed() {
        let answer = ask(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json!({"spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "a"}}}),
        )
        .unwrap();
        assert_eq!(answer["apiVersion"], "authorization.k8s.io/v1");
        assert_eq!(answer["kind"], "SelfSubjectAccessReview");
        assert_eq!(answer["spec"]["resourceAttributes"]["resource"], "pods");
        assert_eq!(answer["status"]["allowed"], true);
        assert_eq!(answer["status"]["reason"], ALLOWED_REASON);
    }

    #[test]
    fn an_access_review_needs_exactly_one_kind_of_attributes() {
        for spec in [
            json!({}),
            json!({"resourceAttributes": {"verb": "get"}, "nonResourceAttributes": {"path": "/x", "verb": "get"}}),
        ] {
            let err = ask(
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                json!({"spec": spec}),
            )
            .unwrap_err();
            assert_eq!(err.code, 422, "{spec}: {err:?}");
            let details = err.details.unwrap();
            assert_eq!(details["kind"], "SelfSubjectAccessReview");
            assert!(
                details["causes"][0]["field"]
                    .as_str()
                    .unwrap()
                    .starts_with("spec.")
            );
        }
    }

    #[test]
    fn a_subject_access_review_names_a_user_or_a_group() {
        let path = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
        let spec = json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}});
        let err = ask(path, json!({"spec": spec})).unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message.contains("at least one of user or group"),
            "{}",
            err.message
        );
        let mut named = spec.clone();
        named["groups"] = json!(["ops"]);
        assert_eq!(
            ask(path, json!({"spec": named})).unwrap()["status"]["allowed"],
            true
        );
    }

    #[test]
    fn rules_allow_everything_and_the_caller_is_anonymous() {
        let rules = ask(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            json!({"spec": {"namespace": "default"}}),
        )
        .unwrap();
        assert_eq!(rules["status"]["resourceRules"][0]["verbs"], json!(["*"]));
        assert_eq!(
            rules["status"]["nonResourceRules"][0]["nonResourceURLs"],
            json!(["*"])
        );
        assert_eq!(rules["status"]["incomplete"], false);
        let me = ask(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json!({}),
        )
        .unwrap();
        assert_eq!(me["status"]["userInfo"]["username"], USERNAME);
        assert_eq!(me["status"]["userInfo"]["groups"], json!(GROUPS));
    }

    #[test]
    fn malformed_reviews_are_refused_with_the_field() {
        let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        let err = ask(path, json!({"spec": {"resourceAttributes": {"verb": 7}}})).unwrap_err();
        assert_eq!(err.code, 400);
        let err = ask(path, json!({"kind": "Pod", "spec": {}})).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(
            err.message
                .contains("must be of type SelfSubjectAccessReview"),
            "{}",
            err.message
        );
        let err = find(path)
            .unwrap()
            .answer(Some("application/json"), b"{not json")
            .unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn only_review_paths_are_reviews() {
        assert!(find("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/").is_some());
        assert!(
            find("/apis/authorization.k8s.io/v1/namespaces/a/selfsubjectaccessreviews").is_none()
        );
        assert!(find("/apis/authorization.k8s.io/v2/selfsubjectaccessreviews").is_none());
        assert!(find("/api/v1/pods").is_none());
    }
}
