//! The one rule that keeps secret values (the app profile's `secrets`: passwords, tokens) out
//! of text that reaches messages, logs, reports and artifacts.

/// `text` with every secret value of 3 characters or more replaced by `***` (shorter values
/// would blank out ordinary text).
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for v in secrets {
        if v.len() >= 3 {
            out = out.replace(v.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_are_replaced_and_short_ones_kept() {
        let secrets = vec!["hunter22".to_string(), "ab".to_string()];
        assert_eq!(super::redact("pw hunter22 ab", &secrets), "pw *** ab");
    }
}
