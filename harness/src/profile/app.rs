//! App profiles: how to read an app's authentication state.
//!
//! A flow names its app profile in the header (`app: apps/NAME.yaml`). The profile says which
//! bundle id / package to drive on each platform, which screen elements mean signed in,
//! signed out and Convex authenticated, which secure-store keys hold the session, what the
//! app does on an offline cold start, and which variables are secrets that must come from the
//! environment (and are redacted from every output).

use std::path::Path;

use crate::diag::{Diagnostic, Sink};
use crate::flow::model::Selector;
use crate::flow::selector::parse_selector;
use crate::flow::template::is_var_name;
use crate::lower::{self, MapView};
use crate::yaml::{self, Node};

#[derive(Clone, Debug, PartialEq)]
pub struct AppProfile {
    pub name: String,
    /// iOS bundle id.
    pub ios_bundle_id: Option<String>,
    /// Android package.
    pub android_package: Option<String>,
    pub auth: AuthScreens,
    pub convex: Option<ConvexStatus>,
    pub secure_store: SecureStore,
    pub offline: Option<OfflineBehaviour>,
    /// Variables that must come from `-e` or the process environment, never from a file.
    pub secrets: Vec<String>,
}

/// Elements whose visibility tells the auth state.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthScreens {
    pub signed_in: Selector,
    pub signed_out: Selector,
    pub loading: Option<Selector>,
    /// Element whose text is the current session id (for diagnosis).
    pub session_id: Option<Selector>,
    /// Log lines that tell the auth state where the screen cannot be read.
    pub log: Option<AuthLog>,
}

/// `auth.log`: regexes over the app's JS log lines (`log stream`, `logcat`) that mark a
/// signed-in and a signed-out app. They stand in for the screen on devices whose screen the
/// backend cannot read (an iOS simulator on `backend: host`): the last marker logged since
/// the last launch is the auth state.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthLog {
    pub signed_in: String,
    pub signed_out: String,
}

/// Elements that show `useConvexAuth().isAuthenticated`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvexStatus {
    pub authenticated: Selector,
    pub unauthenticated: Selector,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SecureStore {
    /// Keys that hold the session, e.g. `__clerk_client_jwt`.
    pub session_keys: Vec<String>,
    /// expo-secure-store keychain service on iOS (`app:no-auth` by default).
    pub ios_service: String,
}

/// What the app documents for a cold start without network.
#[derive(Clone, Debug, PartialEq)]
pub enum OfflineBehaviour {
    /// Signed in from the resource cache.
    SignedIn,
    /// Shows a network error but keeps the session in secure storage.
    NetworkError { error: Box<Selector> },
}

const TOP_KEYS: &[&str] = &[
    "name",
    "ios",
    "android",
    "auth",
    "convex",
    "secureStore",
    "offline",
    "secrets",
];

/// Reads an app profile file.
pub fn load_app_profile(path: &Path) -> (Option<AppProfile>, Vec<Diagnostic>) {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_app_profile(&text, path),
        Err(e) => {
            let mut sink = Sink::new(path);
            sink.error(Default::default(), "", format!("cannot read app profile: {e}"))
                .hint("check the `app:` path in the flow header; it is relative to the flow file");
            (None, sink.into_vec())
        }
    }
}

pub fn parse_app_profile(text: &str, file: &Path) -> (Option<AppProfile>, Vec<Diagnostic>) {
    let mut sink = Sink::new(file);
    let profile = match yaml::parse_documents(text) {
        Err(e) => {
            sink.error(e.pos, "", format!("invalid YAML: {}", e.message));
            None
        }
        Ok(docs) if docs.len() != 1 => {
            let pos = docs.get(1).map(|d| d.pos).unwrap_or_default();
            sink.error(
                pos,
                "",
                format!("an app profile is one YAML document, found {}", docs.len()),
            );
            None
        }
        Ok(docs) => read(&mut sink, &docs[0]),
    };
    let failed = sink.has_errors();
    (profile.filter(|_| !failed), sink.into_vec())
}

