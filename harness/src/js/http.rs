//! `http.get/post/put/delete/request` for scripts: a real HTTP call (blocking: scripts are
//! synchronous, and they run on the engine's own thread), answered as Maestro answers it:
//! `{ok, status, body, headers}`. The call's timeout is what is left of the evaluation's.

use std::time::Duration;

use rquickjs::{Ctx, Exception, Value};

/// Makes the request `options` describes (`headers`: an object; `body`: a string, or any other
/// value sent as JSON) and returns the response object.
pub fn call<'js>(
    ctx: &Ctx<'js>,
    method: &str,
    url: &str,
    options: Option<Value<'js>>,
    remaining: Duration,
) -> rquickjs::Result<Value<'js>> {
    let fail = |m: String| Exception::throw_message(ctx, &m);
    if remaining.is_zero() {
        return Err(fail(format!(
            "http.{}: no time left for the request",
            method.to_lowercase()
        )));
    }
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| fail(format!("'{method}' is not an HTTP method")))?;
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(format!("'{url}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(fail(format!("'{url}': only http and https URLs can be requested")));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(remaining)
        .build()
        .map_err(|e| fail(format!("cannot make an HTTP client: {e}")))?;
    let mut req = client.request(method.clone(), parsed);
    if let Some(opts) = options.as_ref().and_then(|o| o.as_object()) {
        if let Ok(headers) = opts.get::<_, rquickjs::Object>("headers") {
            for (k, v) in headers.props::<String, rquickjs::Coerced<String>>().flatten() {
                req = req.header(k, v.0);
            }
        }
        match opts.get::<_, Value>("body") {
            Ok(b) if b.is_undefined() || b.is_null() => {}
            Ok(b) => {
                let text = match b.as_string() {
                    Some(s) => s.to_string()?,
                    None => ctx
                        .json_stringify(b)?
                        .map(|s| s.to_string())
                        .transpose()?
                        .unwrap_or_default(),
                };
                req = req.body(text);
            }
            Err(_) => {}
        }
    }
    let resp = req.send().map_err(|e| {
        fail(format!(
            "http.{} {url}: {}",
            method.as_str().to_lowercase(),
            error_chain(&e)
        ))
    })?;
    let status = resp.status().as_u16();
    let headers: serde_json::Map<String, serde_json::Value> = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                serde_json::Value::String(v.to_str().unwrap_or("").to_string()),
            )
        })
        .collect();
    let body = resp
        .text()
        .map_err(|e| fail(format!("http {url}: reading the body failed: {e}")))?;
    let out = serde_json::json!({
        "ok": (200..300).contains(&status),
        "status": status,
        "body": body,
        "headers": headers,
    });
    ctx.json_parse(out.to_string())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
