//! Label selectors (`app=web,tier in (fe,be),!canary`) and field selectors
//! (`spec.nodeName=n1,status.phase!=Running`), parsed as Kubernetes parses them and
//! matched against JSON objects.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(pub String);

/// One clause of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut parser = Parser {
            chars: input.chars().collect(),
            pos: 0,
        };
        let mut requirements = Vec::new();
        parser.skip_ws();
        if parser.at_end() {
            return Ok(Self { requirements });
        }
        loop {
            requirements.push(parser.requirement()?);
            parser.skip_ws();
            if parser.at_end() {
                break;
            }
            parser.expect(',')?;
        }
        Ok(Self { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Matches against an object's `metadata.labels`.
    pub fn matches(&self, object: &Value) -> bool {
        self.matches_labels(object.pointer("/metadata/labels").unwrap_or(&Value::Null))
    }

    /// Matches against a `metadata.labels` map (anything else reads as no labels).
    pub fn matches_labels(&self, labels: &Value) -> bool {
        let labels = labels.as_object();
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::GreaterThan(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Requirement::LessThan(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |vs: &BTreeSet<String>| vs.iter().cloned().collect::<Vec<_>>().join(",");
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", join(vs)),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", join(vs)),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
                Requirement::GreaterThan(k, n) => format!("{k}>{n}"),
                Requirement::LessThan(k, n) => format!("{k}<{n}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: char) -> Result<(), SelectorError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    fn error(&self, what: &str) -> SelectorError {
        let input: String = self.chars.iter().collect();
        SelectorError(format!("{what} at position {} in {input:?}", self.pos))
    }

    /// A key or value: label characters only.
    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_ws();
        if self.peek() == Some('!') {
            self.pos += 1;
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.key()?;
        self.skip_ws();
        match self.peek() {
            None | Some(',') => Ok(Requirement::Exists(key)),
            Some('=') => {
                self.pos += 1;
                if self.peek() == Some('=') {
                    self.pos += 1;
                }
                Ok(Requirement::Equals(key, self.value()?))
            }
            Some('!') => {
                self.pos += 1;
                if self.peek() != Some('=') {
                    return Err(self.error("expected '=' after '!'"));
                }
                self.pos += 1;
                Ok(Requirement::NotEquals(key, self.value()?))
            }
            Some('>') | Some('<') => {
                let greater = self.peek() == Some('>');
                self.pos += 1;
                let value = self.value()?;
                let n = value
                    .parse::<i64>()
                    .map_err(|_| self.error(&format!("{value:?} is not an integer")))?;
                Ok(if greater {
                    Requirement::GreaterThan(key, n)
                } else {
                    Requirement::LessThan(key, n)
                })
            }
            Some(_) => {
                let op = self.word();
                let values = match op.as_str() {
                    "in" | "notin" => self.value_set()?,
                    _ => return Err(self.error(&format!("unknown operator {op:?}"))),
                };
                Ok(if op == "in" {
                    Requirement::In(key, values)
                } else {
                    Requirement::NotIn(key, values)
                })
            }
        }
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let key = self.word();
        if key.is_empty() {
            return Err(self.error("expected a label key"));
        }
        crate::validation::label_key(&key).map_err(|why| self.error(&why))?;
        Ok(key)
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        let value = self.word();
        crate::validation::label_value(&value).map_err(|why| self.error(&why))?;
        Ok(value)
    }

    fn value_set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.expect('(')?;
        let mut values = BTreeSet::new();
        loop {
            values.insert(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(values);
                }
                _ => return Err(self.error("expected ',' or ')'")),
            }
        }
    }
}

/// Converts a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`) into a
/// selector. An empty object selects everything; `null` is the caller's business.
pub fn from_label_selector_object(selector: &Value) -> Result<LabelSelector, SelectorError> {
    let mut requirements = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            let v = v.as_str().unwrap_or_default();
            crate::validation::label_key(k).map_err(SelectorError)?;
            crate::validation::label_value(v).map_err(SelectorError)?;
            requirements.push(Requirement::Equals(k.clone(), v.to_string()));
        }
    }
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        crate::validation::label_key(&key).map_err(SelectorError)?;
        let values: BTreeSet<String> = expr
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let op = expr
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        requirements.push(match op {
            "In" | "NotIn" if values.is_empty() => {
                return Err(SelectorError(format!(
                    "for 'In', 'NotIn' operators, values set can't be empty (key {key:?})"
                )));
            }
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            "DoesNotExist" => Requirement::DoesNotExist(key),
            other => {
                return Err(SelectorError(format!(
                    "{other:?} is not a valid label selector operator"
                )));
            }
        });
    }
    Ok(LabelSelector { requirements })
}

