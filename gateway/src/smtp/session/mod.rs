//! The SMTP session as a state machine: (state, command) -> replies + action.
//!
//! No I/O happens here. The connection feeds commands and the results of the
//! work it was asked to do (read message data, complete a TLS handshake, check
//! a password), and writes the replies it gets back. Each state carries
//! exactly the data valid in it, so "RCPT before MAIL" or "DATA with no
//! recipients" are states that cannot be built, only commands that get 503.

mod auth;
mod chunking;

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use auth::LoginStep;
pub use auth::{AuthOutcome, Credential};

use super::command::{Address, AuthMechanism, Command, MailParams, SyntaxError};
use super::data::{DataError, check_content};
use super::reply::{Reply, common};

/// The parts of the configuration a session consults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Our host name.
    pub hostname: String,
    /// Largest message accepted.
    pub max_message_size: u64,
    /// Recipients per transaction.
    pub max_recipients: usize,
    /// Protocol errors before the session is closed.
    pub max_errors: u32,
    /// Whether STARTTLS can be offered.
    pub tls_available: bool,
    /// Whether any AUTH user is configured.
    pub auth_available: bool,
    /// `Received:` headers beyond this are a mail loop.
    pub max_hops: usize,
    /// The practice's own domains: a client allowed to relay only by its
    /// certificate (a provider's shared connector certificate) may relay
    /// only mail from these, when any are set.
    pub local_domains: Vec<String>,
}

/// What we know of the client, which grows as the session goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Client address.
    pub client_ip: IpAddr,
    /// Whether the client's network may relay without AUTH.
    pub relay_network: bool,
    /// Negotiated TLS, once STARTTLS completed.
    pub tls: Option<TlsInfo>,
    /// Authenticated user name, once AUTH succeeded.
    pub auth_user: Option<String>,
}

