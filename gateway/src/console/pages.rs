//! The console's pages: one handler per route, each rendering a template
//! in `templates/console/`. A handler that needs a signed-in user asks
//! [`signed_in`] first; one that changes something also checks the form's
//! CSRF token and the role.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use phigate_config::ConsoleRole;
use serde::Deserialize;

use super::session::Session;
use super::{Console, Peer};
use crate::audit::Event;
use crate::queue::QuarantineOp;
use crate::spool::{QueueId, RcptState};

type St = State<Arc<Console>>;

/// Who is signed in, as the page header shows them.
pub struct Nav {
    user: String,
    role: &'static str,
    admin: bool,
    csrf: String,
}

impl Nav {
    fn of(s: &Session) -> Nav {
        Nav {
            user: s.user.clone(),
            role: s.role.as_str(),
            admin: s.role == ConsoleRole::Admin,
            csrf: s.csrf.clone(),
        }
    }
}

/// A finding as pages show it: the value masked by the detector itself.
pub struct Shown {
    category: String,
    rule: String,
    location: String,
    preview: String,
    confidence: String,
}

fn shown(engine: &phigate_detectors::Engine, report: &phigate_detectors::Report) -> Vec<Shown> {
    let mut out: Vec<Shown> = report
        .findings
        .iter()
        .filter(|f| f.confidence >= engine.threshold(&f.category))
        .map(|f| Shown {
            category: f.category.as_str().to_string(),
            rule: f.rule.to_string(),
            location: f.location.to_string(),
            preview: f.preview.clone(),
            confidence: format!("{:.2}", f.confidence),
        })
        .collect();
    out.sort_by(|a, b| a.category.cmp(&b.category));
    out
}

#[derive(Template)]
#[template(path = "console/signin.html")]
struct SignInPage {
    nav: Option<Nav>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    nav: Option<Nav>,
    status: String,
    message: String,
}

#[derive(Template)]
#[template(path = "console/done.html")]
struct DonePage {
    nav: Option<Nav>,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    nav: Option<Nav>,
    month: String,
    m: crate::report::Month,
    held: usize,
}

struct HeldRow {
    id: String,
    received: String,
    rule: String,
    categories: Vec<String>,
    sender: String,
    recipients: String,
}

#[derive(Template)]
#[template(path = "console/quarantine.html")]
struct QuarantinePage {
    nav: Option<Nav>,
    rows: Vec<HeldRow>,
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    nav: Option<Nav>,
    id: String,
    received: String,
    client_ip: String,
    sender: String,
    categories: Vec<String>,
    recipients: Vec<(String, String, String, String)>,
    findings: Vec<Shown>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AuditFilters {
    id: String,
    sender: String,
    recipient: String,
    category: String,
    action: String,
    since: String,
    until: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    f: AuditFilters,
    error: Option<String>,
    trails: Vec<crate::audit::search::Trail>,
    truncated: bool,
}

#[derive(Template)]
#[template(path = "console/test.html")]
struct TestPage {
    nav: Option<Nav>,
    sender: String,
    recipients: String,
    verdict: Option<String>,
    decisions: Vec<(String, String, String)>,
    findings: Vec<Shown>,
}

fn render(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn error(status: StatusCode, nav: Option<Nav>, message: impl Into<String>) -> Response {
    render(
        status,
        ErrorPage {
            nav,
            status: status.to_string(),
            message: message.into(),
        },
    )
}

/// The session cookie's name: `__Host-` over HTTPS (the browser then
/// insists on Secure, Path=/ and no Domain).
fn cookie_name(c: &Console) -> &'static str {
    if c.https {
        "__Host-phigate"
    } else {
        "phigate_session"
    }
}

fn token<'h>(c: &Console, headers: &'h HeaderMap) -> Option<&'h str> {
    let name = cookie_name(c);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The signed-in user's session, still configured with the same role; the
/// sign-in page otherwise.
fn signed_in(c: &Console, headers: &HeaderMap) -> Option<Session> {
    let live = (c.live)();
    let idle = live
        .config
        .console
        .as_ref()
        .map_or(std::time::Duration::ZERO, |k| k.session_idle);
    token(c, headers)
        .and_then(|t| c.sessions.get(t, idle))
        .filter(|s| {
            // A user removed (or whose role changed) by a reload is out.
            live.config
                .console
                .as_ref()
                .is_some_and(|k| k.users.iter().any(|u| u.name == s.user && u.role == s.role))
        })
}

/// A signed-in administrator's session: a handler that takes one cannot
/// run for anyone else (without a session the request goes to the sign-in
/// page before the handler is called).
pub struct SignedIn(Session);