fn read(sink: &mut Sink, node: &Node) -> Option<AppProfile> {
    let mut m = MapView::new(sink, node, "", "an app profile")?;
    let name = match m.get("name") {
        Some(v) => lower::nonempty_string(sink, v, "name"),
        None => {
            sink.error(m.pos, "name", "the app profile needs a `name`");
            None
        }
    };
    let ios_bundle_id = platform_id(sink, &mut m, "ios", "bundleId");
    let android_package = platform_id(sink, &mut m, "android", "package");
    if !m.has("ios") && !m.has("android") {
        sink.error(m.pos, "", "the app profile names no app")
            .hint("add `ios: {bundleId: com.example.app}` and/or `android: {package: com.example.app}`");
    }
    let auth = match m.get("auth") {
        Some(v) => auth(sink, v),
        None => {
            sink.error(
                m.pos,
                "auth",
                "the app profile needs `auth` with `signedIn` and `signedOut` selectors",
            )
            .hint("for example `auth: {signedIn: {id: screen-home}, signedOut: {id: screen-sign-in}}`");
            None
        }
    };
    let convex = m.get("convex").and_then(|v| convex(sink, v));
    let secure_store = match m.get("secureStore") {
        Some(v) => secure_store(sink, v),
        None => Some(SecureStore {
            session_keys: vec!["__clerk_client_jwt".into()],
            ios_service: "app:no-auth".into(),
        }),
    };
    let offline = m.get("offline").and_then(|v| offline(sink, v));
    let secrets = match m.get("secrets") {
        Some(v) => {
            let list = lower::string_list(sink, v, "secrets").unwrap_or_default();
            for (i, s) in list.iter().enumerate() {
                if !is_var_name(s) {
                    let pos = v.as_seq().and_then(|x| x.get(i)).map(|n| n.pos).unwrap_or(v.pos);
                    sink.error(
                        pos,
                        &lower::index("secrets", i),
                        format!("'{s}' is not a valid variable name"),
                    );
                }
            }
            list
        }
        None => vec![],
    };
    m.finish(sink, "an app profile", TOP_KEYS);
    Some(AppProfile {
        name: name?,
        ios_bundle_id,
        android_package,
        auth: auth?,
        convex,
        secure_store: secure_store?,
        offline,
        secrets,
    })
}

fn platform_id(sink: &mut Sink, m: &mut MapView, platform: &str, key: &str) -> Option<String> {
    let v = m.get(platform)?;
    let mut pm = MapView::new(sink, v, platform, platform)?;
    let id = match pm.get(key) {
        Some(x) => lower::nonempty_string(sink, x, &pm.child(key)),
        None => {
            sink.error(pm.pos, platform, format!("`{platform}` needs `{key}`"));
            None
        }
    };
    pm.finish(sink, &format!("`{platform}`"), &[key]);
    id
}

fn required_selector(sink: &mut Sink, m: &mut MapView, key: &str) -> Option<Selector> {
    match m.get(key) {
        Some(v) => parse_selector(sink, v, &m.child(key)),
        None => {
            sink.error(m.pos, &m.child(key), format!("`{}` needs `{key}`", m.path))
                .hint(format!("`{key}: {{id: some-test-id}}`"));
            None
        }
    }
}

fn auth(sink: &mut Sink, node: &Node) -> Option<AuthScreens> {
    let mut m = MapView::new(sink, node, "auth", "auth")?;
    let signed_in = required_selector(sink, &mut m, "signedIn");
    let signed_out = required_selector(sink, &mut m, "signedOut");
    let loading = m.get("loading").and_then(|v| parse_selector(sink, v, "auth.loading"));
    let session_id = m
        .get("sessionId")
        .and_then(|v| parse_selector(sink, v, "auth.sessionId"));
    let log = match m.get("log") {
        Some(v) => Some(auth_log(sink, v)?),
        None => None,
    };
    m.finish(
        sink,
        "`auth`",
        &["signedIn", "signedOut", "loading", "sessionId", "log"],
    );
    Some(AuthScreens {
        signed_in: signed_in?,
        signed_out: signed_out?,
        loading,
        session_id,
        log,
    })
}

fn auth_log(sink: &mut Sink, node: &Node) -> Option<AuthLog> {
    let mut m = MapView::new(sink, node, "auth.log", "auth.log")?;
    let mut pattern = |key: &str| {
        let path = format!("auth.log.{key}");
        let Some(v) = m.get(key) else {
            sink.error(m.pos, &path, format!("`auth.log` needs `{key}`"))
                .hint("a regex over the app's log lines, e.g. `signedIn: \"\\[auth\\] isSignedIn=true\"`");
            return None;
        };
        let text = lower::nonempty_string(sink, v, &path)?;
        match regex::Regex::new(&text) {
            Ok(_) => Some(text),
            Err(e) => {
                sink.error(v.pos, &path, format!("not a valid regex: {e}"))
                    .hint("escape regex characters such as [ ] ( ) with a backslash");
                None
            }
        }
    };
    let signed_in = pattern("signedIn");
    let signed_out = pattern("signedOut");
    m.finish(sink, "`auth.log`", &["signedIn", "signedOut"]);
    Some(AuthLog {
        signed_in: signed_in?,
        signed_out: signed_out?,
    })
}

