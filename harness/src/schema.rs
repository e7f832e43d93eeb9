//! JSON Schemas of the YAML formats, for editors (`# yaml-language-server: $schema=…`).
//!
//! The flow schema is generated from the command table (`flow::commands`), so it lists the
//! same commands and keys the parser reads. The schemas are written to `harness/schema/` and a
//! test keeps the committed files equal to what this module generates.

use serde_json::{Map, Value, json};

use crate::flow::commands::{
    self, COMMANDS, CONDITION_KEYS, HEADER_KEYS, KeyType, SELECTOR_KEYS, StringForm, TAP_KEYS,
};

/// Which schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Flow,
    App,
    Device,
}

pub fn schema(kind: SchemaKind) -> Value {
    match kind {
        SchemaKind::Flow => flow_schema(),
        SchemaKind::App => app_schema(),
        SchemaKind::Device => device_schema(),
    }
}

/// A `${…}` template: typed fields may hold one, resolved when the step runs.
fn template() -> Value {
    json!({"type": "string", "pattern": "\\$\\{.+\\}", "description": "${NAME} or ${expression}, resolved when the step runs"})
}

fn key_schema(t: KeyType) -> Value {
    match t {
        KeyType::Str => json!({"type": ["string", "number", "boolean"]}),
        KeyType::Bool => json!({"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}, template()]}),
        KeyType::Int => {
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}, template()]})
        }
        KeyType::Number => {
            json!({"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^-?[0-9.]+$"}, template()]})
        }
        KeyType::Millis => {
            json!({"description": "milliseconds", "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}, template()]})
        }
        KeyType::Duration => json!({"anyOf": [{"$ref": "#/definitions/duration"}, template()]}),
        KeyType::Selector => json!({"$ref": "#/definitions/selector"}),
        KeyType::SelectorList => json!({"type": "array", "items": {"$ref": "#/definitions/selector"}}),
        KeyType::Condition => json!({"$ref": "#/definitions/condition"}),
        KeyType::Steps => json!({"$ref": "#/definitions/commands"}),
        KeyType::Env => json!({"$ref": "#/definitions/env"}),
        KeyType::StrMap => json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}),
        KeyType::StrList => json!({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}),
        KeyType::Enum(words) => json!({"anyOf": [{"enum": words}, template()]}),
    }
}

fn props(keys: &[(&str, KeyType)]) -> Map<String, Value> {
    keys.iter().map(|(k, t)| (k.to_string(), key_schema(*t))).collect()
}

fn command_value_schema(spec: &commands::CommandSpec) -> Value {
    let mut p = props(spec.keys);
    if commands::takes_selector_keys(spec.name) {
        p.extend(props(SELECTOR_KEYS));
    }
    if commands::takes_tap_keys(spec.name) {
        p.extend(props(TAP_KEYS));
    }
    p.insert(
        "label".into(),
        json!({"type": "string", "description": "name shown in reports"}),
    );
    p.insert(
        "optional".into(),
        json!({"type": "boolean", "description": "a failure is a warning"}),
    );
    let object = json!({"type": "object", "properties": p, "additionalProperties": false});
    let mut any = vec![object];
    match spec.string_form {
        StringForm::None => {}
        StringForm::Bare => any.push(json!({"type": "null"})),
        StringForm::Value(t) => any.push(key_schema(t)),
        StringForm::BareOrValue(t) => {
            any.push(json!({"type": "null"}));
            any.push(key_schema(t));
        }
    }
    json!({"description": spec.summary, "anyOf": any})
}

fn flow_schema() -> Value {
    let bare: Vec<&str> = COMMANDS
        .iter()
        .filter(|c| matches!(c.string_form, StringForm::Bare | StringForm::BareOrValue(_)))
        .map(|c| c.name)
        .collect();
    let mut object_commands: Vec<Value> = COMMANDS
        .iter()
        .map(|c| {
            json!({
                "type": "object",
                "properties": {c.name: command_value_schema(c)},
                "required": [c.name],
                "additionalProperties": false
            })
        })
        .collect();
    // Maestro's `inputRandom: {type: EMAIL}`, read as the inputRandom* commands.
    let random_types = [
        "TEXT",
        "NUMBER",
        "EMAIL",
        "PERSON_NAME",
        "CITY_NAME",
        "COUNTRY_NAME",
        "COLOR_NAME",
    ];
    object_commands.push(json!({
        "type": "object",
        "properties": {"inputRandom": {"description": "Type random input of a type (TEXT, NUMBER, EMAIL, PERSON_NAME, …).", "anyOf": [
            {"type": "null"},
            {"enum": random_types},
            {"type": "object", "properties": {
                "type": {"enum": random_types},
                "length": key_schema(KeyType::Int),
                "label": {"type": "string"},
                "optional": key_schema(KeyType::Bool)
            }, "additionalProperties": false}
        ]}},
        "required": ["inputRandom"],
        "additionalProperties": false
    }));
    // A command's selector map may hold command options (Maestro reads them there).
    let mut command_selector = props(SELECTOR_KEYS);
    command_selector.insert("optional".into(), key_schema(KeyType::Bool));
    command_selector.insert("label".into(), json!({"type": "string"}));
    for k in ["retryTapIfNoChange", "waitUntilVisible"] {
        command_selector.insert(k.into(), key_schema(KeyType::Bool));
    }
    command_selector.insert("waitToSettleTimeoutMs".into(), key_schema(KeyType::Int));
    let mut header = props(HEADER_KEYS);
    header.insert(
        "app".into(),
        json!({"type": "string", "description": "app profile (harness), relative to this file"}),
    );
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/harness/harness/schema/flow.json",
        "title": "harness flow",
        "description": "A Maestro-compatible flow: a header document, `---`, then a list of commands. Generated by `harness schema flow`.",
        "anyOf": [{"$ref": "#/definitions/header"}, {"$ref": "#/definitions/commands"}],
        "definitions": {
            "header": {"type": "object", "properties": header},
            "commands": {"type": "array", "items": {"$ref": "#/definitions/command"}},
            "command": {"anyOf": [{"enum": bare}, {"anyOf": object_commands}]},
            "selector": {
                "anyOf": [
                    {"type": ["string", "number"], "description": "regex over the visible text"},
                    {"type": "object", "properties": command_selector, "additionalProperties": false}
                ]
            },
            "condition": {"type": "object", "properties": props(CONDITION_KEYS), "additionalProperties": false},
            "env": {"type": "object", "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "duration": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|sec|m|min|h))+$", "description": "e.g. 10s, 500ms, 1m30s"}
        }
    })
}