impl axum::extract::FromRequestParts<Arc<Console>> for SignedIn {
    type Rejection = Redirect;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        c: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        signed_in(c, &parts.headers)
            .map(SignedIn)
            .ok_or_else(|| Redirect::to("/"))
    }
}

fn csrf_ok(s: &Session, form: &str) -> bool {
    super::session::same(s.csrf.as_bytes(), form.as_bytes())
}

/// Records `action` by `user`; an audit log that cannot take it stops the
/// action (what is not recorded is not done).
async fn record(
    c: &Console,
    user: Option<&str>,
    peer: Peer,
    action: &str,
    detail: Option<String>,
) -> bool {
    let event = Event::Console {
        user: user.map(str::to_string),
        client_ip: peer.0.ip().to_string(),
        action: action.to_string(),
        detail,
    };
    match c.audit.log(vec![event]).await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "console action not audited");
            false
        }
    }
}

/// What an action gets when the audit log cannot record it.
fn unaudited() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        "The audit log cannot record this now; nothing was done.",
    )
}

pub async fn sign_in_page(State(c): St, headers: HeaderMap) -> Response {
    if signed_in(&c, &headers).is_some() {
        return Redirect::to("/overview").into_response();
    }
    render(
        StatusCode::OK,
        SignInPage {
            nav: None,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    name: String,
    password: String,
    #[serde(default)]
    code: String,
}

pub async fn sign_in(
    State(c): St,
    axum::Extension(peer): axum::Extension<Peer>,
    Form(f): Form<SignInForm>,
) -> Response {
    let ip = peer.0.ip();
    let refuse = |status, error| {
        render(
            status,
            SignInPage {
                nav: None,
                error: Some(error),
            },
        )
    };
    let Ok(permit) = c.guard.admit(ip, &f.name) else {
        c.metrics.console_signin_failures_total.inc();
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Try again later.",
        );
    };
    let live = (c.live)();
    let user = live
        .config
        .console
        .as_ref()
        .and_then(|k| k.users.iter().find(|u| u.name == f.name))
        .cloned();
    // argon2 (unknown names against a decoy, so time does not tell), off
    // the async threads.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = zeroize::Zeroizing::new(f.password);
    let password_ok =
        tokio::task::spawn_blocking(move || crate::auth::verify_hash(hash.as_deref(), &password))
            .await
            .unwrap_or(false);
    drop(permit);
    let user = user.filter(|u| {
        password_ok
            && match &u.totp_secret {
                Some(key) => c
                    .sessions
                    .totp_ok(&u.name, key, &f.code, crate::date::now()),
                None => true,
            }
    });
    let Some(user) = user else {
        c.guard.failed(ip, &f.name);
        c.metrics.console_signin_failures_total.inc();
        // A name that is not configured may be a password typed in the
        // wrong field: not recorded.
        let known = live
            .config
            .console
            .as_ref()
            .and_then(|k| k.users.iter().find(|u| u.name == f.name))
            .map(|u| u.name.as_str());
        if !record(&c, known, peer, "sign_in_failed", None).await {
            return unaudited();
        }
        return refuse(
            StatusCode::UNAUTHORIZED,
            "The name, password or code is wrong.",
        );
    };
    c.guard.succeeded(ip, &f.name);
    if !record(
        &c,
        Some(&user.name),
        peer,
        "sign_in",
        Some(user.role.as_str().into()),
    )
    .await
    {
        return unaudited();
    }
    let token = c.sessions.open(&user.name, user.role);
    let secure = if c.https { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        cookie_name(&c)
    );
    let mut res = Redirect::to("/overview").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    if c.https {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(c): St,
    axum::Extension(peer): axum::Extension<Peer>,
    SignedIn(s): SignedIn,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return error(StatusCode::FORBIDDEN, Some(Nav::of(&s)), "Form expired.");
    }
    if let Some(t) = token(&c, &headers) {
        c.sessions.close(t);
    }
    let _ = record(&c, Some(&s.user), peer, "sign_out", None).await;
    let mut res = Redirect::to("/").into_response();
    let expire = format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        cookie_name(&c),
        if c.https { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&expire) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Held messages, from the spool (read-only, as `phigate quarantine list`).
fn held(c: &Console) -> std::io::Result<Vec<crate::spool::StoredMessage>> {
    let scan = crate::spool::scan(c.spool.dir(), false)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(scan
        .messages
        .into_iter()
        .filter(|m| m.rcpts.iter().any(|r| matches!(r, RcptState::Held { .. })))
        .collect())
}

pub async fn overview(State(c): St, SignedIn(s): SignedIn) -> Response {
    let month = crate::date::day(crate::date::now())[..7].to_string();
    let live = (c.live)();
    let (c2, dir, m2) = (c.clone(), live.config.audit.dir.clone(), month.clone());
    let figures = tokio::task::spawn_blocking(move || {
        Ok::<_, std::io::Error>((crate::report::collect(&dir, &m2)?, held(&c2)?.len()))
    })
    .await;
    match figures {
        Ok(Ok((m, held))) => render(
            StatusCode::OK,
            OverviewPage {
                nav: Some(Nav::of(&s)),
                month,
                m,
                held,
            },
        ),
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(Nav::of(&s)),
            "The audit log or spool could not be read.",
        ),
    }
}

pub async fn quarantine(State(c): St, SignedIn(s): SignedIn) -> Response {
    let c2 = c.clone();
    let Ok(Ok(messages)) = tokio::task::spawn_blocking(move || held(&c2)).await else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(Nav::of(&s)),
            "The spool could not be read.",
        );
    };
    let rows = messages
        .iter()
        .map(|m| {
            let e = &m.envelope;
            let held: Vec<usize> = (0..m.rcpts.len())
                .filter(|&i| matches!(m.rcpts[i], RcptState::Held { .. }))
                .collect();
            HeldRow {
                id: e.id.to_string(),
                received: crate::date::rfc3339(e.received_at),
                rule: crate::queue::decision(e, held[0]).rule,
                categories: e.categories.clone(),
                sender: if e.mail_from.is_empty() {
                    "<>".into()
                } else {
                    e.mail_from.clone()
                },
                recipients: held
                    .iter()
                    .map(|&i| e.rcpt_to[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    render(
        StatusCode::OK,
        QuarantinePage {
            nav: Some(Nav::of(&s)),
            rows,
        },
    )
}

pub async fn message(State(c): St, SignedIn(s): SignedIn, Path(id): Path<String>) -> Response {
    let nav = || Some(Nav::of(&s));
    let Ok(qid) = id.parse::<QueueId>() else {
        return error(StatusCode::NOT_FOUND, nav(), "No such message.");
    };
    let c2 = c.clone();
    let Ok(Ok(messages)) = tokio::task::spawn_blocking(move || held(&c2)).await else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            nav(),
            "The spool could not be read.",
        );
    };
    let Some(m) = messages.into_iter().find(|m| m.envelope.id == qid) else {
        return error(StatusCode::NOT_FOUND, nav(), "No held message has this ID.");
    };
    let Ok((_, body)) = c.spool.read(qid).await else {
        return error(StatusCode::NOT_FOUND, nav(), "The message is gone.");
    };
    // The findings again, from the message as stored: what the detectors
    // see, values masked by them.
    let engine = (c.live)().engine.clone();
    let findings = tokio::task::spawn_blocking(move || {
        let report = engine.scan(&body);
        shown(&engine, &report)
    })
    .await
    .unwrap_or_default();
    let e = &m.envelope;
    let recipients = (0..e.rcpt_to.len())
        .map(|i| {
            let d = crate::queue::decision(e, i);
            (
                e.rcpt_to[i].clone(),
                m.actions[i].unwrap_or(d.action).to_string(),
                d.rule,
                crate::queue::describe(&m.rcpts[i]),
            )
        })
        .collect();
    render(
        StatusCode::OK,
        MessagePage {
            nav: nav(),
            id: e.id.to_string(),
            received: crate::date::rfc3339(e.received_at),
            client_ip: e.client_ip.to_string(),
            sender: e.mail_from.clone(),
            categories: e.categories.clone(),
            recipients,
            findings,
        },
    )
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn release(
    state: St,
    peer: axum::Extension<Peer>,
    session: SignedIn,
    id: Path<String>,
    form: Form<DecideForm>,
) -> Response {
    decide(state, peer, session, id, form, QuarantineOp::Release).await
}

pub async fn delete(
    state: St,
    peer: axum::Extension<Peer>,
    session: SignedIn,
    id: Path<String>,
    form: Form<DecideForm>,
) -> Response {
    decide(state, peer, session, id, form, QuarantineOp::Delete).await
}

/// Release or delete: an admin, the form's own token, a reason without
/// PHI (it goes into the audit log); then the queue manager does it and
/// audits it with who and why.
async fn decide(
    State(c): St,
    axum::Extension(_peer): axum::Extension<Peer>,
    SignedIn(s): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
    op: QuarantineOp,
) -> Response {
    let nav = || Some(Nav::of(&s));
    if !csrf_ok(&s, &f.csrf) {
        return error(
            StatusCode::FORBIDDEN,
            nav(),
            "This form did not come from this session.",
        );
    }
    if s.role != ConsoleRole::Admin {
        return error(
            StatusCode::FORBIDDEN,
            nav(),
            "Viewers cannot release or delete messages.",
        );
    }
    let reason = f.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            nav(),
            "Give a reason on one line, at most 200 characters.",
        );
    }
    // The reason is kept in the audit log for six years: it is inspected
    // like mail, and one that looks like PHI is refused.
    let engine = (c.live)().engine.clone();
    let probe = format!("\r\n{reason}\r\n").into_bytes();
    let phi =
        tokio::task::spawn_blocking(move || crate::intake::Content::scan(&engine, probe).phi())
            .await
            .unwrap_or(true);
    if phi {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            nav(),
            "The reason looks like it holds PHI; describe it without patient details.",
        );
    }
    let Ok(qid) = id.parse::<QueueId>() else {
        return error(StatusCode::NOT_FOUND, nav(), "No such message.");
    };
    let by = format!("console:{}", s.user);
    match c.queue.quarantine(qid, op, &by, Some(reason)).await {
        Ok(rcpts) => {
            let what = match op {
                QuarantineOp::Release => "Released",
                QuarantineOp::Delete => "Deleted",
            };
            render(
                StatusCode::OK,
                DonePage {
                    nav: nav(),
                    title: format!("{what} {qid}"),
                    message: format!("{what} for {}.", rcpts.join(", ")),
                },
            )
        }
        Err(e) => error(StatusCode::CONFLICT, nav(), e.to_string()),
    }
}