fn convex(sink: &mut Sink, node: &Node) -> Option<ConvexStatus> {
    let mut m = MapView::new(sink, node, "convex", "convex")?;
    let authenticated = required_selector(sink, &mut m, "authenticated");
    let unauthenticated = required_selector(sink, &mut m, "unauthenticated");
    m.finish(sink, "`convex`", &["authenticated", "unauthenticated"]);
    Some(ConvexStatus {
        authenticated: authenticated?,
        unauthenticated: unauthenticated?,
    })
}

fn secure_store(sink: &mut Sink, node: &Node) -> Option<SecureStore> {
    let mut m = MapView::new(sink, node, "secureStore", "secureStore")?;
    let session_keys = match m.get("sessionKeys") {
        Some(v) => lower::string_list(sink, v, "secureStore.sessionKeys"),
        None => Some(vec!["__clerk_client_jwt".into()]),
    };
    let ios_service = match m.get("iosService") {
        Some(v) => lower::nonempty_string(sink, v, "secureStore.iosService"),
        None => Some("app:no-auth".into()),
    };
    m.finish(sink, "`secureStore`", &["sessionKeys", "iosService"]);
    if session_keys.as_ref().is_some_and(|k| k.is_empty()) {
        sink.error(node.pos, "secureStore.sessionKeys", "no session keys listed");
        return None;
    }
    Some(SecureStore {
        session_keys: session_keys?,
        ios_service: ios_service?,
    })
}

fn offline(sink: &mut Sink, node: &Node) -> Option<OfflineBehaviour> {
    let mut m = MapView::new(sink, node, "offline", "offline")?;
    #[derive(Clone, Copy)]
    enum Kind {
        SignedIn,
        NetworkError,
    }
    let kind = match m.get("coldStart") {
        Some(v) => lower::one_of(
            sink,
            v,
            "offline.coldStart",
            &[("signedIn", Kind::SignedIn), ("networkError", Kind::NetworkError)],
        ),
        None => {
            sink.error(
                m.pos,
                "offline.coldStart",
                "`offline` needs `coldStart: signedIn` or `coldStart: networkError`",
            );
            None
        }
    };
    let error = m
        .get("networkError")
        .and_then(|v| parse_selector(sink, v, "offline.networkError"));
    let has_error_key = m.has("networkError");
    let pos = m.pos;
    m.finish(sink, "`offline`", &["coldStart", "networkError"]);
    match kind? {
        Kind::SignedIn => Some(OfflineBehaviour::SignedIn),
        Kind::NetworkError => {
            match error {
                Some(error) => Some(OfflineBehaviour::NetworkError { error: Box::new(error) }),
                None => {
                    if !has_error_key {
                        sink.error(pos, "offline.networkError", "`coldStart: networkError` needs a `networkError` selector")
                        .hint("the element that shows the documented network error, e.g. `networkError: {id: network-error}`");
                    }
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profile_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows/apps");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let (p, d) = load_app_profile(&path);
            assert!(d.is_empty(), "{path:?}: {d:#?}");
            assert!(p.is_some());
            n += 1;
        }
        assert!(n >= 1);
    }

    #[test]
    fn auth_log_markers() {
        let base = "name: x\nios: {bundleId: a}\nauth:\n  signedIn: {id: home}\n  signedOut: {id: login}\n";
        let ok = format!("{base}  log:\n    signedIn: 'isSignedIn=true'\n    signedOut: 'isSignedIn=false'\n");
        let (p, d) = parse_app_profile(&ok, Path::new("a.yaml"));
        assert!(d.is_empty(), "{d:#?}");
        let log = p.unwrap().auth.log.unwrap();
        assert_eq!(
            (log.signed_in.as_str(), log.signed_out.as_str()),
            ("isSignedIn=true", "isSignedIn=false")
        );
        let bad = format!("{base}  log:\n    signedIn: '[auth isSignedIn=true'\n");
        let (p, d) = parse_app_profile(&bad, Path::new("a.yaml"));
        assert!(p.is_none());
        let text: Vec<String> = d
            .iter()
            .map(|g| format!("{}:{} {} {}", g.pos().line, g.pos().column, g.key, g.message))
            .collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("7:15 auth.log.signedIn not a valid regex")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("auth.log.signedOut") && t.contains("needs `signedOut`")),
            "{text:#?}"
        );
    }

    #[test]
    fn errors_are_located() {
        let text = "name: x\nios: {bundleId: a}\nauth:\n  signedIn: {id: home}\n  signdOut: {id: login}\noffline: {coldStart: networkError}\n";
        let (p, d) = parse_app_profile(text, Path::new("a.yaml"));
        assert!(p.is_none());
        let msgs: Vec<String> = d
            .iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect();
        assert!(
            msgs.iter().any(|m| m.starts_with("4:3 `auth` needs `signedOut`")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("5:3 unknown key 'signdOut'")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("needs a `networkError` selector")),
            "{msgs:#?}"
        );
    }
}