/// What the inbound TLS handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsInfo {
    /// e.g. `TLSv1_3`
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`
    pub cipher: String,
    /// The client certificate name that lets this client relay (a Microsoft
    /// 365 or Google Workspace connector), when it presented one that
    /// verified and matched `server.relay_client_names`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_client: Option<String>,
}

/// How the client introduced itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helo {
    /// The name given.
    pub name: String,
    /// EHLO (extended) or HELO.
    pub extended: bool,
}

/// A mail transaction being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Reverse-path; `None` is the null sender.
    pub from: Option<Address>,
    /// MAIL parameters.
    pub params: MailParams,
    /// Accepted recipients.
    pub rcpts: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Before EHLO/HELO.
    Fresh,
    /// Greeted, no transaction.
    Ready(Helo),
    /// MAIL accepted; recipients may still be empty.
    Mail(Helo, Transaction),
    /// DATA accepted, content being read.
    Data(Helo, Transaction),
    /// Between BDAT chunks; `bytes` received so far.
    Bdat(Helo, Transaction, u64),
    /// AUTH PLAIN waiting for its response line.
    AuthPlain(Helo),
    /// AUTH LOGIN waiting for a line.
    AuthLogin(Helo, LoginStep),
    /// A credential is being checked.
    Authenticating(Helo),
    /// TLS handshake under way.
    Handshaking,
    /// QUIT or a fatal error: nothing more is read.
    Closed,
}

impl State {
    fn helo(&self) -> Option<&Helo> {
        match self {
            State::Ready(h)
            | State::Mail(h, _)
            | State::Data(h, _)
            | State::Bdat(h, _, _)
            | State::AuthPlain(h)
            | State::AuthLogin(h, _)
            | State::Authenticating(h) => Some(h),
            State::Fresh | State::Handshaking | State::Closed => None,
        }
    }
}

/// What the connection must do after writing the replies.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the next command.
    Continue,
    /// Discard buffered input and run the TLS handshake, then call
    /// [`Session::tls_established`].
    StartTls,
    /// Read message content with a [`super::DataReader`], then call
    /// [`Session::data_done`].
    ReadData,
    /// Read exactly `size` bytes of BDAT content, then call
    /// [`Session::chunk_done`]; with `keep` false the bytes are discarded
    /// (the message has grown past the size limit).
    ReadChunk {
        /// Octets to read.
        size: u64,
        /// Whether this is the last chunk.
        last: bool,
        /// Whether they belong to the message.
        keep: bool,
    },
    /// Read and drop `size` bytes of a BDAT chunk sent out of sequence
    /// (RFC 3030 says they must still be consumed), then send `then`.
    DiscardChunk {
        /// Octets to read.
        size: u64,
        /// The reply to send after them.
        then: Reply,
    },
    /// Check the credential, then call [`Session::auth_checked`].
    Authenticate(Credential),
    /// Close the connection.
    Close,
}

/// Replies to send and what to do next.
#[derive(Debug)]
pub struct Step {
    /// Replies, in order.
    pub replies: Vec<Reply>,
    /// The next thing to do.
    pub action: Action,
}

impl Step {
    fn reply(r: Reply) -> Step {
        Step {
            replies: vec![r],
            action: Action::Continue,
        }
    }
    fn then(r: Reply, action: Action) -> Step {
        Step {
            replies: vec![r],
            action,
        }
    }
    fn then_only(action: Action) -> Step {
        Step {
            replies: Vec::new(),
            action,
        }
    }
}

/// The result of reading message content.
#[derive(Debug)]
pub enum Content {
    /// A complete message to spool.
    Accepted(Accepted),
    /// Replies to send instead (a refusal, or 250 for a non-final chunk).
    Replied(Step),
}

/// A finished message, ready for intake: the only way to get one is
/// through a complete, valid transaction (its fields are private to this
/// module, so nothing else can make one).
#[derive(Debug)]
pub struct Accepted {
    /// How the client introduced itself.
    helo: Helo,
    /// Sender, recipients and parameters.
    transaction: Transaction,
    /// The content, dot-unstuffed, with CRLF line endings only.
    body: Vec<u8>,
}

impl Accepted {
    /// How the client introduced itself.
    pub fn helo(&self) -> &Helo {
        &self.helo
    }

    /// Sender, recipients and parameters.
    pub fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    /// The content, dot-unstuffed, with CRLF line endings only.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the message apart (for intake, which moves the content to the
    /// inspection thread and back without copying it).
    pub fn into_parts(self) -> (Helo, Transaction, Vec<u8>) {
        (self.helo, self.transaction, self.body)
    }
}

/// One SMTP session.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    facts: Facts,
    state: State,
    errors: u32,
}

impl Session {
    /// A new session for a client.
    pub fn new(limits: Limits, client_ip: IpAddr, relay_network: bool) -> Self {
        Session {
            limits,
            facts: Facts {
                client_ip,
                relay_network,
                tls: None,
                auth_user: None,
            },
            state: State::Fresh,
            errors: 0,
        }
    }

    /// What we know of the client.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The 220 greeting.
    pub fn greeting(&self) -> Reply {
        Reply::new(220, format!("{} ESMTP phigate", self.limits.hostname))
    }

    /// Whether the next line is an AUTH continuation rather than a command.
    pub fn wants_auth_line(&self) -> bool {
        matches!(self.state, State::AuthPlain(_) | State::AuthLogin(..))
    }

    /// Whether a transaction is in progress (used to decide whether a
    /// shutdown may interrupt the session now).
    pub fn in_transaction(&self) -> bool {
        !matches!(self.state, State::Fresh | State::Ready(_) | State::Closed)
    }

    /// Handles one command line (terminator stripped).
    pub fn command(&mut self, line: &[u8]) -> Step {
        match Command::parse(line) {
            Ok(cmd) => self.handle(cmd),
            Err(e) => self.syntax_error(e),
        }
    }

    /// A command line longer than the limit.
    pub fn line_too_long(&mut self) -> Step {
        self.error(Reply::new(500, "5.5.2 Line too long"))
    }

    fn syntax_error(&mut self, e: SyntaxError) -> Step {
        self.error(Reply::new(e.code(), e.to_string()))
    }

    /// Counts a 5xx; past the limit the session ends with 421.
    fn error(&mut self, r: Reply) -> Step {
        self.errors += 1;
        if self.errors > self.limits.max_errors {
            self.state = State::Closed;
            return Step {
                replies: vec![
                    r,
                    Reply::new(
                        421,
                        format!("4.7.0 {} Too many errors, closing", self.limits.hostname),
                    ),
                ],
                action: Action::Close,
            };
        }
        Step::reply(r)
    }

    fn handle(&mut self, cmd: Command) -> Step {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let (next, step) = self.transition(state, cmd);
        self.state = next;
        step
    }

    fn transition(&mut self, state: State, cmd: Command) -> (State, Step) {
        use Command::*;
        match (state, cmd) {
            (_, Quit) => (
                State::Closed,
                Step::then(
                    Reply::new(
                        221,
                        format!("2.0.0 {} closing connection", self.limits.hostname),
                    ),
                    Action::Close,
                ),
            ),
            (s, Noop) => (s, Step::reply(common::ok())),
            (s, Help) => (
                s,
                Step::reply(Reply::multi(
                    214,
                    vec![
                        "2.0.0 phigate: commands are".into(),
                        "2.0.0 EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT HELP"
                            .into(),
                        "2.0.0 See RFC 5321".into(),
                    ],
                )),
            ),
            (s, Vrfy) => self.refuse(s, Reply::new(502, "5.5.1 VRFY command is disabled")),
            (s, Expn) => self.refuse(s, Reply::new(502, "5.5.1 EXPN command is disabled")),
            // Between BDAT chunks only BDAT, RSET, NOOP, HELP and QUIT make sense.
            (State::Bdat(h, tx, n), Bdat { size, last }) => {
                self.bdat(State::Bdat(h, tx, n), size, last)
            }
            (State::Bdat(h, ..), Rset) => (State::Ready(h), Step::reply(common::ok())),
            (s @ State::Bdat(..), _) => {
                self.refuse(s, common::bad_sequence("BDAT chunks expected"))
            }
            (s, Ehlo(name)) => self.ehlo(s, name, true),
            (s, Helo(name)) => self.ehlo(s, name, false),
            (State::Fresh, Rset) => (State::Fresh, Step::reply(common::ok())),
            (s, Rset) => match s.helo().cloned() {
                Some(h) => (State::Ready(h), Step::reply(common::ok())),
                None => (s, Step::reply(common::ok())),
            },
            (s, StartTls) => self.starttls(s),
            (s, Auth(mech, initial)) => self.auth(s, mech, initial),
            (State::Ready(h), Mail(from, params)) => self.mail(h, from, params),
            (s @ State::Fresh, Mail(..)) => {
                self.refuse(s, common::bad_sequence("send EHLO or HELO first"))
            }
            (s @ State::Mail(..), Mail(..)) => {
                self.refuse(s, common::bad_sequence("nested MAIL command"))
            }
            (State::Mail(h, tx), Rcpt(to)) => self.rcpt(h, tx, to),
            (s, Rcpt(_)) => self.refuse(s, common::bad_sequence("send MAIL first")),
            (State::Mail(h, tx), Data) if !tx.rcpts.is_empty() => (
                State::Data(h, tx),
                Step::then(
                    Reply::new(354, "End data with <CR><LF>.<CR><LF>"),
                    Action::ReadData,
                ),
            ),
            (s @ State::Mail(..), Data) => {
                self.refuse(s, Reply::new(554, "5.5.1 No valid recipients"))
            }
            (s, Data) => self.refuse(s, common::bad_sequence("send MAIL and RCPT first")),
            (s @ State::Mail(..), Bdat { size, last }) => self.bdat(s, size, last),
            (s, Bdat { size, .. }) => {
                let then = common::bad_sequence("send MAIL and RCPT first");
                (s, Step::then_only(Action::DiscardChunk { size, then }))
            }
            (s, Mail(..)) => self.refuse(s, common::bad_sequence("MAIL not allowed now")),
        }
    }

    fn refuse(&mut self, s: State, r: Reply) -> (State, Step) {
        let step = if r.code() >= 500 {
            self.error(r)
        } else {
            Step::reply(r)
        };
        let s = if step.action == Action::Close {
            State::Closed
        } else {
            s
        };
        (s, step)
    }

    /// EHLO/HELO from any state starts over (RFC 5321 4.1.4): an open
    /// transaction is dropped.
    fn ehlo(&mut self, _s: State, name: String, extended: bool) -> (State, Step) {
        let helo = Helo { name, extended };
        let host = &self.limits.hostname;
        if !extended {
            return (
                State::Ready(helo),
                Step::reply(Reply::new(250, host.clone())),
            );
        }
        let mut lines = vec![
            host.clone(),
            "PIPELINING".into(),
            format!("SIZE {}", self.limits.max_message_size),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            "ENHANCEDSTATUSCODES".into(),
            "CHUNKING".into(),
        ];
        if self.limits.tls_available && self.facts.tls.is_none() {
            lines.push("STARTTLS".into());
        }
        // RFC 8689 section 4.1: offered only over TLS.
        if self.facts.tls.is_some() {
            lines.push("REQUIRETLS".into());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.push("HELP".into());
        (State::Ready(helo), Step::reply(Reply::multi(250, lines)))
    }

    fn starttls(&mut self, s: State) -> (State, Step) {
        if !self.limits.tls_available {
            return self.refuse(s, Reply::new(502, "5.5.1 STARTTLS not available"));
        }
        if self.facts.tls.is_some() {
            return self.refuse(s, common::bad_sequence("TLS already active"));
        }
        match s {
            State::Ready(_) | State::Fresh => (
                State::Handshaking,
                Step::then(
                    Reply::new(220, "2.0.0 Ready to start TLS"),
                    Action::StartTls,
                ),
            ),
            s => self.refuse(s, common::bad_sequence("STARTTLS inside a transaction")),
        }
    }

    /// The handshake finished: RFC 3207 4.2 says forget everything learnt in
    /// plaintext; the client must EHLO again.
    pub fn tls_established(&mut self, info: TlsInfo) {
        self.facts.tls = Some(info);
        self.state = State::Fresh;
    }

    fn mail(&mut self, h: Helo, from: Option<Address>, params: MailParams) -> (State, Step) {
        if params
            .size
            .is_some_and(|s| s > self.limits.max_message_size)
        {
            return self.refuse(
                State::Ready(h),
                Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size"),
            );
        }
        if params.requiretls && self.facts.tls.is_none() {
            return self.refuse(
                State::Ready(h),
                Reply::new(530, "5.7.10 REQUIRETLS needs a TLS session"),
            );
        }
        let tx = Transaction {
            from,
            params,
            rcpts: Vec::new(),
        };
        (
            State::Mail(h, tx),
            Step::reply(Reply::new(250, "2.1.0 Sender ok")),
        )
    }

    fn rcpt(&mut self, h: Helo, mut tx: Transaction, to: Address) -> (State, Step) {
        let by_certificate = self
            .facts
            .tls
            .as_ref()
            .is_some_and(|t| t.relay_client.is_some());
        let trusted = self.facts.relay_network || self.facts.auth_user.is_some();
        if !(trusted || by_certificate) {
            let r = Reply::new(554, format!("5.7.1 <{to}>: Relay access denied"));
            return self.refuse(State::Mail(h, tx), r);
        }
        // A provider's connector certificate says "Microsoft 365" (or
        // Google), not which tenant: such a client relays only the
        // practice's own senders.
        if !trusted && !self.limits.local_domains.is_empty() {
            let domain = tx
                .from
                .as_ref()
                .map(|a| a.domain().to_ascii_lowercase())
                .unwrap_or_default();
            let own = self
                .limits
                .local_domains
                .iter()
                .any(|d| domain == *d || domain.ends_with(&format!(".{d}")));
            if !own {
                let r = Reply::new(
                    554,
                    format!(
                        "5.7.1 <{to}>: Relay access denied: the sender's domain is not served here"
                    ),
                );
                return self.refuse(State::Mail(h, tx), r);
            }
        }
        if to.is_utf8() && !tx.params.smtputf8 {
            let r = Reply::new(553, "5.6.7 Non-ASCII address needs SMTPUTF8 on MAIL");
            return self.refuse(State::Mail(h, tx), r);
        }
        if tx.rcpts.len() >= self.limits.max_recipients {
            let r = Reply::new(452, "4.5.3 Too many recipients");
            return (State::Mail(h, tx), Step::reply(r));
        }
        tx.rcpts.push(to);
        (
            State::Mail(h, tx),
            Step::reply(Reply::new(250, "2.1.5 Recipient ok")),
        )
    }

    /// DATA content was read.
    pub fn data_done(&mut self, result: Result<Vec<u8>, DataError>) -> Content {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let State::Data(h, tx) = state else {
            self.state = state;
            return Content::Replied(Step::reply(common::bad_sequence("no DATA in progress")));
        };
        self.state = State::Ready(h.clone());
        match result {
            Ok(body) => self.accepted(h, tx, body),
            Err(e) => Content::Replied(self.error(content_error_reply(e))),
        }
    }

    /// Complete content: a message, unless it has looped.
    fn accepted(&mut self, helo: Helo, transaction: Transaction, body: Vec<u8>) -> Content {
        let hops = super::data::hop_count(&body);
        if hops > self.limits.max_hops {
            let r = Reply::new(
                554,
                format!("5.4.6 Too many hops ({hops} Received: headers): mail loop suspected"),
            );
            return Content::Replied(self.error(r));
        }
        Content::Accepted(Accepted {
            helo,
            transaction,
            body,
        })
    }

    /// The session ends now; no more input is read.
    pub fn close(&mut self) {
        self.state = State::Closed;
    }

    /// The body type declared for the message, used for the Received: header.
    pub fn protocol(&self) -> &'static str {
        let ext = self.state.helo().is_none_or(|h| h.extended);
        match (
            ext,
            self.facts.tls.is_some(),
            self.facts.auth_user.is_some(),
        ) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        }
    }
}

/// The one place refused content becomes a reply.
fn content_error_reply(e: DataError) -> Reply {
    match e {
        DataError::TooBig => {
            Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size")
        }
        DataError::BareLineEnding => bare_line_ending_reply(),
        DataError::Nul => Reply::new(
            554,
            "5.6.0 Message refused: NUL byte in message content (RFC 5321 2.3.8, 4.5.2)",
        ),
        DataError::NoMemory => no_memory_reply(),
    }
}

fn no_memory_reply() -> Reply {
    Reply::new(
        452,
        "4.3.1 Insufficient system storage: too much mail arriving at once, try again later",
    )
}

fn bare_line_ending_reply() -> Reply {
    Reply::new(
        554,
        "5.6.0 Message refused: bare <CR> or <LF> in message content (RFC 5321 2.3.8); \
         lines must end with <CR><LF>",
    )
}
