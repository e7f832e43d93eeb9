//! Variables a flow sees, and the redaction of secret values.
//!
//! A name is looked up in the `-e` values first, then the `env` scopes (the innermost
//! sub-flow or header scope first), then the process environment, then the built-ins
//! (`HARNESS_PLATFORM`, `MAESTRO_FILENAME`, …). Secret values (the app profile's `secrets`)
//! are replaced by `***` in every message and saved artifact.

use std::collections::BTreeMap;

use crate::exec::error::StepError;
use crate::flow::model::Template;

/// Variables visible to a flow: `-e` values, the process environment, built-ins.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub cli: BTreeMap<String, String>,
    pub builtins: BTreeMap<String, String>,
    /// Values of secret variables, replaced by `***` in every message.
    pub secret_values: Vec<String>,
}

impl Vars {
    /// `s` with every secret value of at least 3 characters replaced by `***` (shorter ones
    /// would redact ordinary words).
    pub fn redact(&self, s: &str) -> String {
        crate::secrets::redact(s, &self.secret_values)
    }
}

/// The variables of a running flow: [`Vars`] plus the `env` scopes entered so far.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    vars: Vars,
    /// `env` scopes, innermost last.
    scopes: Vec<BTreeMap<String, String>>,
}

impl Scopes {
    pub(crate) fn new(vars: Vars) -> Self {
        Scopes { vars, scopes: vec![] }
    }

    pub(crate) fn redact(&self, s: &str) -> String {
        self.vars.redact(s)
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.cli.get(name) {
            return Some(v.clone());
        }
        for s in self.scopes.iter().rev() {
            if let Some(v) = s.get(name) {
                return Some(v.clone());
            }
        }
        std::env::var(name)
            .ok()
            .or_else(|| self.vars.builtins.get(name).cloned())
    }

    /// The secret values (redacted from messages).
    pub(crate) fn secrets(&self) -> &[String] {
        &self.vars.secret_values
    }

    /// The variables a script sees as globals: built-ins, the `env` scopes (innermost
    /// last) and the `-e` values (which win, as in [`Scopes::lookup`]); not the process
    /// environment (a script could send it anywhere).
    pub(crate) fn js_vars(&self) -> Vec<(String, String)> {
        let mut all: BTreeMap<&str, &str> = BTreeMap::new();
        let layers = std::iter::once(&self.vars.builtins)
            .chain(self.scopes.iter())
            .chain(std::iter::once(&self.vars.cli));
        for layer in layers {
            for (k, v) in layer {
                all.insert(k, v);
            }
        }
        all.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The template with its variables substituted; an unknown one fails the step.
    pub(crate) fn render(&self, t: &Template) -> Result<String, StepError> {
        t.render(|n| self.lookup(n))
            .map_err(|name| StepError::failed(format!("variable '{name}' is not defined")))
    }

    /// A flow header's `env`: each value may use the entries above it; an unknown variable
    /// renders as empty (the loader has reported it).
    pub(crate) fn header_scope(&self, env: &[(String, Template)]) -> BTreeMap<String, String> {
        let mut scope = BTreeMap::new();
        for (k, v) in env {
            let value = v
                .render(|n| scope.get(n).cloned().or_else(|| self.lookup(n)))
                .unwrap_or_default();
            scope.insert(k.clone(), value);
        }
        scope
    }

    pub(crate) fn push(&mut self, scope: BTreeMap<String, String>) {
        self.scopes.push(scope);
    }

    pub(crate) fn pop(&mut self) {
        self.scopes.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::template::parse_template;

    fn t(s: &str) -> Template {
        parse_template(s).unwrap()
    }

    #[test]
    fn lookup_order_cli_then_scopes_then_builtins() {
        let mut vars = Vars::default();
        vars.cli.insert("A".into(), "cli".into());
        vars.builtins.insert("B".into(), "builtin".into());
        vars.builtins
            .insert("HARNESS_TEST_UNSET_VAR_C".into(), "builtin-c".into());
        let mut s = Scopes::new(vars);
        s.push(BTreeMap::from([
            ("A".into(), "outer".into()),
            ("B".into(), "outer".into()),
        ]));
        s.push(BTreeMap::from([("B".into(), "inner".into())]));
        assert_eq!(s.lookup("A").as_deref(), Some("cli"), "-e wins");
        assert_eq!(s.lookup("B").as_deref(), Some("inner"), "innermost scope");
        assert_eq!(s.lookup("HARNESS_TEST_UNSET_VAR_C").as_deref(), Some("builtin-c"));
        s.pop();
        assert_eq!(s.lookup("B").as_deref(), Some("outer"));
        assert_eq!(s.render(&t("${A}/${B}")).unwrap(), "cli/outer");
        let e = s.render(&t("${HARNESS_TEST_UNDEFINED}")).unwrap_err();
        assert_eq!(e.message(), "variable 'HARNESS_TEST_UNDEFINED' is not defined");
        assert!(!e.is_infrastructure());
    }

    #[test]
    fn header_env_sees_earlier_entries() {
        let s = Scopes::new(Vars::default());
        let env = vec![("X".to_string(), t("x")), ("Y".to_string(), t("${X}-y"))];
        let scope = s.header_scope(&env);
        assert_eq!(scope.get("Y").map(String::as_str), Some("x-y"));
        let bad = vec![("Z".to_string(), t("${HARNESS_TEST_UNDEFINED}"))];
        assert_eq!(s.header_scope(&bad).get("Z").map(String::as_str), Some(""));
    }

    #[test]
    fn redacts_secret_values_of_three_characters_or_more() {
        let vars = Vars {
            secret_values: vec!["hunter22".into(), "ab".into()],
            ..Vars::default()
        };
        assert_eq!(vars.redact("typed hunter22 into ab"), "typed *** into ab");
    }
}