pub async fn audit(
    State(c): St,
    axum::Extension(peer): axum::Extension<Peer>,
    SignedIn(s): SignedIn,
    Query(f): Query<AuditFilters>,
) -> Response {
    let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let day = |v: &str, name: &str| match some(v) {
        None => Ok(None),
        Some(d) => crate::date::parse(&d)
            .map(Some)
            .ok_or_else(|| format!("{name}: `{d}` is not a date (YYYY-MM-DD)")),
    };
    let searched = [
        &f.id,
        &f.sender,
        &f.recipient,
        &f.category,
        &f.action,
        &f.since,
        &f.until,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let (since, until) = match (day(&f.since, "since"), day(&f.until, "until")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return render(
                StatusCode::BAD_REQUEST,
                AuditPage {
                    nav: Some(Nav::of(&s)),
                    f,
                    error: Some(e),
                    trails: Vec::new(),
                    truncated: false,
                },
            );
        }
    };
    let q = crate::audit::search::Query {
        queue_id: some(&f.id),
        sender: some(&f.sender),
        recipient: some(&f.recipient),
        category: some(&f.category),
        action: some(&f.action),
        since,
        until,
    };
    let mut trails = Vec::new();
    if searched {
        // Which filters, not their values (an address is a person's).
        let used: Vec<&str> = [
            ("id", &q.queue_id),
            ("sender", &q.sender),
            ("recipient", &q.recipient),
            ("category", &q.category),
            ("action", &q.action),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
        if !record(
            &c,
            Some(&s.user),
            peer,
            "audit_search",
            Some(used.join(",")),
        )
        .await
        {
            return unaudited();
        }
        let dir = (c.live)().config.audit.dir.clone();
        match tokio::task::spawn_blocking(move || crate::audit::search::search(&dir, &q)).await {
            Ok(Ok(t)) => trails = t,
            _ => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some(Nav::of(&s)),
                    "The audit log could not be read.",
                );
            }
        }
    }
    const SHOWN: usize = 500;
    let truncated = trails.len() > SHOWN;
    if truncated {
        trails.drain(..trails.len() - SHOWN);
    }
    render(
        StatusCode::OK,
        AuditPage {
            nav: Some(Nav::of(&s)),
            f,
            error: None,
            trails,
            truncated,
        },
    )
}

