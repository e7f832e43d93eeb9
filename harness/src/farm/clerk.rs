//! The fake Clerk server side (Frontend API) of one virtual device: clients, sessions and
//! their statuses, the rotating client JWT the app keeps in secure storage, and 60 s session
//! tokens with Clerk's documented claims (`aud: convex` with the Convex integration).

use serde_json::json;

use crate::jwt;
use crate::rng::Rng;

/// Lifetime of a session token (Clerk: 60 s).
pub const SESSION_TOKEN_TTL_S: u64 = 60;
const ISSUER: &str = "https://clerk.harness.virtual";
const SIGNING_KEY: &[u8] = b"virtual-clerk-instance-key";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Active,
    Ended,
    Revoked,
    Expired,
}

impl SessionStatus {
    pub fn name(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Ended => "ended",
            SessionStatus::Revoked => "revoked",
            SessionStatus::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub status: SessionStatus,
    pub created_ms: u64,
    pub last_active_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    /// The client JWT (what `__clerk_client_jwt` holds).
    pub token: String,
    pub sessions: Vec<Session>,
}

/// Why a sign-in failed, as the sign-in screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInError {
    Offline,
    EmptyIdentifier,
    WrongPassword,
}

impl SignInError {
    pub fn message(&self) -> &'static str {
        match self {
            SignInError::Offline => "Network error: unable to reach Clerk.",
            SignInError::EmptyIdentifier => "Enter your email or username",
            SignInError::WrongPassword => "Password is incorrect. Try again.",
        }
    }
}

#[derive(Debug)]
pub struct FakeClerk {
    pub clients: Vec<Client>,
    pub user_id: String,
    /// Required password; any non-empty password when `None`.
    pub password: Option<String>,
    pub session_lifetime_ms: u64,
    pub convex_integration: bool,
}

impl FakeClerk {
    pub fn new(rng: &mut Rng, password: Option<String>, session_lifetime_ms: u64) -> Self {
        FakeClerk {
            clients: vec![],
            user_id: rng.ident("user_", 27),
            password,
            session_lifetime_ms,
            convex_integration: true,
        }
    }