/// One clause of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// A parsed field selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for clause in split_unescaped(input, ',') {
            if clause.trim().is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = split_once_unescaped(&clause, "!=")
            {
                (f, v, true)
            } else if let Some((f, v)) = split_once_unescaped(&clause, "==") {
                (f, v, false)
            } else if let Some((f, v)) = split_once_unescaped(&clause, "=") {
                (f, v, false)
            } else {
                return Err(SelectorError(format!(
                    "invalid field selector: {clause:?} has no operator"
                )));
            };
            requirements.push(FieldRequirement {
                field: field.trim().to_string(),
                value: unescape(value.trim()),
                negated,
            });
        }
        Ok(Self { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value a clause requires of `field`, if it has an equality clause on it
    /// (used to narrow a listing to one name).
    pub fn equality(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && !r.negated)
            .map(|r| r.value.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let actual = field_value(object, &r.field);
            (actual == r.value) != r.negated
        })
    }
}

/// The dotted path in the object that a field label names.
pub fn field_path(field: &str) -> &str {
    // `source` on events is the reporting component, not the whole struct.
    if field == "source" {
        "source.component"
    } else {
        field
    }
}

/// The string value of a field label on an object: strings as they are, numbers and
/// booleans in their JSON form, absent fields as "" (as Kubernetes' field sets do).
pub fn field_value(object: &Value, field: &str) -> String {
    let field = field_path(field);
    // Kubernetes' field sets print these from typed structs, where absent means
    // false or zero.
    let absent = match field {
        "spec.unschedulable" | "spec.hostNetwork" => "false",
        "status.replicas" => "0",
        _ => "",
    };
    let mut cur = object;
    for part in field.split('.') {
        match cur.get(part) {
            Some(next) => cur = next,
            None => return absent.to_string(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn split_unescaped(input: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in input.chars() {
        if escaped {
            if let Some(last) = parts.last_mut() {
                last.push('\\');
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn split_once_unescaped<'a>(clause: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let mut escaped = false;
    for (i, c) in clause.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if clause[i..].starts_with(op) {
            return Some((&clause[..i], &clause[i + op.len()..]));
        }
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    #[test]
    fn equality_and_set_based_label_selectors() {
        let o = obj(json!({"app": "web", "tier": "fe", "rank": "3"}));
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app=db", false),
            ("missing!=x", true),
            ("tier in (fe,be)", true),
            ("tier in (be)", false),
            ("tier notin (be, x)", true),
            ("missing notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=fe", true),
            ("app=web, tier=be", false),
            ("rank>2", true),
            ("rank<2", false),
            ("example.com/key in (a)", false),
        ];
        for (sel, want) in cases {
            let parsed = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(parsed.matches(&o), want, "{sel}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_errors() {
        for bad in [
            "=x",
            "app in x",
            "app in (a",
            "app !x",
            "app=a,",
            "a b",
            "rank>x",
        ] {
            assert!(
                LabelSelector::parse(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn label_selector_round_trips_through_display() {
        let s = LabelSelector::parse("app=web,tier in (be,fe),!canary").unwrap();
        assert_eq!(LabelSelector::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn field_selectors() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running"}
        });
        let cases = [
            ("spec.nodeName=n1", true),
            ("spec.nodeName==n1", true),
            ("spec.nodeName!=n1", false),
            ("spec.nodeName=,status.phase=Running", false),
            ("metadata.name=p,metadata.namespace=default", true),
            ("status.podIP=", true),
        ];
        for (sel, want) in cases {
            assert_eq!(
                FieldSelector::parse(sel).unwrap().matches(&pod),
                want,
                "{sel}"
            );
        }
        assert!(FieldSelector::parse("nonsense").is_err());
        let unicode = FieldSelector::parse("metadata.name=café,metadata.namespace!=ü").unwrap();
        assert_eq!(unicode.equality("metadata.name"), Some("café"));
        let node = json!({"metadata": {"name": "n"}, "spec": {}});
        assert!(
            FieldSelector::parse("spec.unschedulable=false")
                .unwrap()
                .matches(&node)
        );
        let escaped = FieldSelector::parse(r"metadata.name=a\,b").unwrap();
        assert_eq!(escaped.equality("metadata.name"), Some("a,b"));
    }
}
