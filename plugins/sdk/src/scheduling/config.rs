//! Reading a policy's configuration (the Plugin object's `spec.config`, JSON text)
//! without a JSON parser: a policy should not carry one it does not otherwise need,
//! and the framework only needs the top-level keys and one number.
//!
//! A configuration is refused, with the key named, when it holds a key the policy
//! does not take, or a `percentageOfNodesToScore` that is not a whole number from 0
//! to 100, as Kubernetes' scheduler refuses an unknown or malformed field in its
//! configuration rather than ignore a typo.

/// The one key the framework itself reads (see `feasible_nodes_to_find`).
pub const PERCENTAGE_OF_NODES_TO_SCORE: &str = "percentageOfNodesToScore";

/// The top-level entries of a JSON object, each key with its value's JSON text.
/// Empty text reads as an empty object.
pub fn entries(config: &str) -> Result<Vec<(String, &str)>, String> {
    let mut r = Reader {
        text: config,
        at: 0,
    };
    let mut out = Vec::new();
    r.skip_ws();
    if r.at == config.len() {
        return Ok(out);
    }
    r.expect(b'{')?;
    r.skip_ws();
    if r.peek() == Some(b'}') {
        r.at += 1;
    } else {
        loop {
            r.skip_ws();
            let key = r.string()?;
            r.skip_ws();
            r.expect(b':')?;
            r.skip_ws();
            let start = r.at;
            r.value()?;
            out.push((key, &config[start..r.at]));
            r.skip_ws();
            match r.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(r.error("expected ',' or '}'")),
            }
        }
    }
    r.skip_ws();
    if r.at != config.len() {
        return Err(r.error("text after the object"));
    }
    Ok(out)
}

/// `percentageOfNodesToScore`, if set: a whole number from 0 (Kubernetes'
/// adaptive default) to 100.
pub fn percentage(config: &str) -> Result<Option<u32>, String> {
    let Some((_, value)) = entries(config)?
        .into_iter()
        .find(|(k, _)| k == PERCENTAGE_OF_NODES_TO_SCORE)
    else {
        return Ok(None);
    };
    match value.parse::<u32>() {
        Ok(p) if p <= 100 => Ok(Some(p)),
        _ => Err(format!(
            "config: {PERCENTAGE_OF_NODES_TO_SCORE} must be a whole number from 0 to 100, not {value}"
        )),
    }
}

/// Refuses a configuration with a key other than `percentageOfNodesToScore` and
/// `allowed`, naming it.
pub fn only_keys(config: &str, allowed: &[&str]) -> Result<(), String> {
    for (key, _) in entries(config)? {
        if key != PERCENTAGE_OF_NODES_TO_SCORE && !allowed.contains(&key.as_str()) {
            let mut takes: Vec<&str> = allowed.to_vec();
            takes.push(PERCENTAGE_OF_NODES_TO_SCORE);
            return Err(format!(
                "config: unknown key {key:?} (this policy takes {})",
                takes.join(", ")
            ));
        }
    }
    Ok(())
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_some() {
            self.at += 1;
        }
        b
    }

    fn error(&self, what: &str) -> String {
        format!("config: not a JSON object: {what} at byte {}", self.at)
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        if self.next() == Some(b) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", b as char)))
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A string, unescaped as far as keys need (escapes kept as written but for
    /// `\"` and `\\`).
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.at;
            let rest = &self.text[start..];
            let Some(stop) = rest.find(['"', '\\']) else {
                return Err(self.error("unterminated string"));
            };
            out.push_str(&rest[..stop]);
            self.at = start + stop + 1;
            if rest.as_bytes()[stop] == b'"' {
                return Ok(out);
            }
            // The escaped character may be any character, so step over it whole.
            let Some(c) = self.text[self.at..].chars().next() else {
                return Err(self.error("unterminated string"));
            };
            self.at += c.len_utf8();
            if !matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }

    /// Skips one JSON value of any kind.
    fn value(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.at += 1;
                let mut depth = 1usize;
                while depth > 0 {
                    match self.peek() {
                        Some(b'"') => {
                            self.string()?;
                        }
                        Some(b) => {
                            self.at += 1;
                            if b == open {
                                depth += 1;
                            } else if b == close {
                                depth -= 1;
                            }
                        }
                        None => return Err(self.error("unterminated value")),
                    }
                }
                Ok(())
            }
            Some(_) => {
                let start = self.at;
                while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                {
                    self.at += 1;
                }
                if self.at == start {
                    Err(self.error("expected a value"))
                } else {
                    Ok(())
                }
            }
            None => Err(self.error("expected a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_the_top_level_keys_with_their_values() {
        let e = entries(r#" {"a": 1, "b": {"c": [1, "}"]}, "d\"e": "x,y", "f": true} "#).unwrap();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "d\"e", "f"]);
        assert_eq!(e[1].1, r#"{"c": [1, "}"]}"#);
        assert_eq!(e[2].1, r#""x,y""#);
        assert!(entries("{}").unwrap().is_empty());
        assert!(entries("").unwrap().is_empty());
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        for bad in [
            "[]",
            "{",
            r#"{"a"}"#,
            r#"{"a": }"#,
            r#"{"a": 1"#,
            r#"{"a": 1} x"#,
            r#"{"a"#,
            r#"{"a": "b"#,
            "{\"a\": [1, 2}",
            "{\"\\",
            "{\"\\é",
            "nul",
        ] {
            assert!(entries(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_percentage_is_a_whole_number_up_to_100() {
        assert_eq!(
            percentage(r#"{"percentageOfNodesToScore": 30}"#),
            Ok(Some(30))
        );
        assert_eq!(
            percentage(r#"{"percentageOfNodesToScore": 0}"#),
            Ok(Some(0))
        );
        assert_eq!(percentage(r#"{"other": 1}"#), Ok(None));
        assert_eq!(percentage("{}"), Ok(None));
        for bad in ["101", "-1", "30.5", r#""30""#, "null"] {
            let err = percentage(&format!(r#"{{"percentageOfNodesToScore": {bad}}}"#)).unwrap_err();
            assert!(err.contains("percentageOfNodesToScore"), "{err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        assert_eq!(
            only_keys(r#"{"percentageOfNodesToScore": 50}"#, &[]),
            Ok(())
        );
        assert_eq!(only_keys(r#"{"costLabel": "x"}"#, &["costLabel"]), Ok(()));
        let err = only_keys(r#"{"percentageOfNodeToScore": 50}"#, &[]).unwrap_err();
        assert!(err.contains("\"percentageOfNodeToScore\""), "{err}");
        assert!(err.contains("takes percentageOfNodesToScore"), "{err}");
    }
}