pub async fn rule_test_page(SignedIn(s): SignedIn) -> Response {
    render(
        StatusCode::OK,
        TestPage {
            nav: Some(Nav::of(&s)),
            sender: String::new(),
            recipients: String::new(),
            verdict: None,
            decisions: Vec::new(),
            findings: Vec::new(),
        },
    )
}

/// The rule test's form: pasted text or an uploaded file.
#[derive(Default)]
struct TestForm {
    csrf: String,
    sender: String,
    recipients: String,
    authenticated: bool,
    message: Vec<u8>,
}

impl TestForm {
    /// Reads the multipart form; a file, when one was chosen, is the
    /// message, else the text box.
    async fn read(mut m: axum::extract::Multipart) -> Option<TestForm> {
        let mut f = TestForm::default();
        let mut file = Vec::new();
        while let Ok(Some(field)) = m.next_field().await {
            let name = field.name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.ok()?;
            let text = || String::from_utf8_lossy(&bytes).into_owned();
            match name.as_str() {
                "csrf" => f.csrf = text(),
                "sender" => f.sender = text(),
                "recipients" => f.recipients = text(),
                "authenticated" => f.authenticated = true,
                "message" => f.message = bytes.to_vec(),
                "file" => file = bytes.to_vec(),
                _ => {}
            }
        }
        if !file.is_empty() {
            f.message = file;
        }
        Some(f)
    }
}