    fn client_mut(&mut self, token: &str) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.token == token)
    }

    /// Expires sessions past their lifetime.
    pub fn expire(&mut self, now_ms: u64) {
        let lifetime = self.session_lifetime_ms;
        for c in &mut self.clients {
            for s in &mut c.sessions {
                if s.status == SessionStatus::Active && now_ms.saturating_sub(s.created_ms) > lifetime {
                    s.status = SessionStatus::Expired;
                }
            }
        }
    }

    /// The active session of the client whose JWT is `token` (`GET /v1/client`).
    pub fn active_session(&mut self, token: &str, now_ms: u64) -> Option<Session> {
        self.expire(now_ms);
        let c = self.client_mut(token)?;
        c.sessions
            .iter()
            .rev()
            .find(|s| s.status == SessionStatus::Active)
            .cloned()
    }

    /// Ends sessions idle longer than `timeout_ms` (inactivity timeout).
    pub fn expire_idle(&mut self, token: &str, now_ms: u64, timeout_ms: u64) {
        if let Some(c) = self.client_mut(token) {
            for s in &mut c.sessions {
                if s.status == SessionStatus::Active && now_ms.saturating_sub(s.last_active_ms) > timeout_ms {
                    s.status = SessionStatus::Expired;
                }
            }
        }
    }

    pub fn touch(&mut self, token: &str, now_ms: u64) {
        if let Some(c) = self.client_mut(token) {
            for s in &mut c.sessions {
                if s.status == SessionStatus::Active {
                    s.last_active_ms = now_ms;
                }
            }
        }
    }

    /// Signs in on the client `token` (creating a client when there is none) and returns the
    /// client JWT and the new session.
    pub fn sign_in(
        &mut self,
        rng: &mut Rng,
        token: Option<&str>,
        identifier: &str,
        password: &str,
        now_ms: u64,
    ) -> Result<(String, Session), SignInError> {
        if identifier.trim().is_empty() {
            return Err(SignInError::EmptyIdentifier);
        }
        let ok = match &self.password {
            Some(p) => p == password,
            None => !password.is_empty(),
        };
        if !ok {
            return Err(SignInError::WrongPassword);
        }
        let session = Session {
            id: rng.ident("sess_", 27),
            user_id: self.user_id.clone(),
            status: SessionStatus::Active,
            created_ms: now_ms,
            last_active_ms: now_ms,
        };
        let existing = token.and_then(|t| self.clients.iter().position(|c| c.token == t));
        let idx = match existing {
            Some(i) => i,
            None => {
                let id = rng.ident("client_", 27);
                let rotating = rng.ident("", 20);
                let token = jwt::encode_hs256(
                    &json!({"id": id, "rotating_token": rotating}),
                    "ins_virtual",
                    SIGNING_KEY,
                );
                self.clients.push(Client {
                    id,
                    token,
                    sessions: vec![],
                });
                self.clients.len() - 1
            }
        };
        // A sign-in ends the client's previous sessions (single-session mode).
        for s in &mut self.clients[idx].sessions {
            if s.status == SessionStatus::Active {
                s.status = SessionStatus::Ended;
            }
        }
        self.clients[idx].sessions.push(session.clone());
        Ok((self.clients[idx].token.clone(), session))
    }

    /// Ends the session (`POST /v1/client/sessions/:id/end`).
    pub fn end_session(&mut self, session_id: &str) {
        for c in &mut self.clients {
            for s in &mut c.sessions {
                if s.id == session_id && s.status == SessionStatus::Active {
                    s.status = SessionStatus::Ended;
                }
            }
        }
    }

    pub fn revoke_session(&mut self, session_id: &str) {
        for c in &mut self.clients {
            for s in &mut c.sessions {
                if s.id == session_id {
                    s.status = SessionStatus::Revoked;
                }
            }
        }
    }

    /// A 60 s session token for `session` with Clerk's claims.
    pub fn session_token(&self, session: &Session, now_ms: u64, wall_ms: u64) -> String {
        let iat = wall_ms / 1000;
        let _ = now_ms;
        let mut claims = json!({
            "azp": "com.harness.clerkconvex",
            "exp": iat + SESSION_TOKEN_TTL_S,
            "iat": iat,
            "iss": ISSUER,
            "nbf": iat.saturating_sub(10),
            "sid": session.id,
            "sts": "active",
            "sub": session.user_id,
            "v": 2,
        });
        if self.convex_integration {
            claims["aud"] = json!("convex");
        }
        jwt::encode_hs256(&claims, "ins_virtual", SIGNING_KEY)
    }

    pub fn session_status(&self, session_id: &str) -> Option<SessionStatus> {
        self.clients
            .iter()
            .flat_map(|c| c.sessions.iter())
            .find(|s| s.id == session_id)
            .map(|s| s.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_sign_out_and_tokens() {
        let mut rng = Rng::new(1);
        let mut clerk = FakeClerk::new(&mut rng, None, 3_600_000);
        assert_eq!(
            clerk.sign_in(&mut rng, None, "", "x", 0).unwrap_err(),
            SignInError::EmptyIdentifier
        );
        assert_eq!(
            clerk.sign_in(&mut rng, None, "a@b.c", "", 0).unwrap_err(),
            SignInError::WrongPassword
        );
        let (token, s1) = clerk.sign_in(&mut rng, None, "a@b.c", "pw", 0).unwrap();
        assert_eq!(clerk.active_session(&token, 10).unwrap().id, s1.id);
        clerk.end_session(&s1.id);
        assert!(clerk.active_session(&token, 10).is_none());
        let (token2, s2) = clerk.sign_in(&mut rng, Some(&token), "a@b.c", "pw", 20).unwrap();
        assert_eq!(token2, token, "the client JWT survives sign-out and sign-in");
        assert_ne!(s2.id, s1.id);
        let st = clerk.session_token(&s2, 20, 1_000_000);
        let c = jwt::claims(&st).unwrap();
        assert_eq!(c["aud"], "convex");
        assert_eq!(c["sid"], s2.id.as_str());
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 60);
        // Lifetime.
        assert!(clerk.active_session(&token, 3_600_021).is_none());
        assert_eq!(clerk.session_status(&s2.id), Some(SessionStatus::Expired));
    }
}
