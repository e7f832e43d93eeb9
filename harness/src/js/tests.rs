use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::*;

fn js() -> Js {
    Js::start(JsConfig::new(Platform::Android)).unwrap()
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn expressions_see_the_scope_and_give_text_json_and_truthiness() {
    let js = js();
    let r = js.eval("1 + 2", &[]).await.unwrap();
    assert_eq!(
        (r.text.as_str(), r.json.clone(), r.truthy),
        ("3", serde_json::json!(3), true)
    );
    let r = js.eval("A + '-' + B", &vars(&[("A", "x"), ("B", "y")])).await.unwrap();
    assert_eq!(r.text, "x-y");
    let r = js.eval("TIMEOUT * 2", &vars(&[("TIMEOUT", "1500")])).await.unwrap();
    assert_eq!(r.text, "3000");
    let r = js.eval("MISSING ?? 'fallback'", &[]).await;
    assert!(
        matches!(r, Err(JsError::Thrown { ref message, .. }) if message.contains("MISSING")),
        "{r:?}"
    );
    let r = js
        .eval("typeof MAYBE === 'undefined' ? 'y' : MAYBE", &[])
        .await
        .unwrap();
    assert_eq!(r.text, "y");
    assert!(!js.eval("0", &[]).await.unwrap().truthy);
    assert!(!js.eval("''", &[]).await.unwrap().truthy);
    assert_eq!(
        js.eval("({a: [1, 'b']})", &[]).await.unwrap().json,
        serde_json::json!({"a": [1, "b"]})
    );
    assert_eq!(js.eval("undefined", &[]).await.unwrap().text, "undefined");
}

#[tokio::test]
async fn output_is_shared_and_script_locals_stay_local() {
    let js = js();
    js.run_script(
        "var tmp = 1; output.user = {id: 7, name: NAME};",
        "setup.js",
        &vars(&[("NAME", "Ada")]),
    )
    .await
    .unwrap();
    assert_eq!(js.eval("output.user.id + 1", &[]).await.unwrap().text, "8");
    assert_eq!(js.eval("typeof tmp", &[]).await.unwrap().text, "undefined");
    assert_eq!(js.eval("typeof NAME", &[]).await.unwrap().text, "undefined");
    assert_eq!(js.output().await, serde_json::json!({"user": {"id": 7, "name": "Ada"}}));
    // evalScript-style assignment through an expression.
    js.eval("output.count = (output.count || 0) + 1", &[]).await.unwrap();
    assert_eq!(js.output().await["count"], 1);
}

#[tokio::test]
async fn maestro_object_console_and_json() {
    let mut config = JsConfig::new(Platform::Ios);
    config.secrets = vec!["hunter22".into()];
    let js = Js::start(config).unwrap();
    assert_eq!(js.eval("maestro.platform", &[]).await.unwrap().text, "ios");
    assert_eq!(
        js.eval("maestro.copiedText", &[]).await.unwrap().json,
        serde_json::Value::Null
    );
    js.set_copied_text(Some("copied!".into()));
    assert_eq!(js.eval("maestro.copiedText", &[]).await.unwrap().text, "copied!");
    let r = js
        .run_script(
            "console.log('pw', PASSWORD, {a: 1}); console.error('second')",
            "log.js",
            &vars(&[("PASSWORD", "hunter22")]),
        )
        .await
        .unwrap();
    assert_eq!(r.logs, vec!["pw *** [object Object]".to_string(), "second".to_string()]);
    assert_eq!(js.eval("json('{\"x\": [1,2]}').x[1]", &[]).await.unwrap().text, "2");
}

#[tokio::test]
async fn errors_name_the_message_and_line_and_secrets_are_redacted() {
    let mut config = JsConfig::new(Platform::Android);
    config.secrets = vec!["s3cret-value".into()];
    let js = Js::start(config).unwrap();
    let e = js
        .run_script(
            "let a = 1;\nthrow new Error('boom ' + KEY);",
            "fail.js",
            &vars(&[("KEY", "s3cret-value")]),
        )
        .await
        .unwrap_err();
    let JsError::Thrown { message, .. } = e else {
        panic!("{e:?}")
    };
    assert!(message.starts_with("fail.js: boom ***"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    let e = js.eval("1 +", &[]).await.unwrap_err();
    assert!(
        matches!(e, JsError::Thrown { ref message, .. } if message.to_lowercase().contains("syntax")),
        "{e:?}"
    );
    // The engine goes on after an error.
    assert_eq!(js.eval("2 * 21", &[]).await.unwrap().text, "42");
}

#[tokio::test]
async fn scripts_cannot_reach_files_processes_or_modules_and_are_bounded() {
    let mut config = JsConfig::new(Platform::Android);
    config.timeout = Duration::from_millis(300);
    let js = Js::start(config).unwrap();
    for g in ["require", "std", "os", "process", "fetch", "Deno"] {
        assert_eq!(
            js.eval(&format!("typeof {g}"), &[]).await.unwrap().text,
            "undefined",
            "{g}"
        );
    }
    // No module loader: an import is refused, whatever the module.
    let e = js
        .run_script("import * as os from 'os';", "import.js", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(e, JsError::Thrown { ref message, .. } if message.starts_with("import.js: SyntaxError")),
        "{e:?}"
    );
    let started = std::time::Instant::now();
    assert_eq!(
        js.eval("(() => { while (true) {} })()", &[]).await.unwrap_err(),
        JsError::Timeout(Duration::from_millis(300))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = js
        .eval(
            "(() => { const a = []; while (true) a.push(new Array(1e6).fill(1)); })()",
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(e, JsError::Thrown { .. } | JsError::Timeout(_)), "{e:?}");
    let e = js.eval("(function f() { return f() + 1; })()", &[]).await.unwrap_err();
    assert!(matches!(e, JsError::Thrown { .. }), "{e:?}");
    assert_eq!(js.eval("'still alive'", &[]).await.unwrap().text, "still alive");
}

/// A one-request HTTP server on loopback that answers `status` with `body` and hands back the
/// raw request it got.
fn one_shot_server(status: u16, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap();
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).to_string();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if rest.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nX-Test: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(reply.as_bytes()).unwrap();
        String::from_utf8_lossy(&raw).to_string()
    });
    (url, handle)
}

#[tokio::test]
async fn http_post_reaches_a_local_server_and_answers_like_maestro() {
    let js = js();
    let (url, server) = one_shot_server(201, r#"{"id":"user_1"}"#);
    let r = js
        .run_script(
            "const r = http.post(BASE + '/users', {headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + TOKEN}, body: JSON.stringify({email: 'a@b.c'})});\n\
             output.created = {ok: r.ok, status: r.status, id: json(r.body).id, header: r.headers['x-test']};",
            "create-user.js",
            &vars(&[("BASE", &url), ("TOKEN", "t0k")]),
        )
        .await
        .unwrap();
    assert!(r.logs.is_empty());
    let raw = server.join().unwrap();
    assert!(raw.starts_with("POST /users HTTP/1.1"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("authorization: bearer t0k"), "{raw}");
    assert!(raw.ends_with(r#"{"email":"a@b.c"}"#), "{raw}");
    assert_eq!(
        js.output().await["created"],
        serde_json::json!({"ok": true, "status": 201, "id": "user_1", "header": "yes"})
    );
    // request() with a method, a non-2xx answer, and an unreachable server.
    let (url, server) = one_shot_server(404, "{}");
    let r = js
        .eval(&format!("http.request('{url}/x', {{method: 'delete'}}).ok"), &[])
        .await
        .unwrap();
    assert_eq!(r.text, "false");
    assert!(server.join().unwrap().starts_with("DELETE /x "));
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let e = js
        .eval(&format!("http.get('http://{closed}/')"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(e, JsError::Thrown { ref message, .. } if message.contains("http.get")),
        "{e:?}"
    );
    let e = js.eval("http.get('file:///etc/passwd')", &[]).await.unwrap_err();
    assert!(
        matches!(e, JsError::Thrown { ref message, .. } if message.contains("only http")),
        "{e:?}"
    );
}