fn app_schema() -> Value {
    let sel = json!({"$ref": "#/definitions/selector"});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/harness/harness/schema/app.json",
        "title": "harness app profile",
        "description": "How to read an app's auth state. Generated by `harness schema app`.",
        "type": "object",
        "required": ["name", "auth"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string"},
            "ios": {"type": "object", "required": ["bundleId"], "properties": {"bundleId": {"type": "string"}}, "additionalProperties": false},
            "android": {"type": "object", "required": ["package"], "properties": {"package": {"type": "string"}}, "additionalProperties": false},
            "auth": {
                "type": "object", "required": ["signedIn", "signedOut"], "additionalProperties": false,
                "properties": {
                    "signedIn": sel, "signedOut": sel, "loading": sel, "sessionId": sel,
                    "log": {
                        "type": "object", "required": ["signedIn", "signedOut"], "additionalProperties": false,
                        "description": "Regexes over the app's log lines that mark signed in / signed out (for devices whose screen cannot be read)",
                        "properties": {"signedIn": {"type": "string"}, "signedOut": {"type": "string"}}
                    }
                }
            },
            "convex": {
                "type": "object", "required": ["authenticated", "unauthenticated"], "additionalProperties": false,
                "properties": {"authenticated": sel, "unauthenticated": sel}
            },
            "secureStore": {
                "type": "object", "additionalProperties": false,
                "properties": {"sessionKeys": {"type": "array", "items": {"type": "string"}}, "iosService": {"type": "string"}}
            },
            "offline": {
                "type": "object", "required": ["coldStart"], "additionalProperties": false,
                "properties": {"coldStart": {"enum": ["signedIn", "networkError"]}, "networkError": sel}
            },
            "secrets": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}}
        },
        "definitions": {
            "selector": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "object", "properties": props(SELECTOR_KEYS), "additionalProperties": false}
                ]
            }
        }
    })
}

fn device_schema() -> Value {
    let duration = json!({"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|sec|m|min|h))+$"});
    let version = json!({"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"});
    let env_ref = json!({"type": "string", "pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/harness/harness/schema/device.json",
        "title": "harness device profile",
        "description": "Which device a run targets. Generated by `harness schema device`.",
        "type": "object",
        "required": ["name", "platform", "kind"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "platform": {"enum": ["iOS", "Android", "ios", "android"]},
            "kind": {"enum": ["virtual", "ios-simulator", "android-emulator", "appium", "grid", "browserstack", "saucelabs", "lambdatest"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "backend": {"enum": ["appium", "host", "appium+host"]},
            "commandTimeout": duration,
            "parallel": {"type": "integer", "minimum": 1, "maximum": 64},
            "virtual": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "clerkExpo": version, "convex": version,
                    "keyConvexBySession": {"type": "boolean"}, "tokenCache": {"type": "boolean"}, "resourceCache": {"type": "boolean"},
                    "restoreRate": {"type": "number", "minimum": 0, "maximum": 1},
                    "network": {"enum": ["online", "offline"]},
                    "sessionLifetime": duration, "inactivityTimeout": duration,
                    "latencyScale": {"type": "number", "minimum": 0, "maximum": 100},
                    "seed": {"type": "integer", "minimum": 0}
                }
            },
            "udid": {"type": "string"}, "deviceName": {"type": "string"}, "osVersion": {"type": "string"},
            "serial": {"type": "string"}, "avd": {"type": "string"},
            "url": {"type": "string", "pattern": "^https?://"},
            "capabilities": {"type": "object"},
            "credentials": {
                "type": "object", "required": ["username", "accessKey"], "additionalProperties": false,
                "properties": {"username": env_ref, "accessKey": env_ref}
            }
        }
    })
}

/// The schema as the committed file holds it: pretty JSON with a final newline.
pub fn render(kind: SchemaKind) -> String {
    let mut s = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schemas_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        for (kind, file) in [
            (SchemaKind::Flow, "flow.json"),
            (SchemaKind::App, "app.json"),
            (SchemaKind::Device, "device.json"),
        ] {
            let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            assert!(
                committed == render(kind),
                "harness/schema/{file} is out of date: run `cargo run -- schema {kind:?} > harness/schema/{file}` (lowercase kind)"
            );
        }
    }

    #[test]
    fn every_command_is_in_the_flow_schema() {
        let text = render(SchemaKind::Flow);
        for c in COMMANDS {
            assert!(text.contains(&format!("\"{}\"", c.name)), "{}", c.name);
        }
    }
}