/// The running policy over a pasted or uploaded message: the relay's own
/// stage (the same detectors, the same facts), nothing spooled or sent.
pub async fn rule_test(
    State(c): St,
    axum::Extension(peer): axum::Extension<Peer>,
    SignedIn(s): SignedIn,
    form: axum::extract::Multipart,
) -> Response {
    let Some(f) = TestForm::read(form).await else {
        return error(
            StatusCode::BAD_REQUEST,
            Some(Nav::of(&s)),
            "The form could not be read.",
        );
    };
    if !csrf_ok(&s, &f.csrf) {
        return error(
            StatusCode::FORBIDDEN,
            Some(Nav::of(&s)),
            "This form did not come from this session.",
        );
    }
    let live = (c.live)();
    // A textarea sends CRLF, a file may have bare LF; SMTP's lines are
    // CRLF. A file with CRs is taken as it is.
    let raw = if f.message.contains(&b'\r') {
        f.message
    } else {
        let mut v = Vec::with_capacity(f.message.len() + f.message.len() / 32);
        for &b in &f.message {
            if b == b'\n' {
                v.push(b'\r');
            }
            v.push(b);
        }
        v
    };
    let rcpts: Vec<String> = f
        .recipients
        .split([',', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    let (sender, authenticated) = (f.sender.trim().to_string(), f.authenticated);
    let rcpts2 = rcpts.clone();
    let result = tokio::task::spawn_blocking(move || {
        let (engine, policy) = (&live.engine, &live.policy);
        let content = crate::intake::Content::scan(engine, raw);
        let origin = crate::intake::Sender {
            address: &sender,
            client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            authenticated,
            inbound_tls: true,
        };
        let decisions = content.decide(policy, &origin, &rcpts2);
        let verdict = if content.report().phi {
            format!("PHI: {}", content.categories().join(", "))
        } else if content.report().uninspectable {
            "Not clean: part of it could not be inspected".to_string()
        } else {
            "No PHI found".to_string()
        };
        (verdict, decisions, shown(engine, content.report()))
    })
    .await;
    let Ok((verdict, decisions, findings)) = result else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(Nav::of(&s)),
            "The detectors failed on this message.",
        );
    };
    if !record(&c, Some(&s.user), peer, "rule_test", Some(verdict.clone())).await {
        return unaudited();
    }
    render(
        StatusCode::OK,
        TestPage {
            nav: Some(Nav::of(&s)),
            sender: f.sender,
            recipients: f.recipients,
            verdict: Some(verdict),
            decisions: rcpts
                .into_iter()
                .zip(decisions)
                .map(|(r, d)| (r, d.action.to_string(), d.rule))
                .collect(),
            findings,
        },
    )
}

pub async fn report(
    State(c): St,
    axum::Extension(peer): axum::Extension<Peer>,
    SignedIn(s): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let month = q
        .get("month")
        .map(|m| m.trim().to_string())
        .unwrap_or_default();
    if !crate::report::build::valid_month(&month) {
        return error(
            StatusCode::BAD_REQUEST,
            Some(Nav::of(&s)),
            "The month is YYYY-MM.",
        );
    }
    if !record(&c, Some(&s.user), peer, "report", Some(month.clone())).await {
        return unaudited();
    }
    let cfg = (c.live)().config.clone();
    match tokio::task::spawn_blocking(move || crate::report::build::build(&cfg, &month)).await {
        Ok(Ok((html, _, _))) => {
            c.metrics.reports_built_total.inc();
            Html(html).into_response()
        }
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(Nav::of(&s)),
            "The report could not be built.",
        ),
    }
}

pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
        .into_response()
}

pub async fn not_found(State(c): St, headers: HeaderMap) -> Response {
    let nav = signed_in(&c, &headers).map(|s| Nav::of(&s));
    error(StatusCode::NOT_FOUND, nav, "There is no such page.")
}
