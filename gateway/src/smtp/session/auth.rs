//! SMTP AUTH (RFC 4954): the PLAIN and LOGIN exchanges, offered only over
//! TLS. The state machine asks its caller to check a credential
//! ([`Action::Authenticate`]) and hears the outcome back.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LoginStep {
    Username,
    Password(String),
}

/// A login name and password to check.
#[derive(PartialEq, Eq)]
pub struct Credential {
    /// Login name.
    pub user: String,
    /// Password as given.
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The result of a credential check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The password is right for this user.
    Ok(String),
    /// Wrong user or password (535).
    Invalid,
    /// Not checked now: too many checks running, or this client or user is
    /// locked out after failures (454, RFC 4954).
    TryLater,
}

impl Session {
    /// AUTH is offered only over TLS, only once, and only if users exist.
    pub(super) fn auth_offered(&self) -> bool {
        self.limits.auth_available && self.facts.tls.is_some() && self.facts.auth_user.is_none()
    }

    pub(super) fn auth(
        &mut self,
        s: State,
        mech: AuthMechanism,
        initial: Option<String>,
    ) -> (State, Step) {
        let h = match s {
            State::Ready(h) => h,
            s @ State::Fresh => return self.refuse(s, common::bad_sequence("send EHLO first")),
            s => return self.refuse(s, common::bad_sequence("AUTH not allowed now")),
        };
        if self.facts.auth_user.is_some() {
            return self.refuse(
                State::Ready(h),
                common::bad_sequence("already authenticated"),
            );
        }
        if self.facts.tls.is_none() {
            return self.refuse(
                State::Ready(h),
                Reply::new(
                    538,
                    "5.7.11 Encryption required for requested authentication mechanism",
                ),
            );
        }
        if !self.limits.auth_available {
            return self.refuse(State::Ready(h), Reply::new(502, "5.5.1 AUTH not available"));
        }
        match (mech, initial) {
            (AuthMechanism::Plain, None) => (State::AuthPlain(h), Step::reply(Reply::new(334, ""))),
            (AuthMechanism::Plain, Some(resp)) => self.plain_response(h, &resp),
            (AuthMechanism::Login, None) => (
                State::AuthLogin(h, LoginStep::Username),
                Step::reply(Reply::new(334, "VXNlcm5hbWU6")),
            ),
            (AuthMechanism::Login, Some(user)) => self.login_line(h, LoginStep::Username, &user),
        }
    }

    /// Handles a line sent in answer to a 334 challenge.
    pub fn auth_line(&mut self, line: &[u8]) -> Step {
        let text = String::from_utf8_lossy(line).trim().to_owned();
        let state = std::mem::replace(&mut self.state, State::Closed);
        let (next, step) = match state {
            State::AuthPlain(h) | State::AuthLogin(h, _) if text == "*" => {
                let s = State::Ready(h);
                self.refuse(s, Reply::new(501, "5.7.0 Authentication cancelled"))
            }
            State::AuthPlain(h) => self.plain_response(h, &text),
            State::AuthLogin(h, step) => self.login_line(h, step, &text),
            other => (
                other,
                Step::reply(common::bad_sequence("no AUTH in progress")),
            ),
        };
        self.state = next;
        step
    }

    pub(super) fn plain_response(&mut self, h: Helo, b64: &str) -> (State, Step) {
        let decoded = B64
            .decode(b64.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some(decoded) = decoded else {
            return self.refuse(
                State::Ready(h),
                Reply::new(501, "5.5.2 Cannot decode AUTH response"),
            );
        };
        let mut parts = decoded.split('\0');
        let (authz, user, password) = (parts.next(), parts.next(), parts.next());
        match (authz, user, password, parts.next()) {
            (Some(authz), Some(user), Some(pw), None) if authz.is_empty() || authz == user => (
                State::Authenticating(h),
                Step::then_only(Action::Authenticate(Credential {
                    user: user.to_owned(),
                    password: pw.to_owned(),
                })),
            ),
            _ => self.refuse(
                State::Ready(h),
                Reply::new(535, "5.7.8 Authentication credentials invalid"),
            ),
        }
    }

    pub(super) fn login_line(&mut self, h: Helo, step: LoginStep, b64: &str) -> (State, Step) {
        let Some(text) = B64
            .decode(b64.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return self.refuse(
                State::Ready(h),
                Reply::new(501, "5.5.2 Cannot decode AUTH response"),
            );
        };
        match step {
            LoginStep::Username => (
                State::AuthLogin(h, LoginStep::Password(text)),
                Step::reply(Reply::new(334, "UGFzc3dvcmQ6")),
            ),
            LoginStep::Password(user) => (
                State::Authenticating(h),
                Step::then_only(Action::Authenticate(Credential {
                    user,
                    password: text,
                })),
            ),
        }
    }

    /// The credential check finished.
    pub fn auth_checked(&mut self, outcome: AuthOutcome) -> Step {
        let h = match std::mem::replace(&mut self.state, State::Closed) {
            State::Authenticating(h) => h,
            other => {
                self.state = other;
                return Step::reply(common::bad_sequence("no AUTH in progress"));
            }
        };
        self.state = State::Ready(h);
        match outcome {
            AuthOutcome::Ok(u) => {
                self.facts.auth_user = Some(u);
                Step::reply(Reply::new(235, "2.7.0 Authentication successful"))
            }
            AuthOutcome::Invalid => {
                self.error(Reply::new(535, "5.7.8 Authentication credentials invalid"))
            }
            AuthOutcome::TryLater => self.error(Reply::new(
                454,
                "4.7.0 Temporary authentication failure, try again later",
            )),
        }
    }
}
