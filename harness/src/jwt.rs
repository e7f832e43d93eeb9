//! JSON Web Tokens: just enough to mint the virtual Clerk's tokens and to read the claims of
//! a token found in secure storage, without ever keeping the token itself.
//!
//! Signatures are HS256 (HMAC-SHA-256). Reading never verifies a signature: the harness only
//! reports claims (`sid`, `exp`, `aud`, …), and shows a token as its SHA-256 digest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// HMAC-SHA-256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Encodes claims as an HS256 JWT with a key id.
pub fn encode_hs256(claims: &Value, kid: &str, key: &[u8]) -> String {
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let signing = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let sig = hmac_sha256(key, signing.as_bytes());
    format!("{signing}.{}", B64.encode(sig))
}

/// The claims of a JWT, without verifying it. `None` when it is not a JWT.
pub fn claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = B64.decode(p.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Hex SHA-256 of a secret: how tokens appear in snapshots and reports.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A token for display: its claims' identifiers and its digest, never the token.
pub fn describe(token: &str) -> String {
    let d = &digest(token)[..12];
    match claims(token) {
        Some(c) => {
            let get = |k: &str| c.get(k).map(|v| v.to_string().trim_matches('"').to_string());
            let mut parts = vec![format!("sha256:{d}")];
            for k in ["sid", "aud", "exp"] {
                if let Some(v) = get(k) {
                    parts.push(format!("{k}={v}"));
                }
            }
            parts.join(" ")
        }
        None => format!("sha256:{d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn encode_then_read_claims() {
        let t = encode_hs256(
            &serde_json::json!({"sid": "sess_1", "aud": "convex", "exp": 60}),
            "ins_1",
            b"k",
        );
        let c = claims(&t).unwrap();
        assert_eq!(c["sid"], "sess_1");
        assert_eq!(c["exp"], 60);
        assert!(describe(&t).contains("sid=sess_1 aud=convex exp=60"));
        assert!(!describe(&t).contains(&t));
        assert!(claims("not-a-jwt").is_none());
    }
}
