//! SMTP command lines: framing ("need more bytes") and parsing into [`Command`].

use std::fmt;

/// Why a command line could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// The verb is not one we know.
    #[error("5.5.2 Command unrecognized")]
    UnknownCommand,
    /// The verb is known but its arguments are malformed.
    #[error("5.5.4 Syntax error in parameters: {0}")]
    Parameters(&'static str),
    /// A parameter we do not support (RFC 5321 4.1.1.11: 555).
    #[error("5.5.4 Unsupported parameter")]
    UnsupportedParameter,
    /// The address is malformed.
    #[error("5.1.3 Bad address syntax")]
    Address,
    /// The line is not valid UTF-8 where text is required.
    #[error("5.6.7 Non-UTF-8 text in command")]
    Encoding,
}

impl SyntaxError {
    /// The SMTP reply code for this error.
    pub fn code(&self) -> u16 {
        match self {
            SyntaxError::UnknownCommand => 500,
            SyntaxError::UnsupportedParameter => 555,
            SyntaxError::Address => 553,
            _ => 501,
        }
    }
}

/// Result of looking for a command line in buffered input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line of `len` bytes (terminator included); the text excludes it.
    Complete {
        /// Bytes to consume from the buffer.
        len: usize,
    },
    /// No line terminator yet; read more.
    Incomplete,
    /// More than the limit without a terminator.
    TooLong,
}

/// Finds the end of the first line in `buf`. Command lines end in CRLF; a
/// bare LF is tolerated here (as Postfix does) because a command line has no
/// end-of-data ambiguity, unlike message content, where only CRLF counts.
pub fn find_line(buf: &[u8], max: usize) -> Line {
    match memchr::memchr(b'\n', buf) {
        Some(i) if i < max => Line::Complete { len: i + 1 },
        Some(_) => Line::TooLong,
        None if buf.len() >= max => Line::TooLong,
        None => Line::Incomplete,
    }
}

/// Strips the line terminator.
pub fn line_text(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A mailbox address as given in MAIL or RCPT, without the angle brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    /// The address text, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
    /// Whether any character is outside ASCII (needs SMTPUTF8).
    pub fn is_utf8(&self) -> bool {
        !self.0.is_ascii()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The body type a client declares with `BODY=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyType {
    /// 7-bit text (the default).
    #[default]
    SevenBit,
    /// 8BITMIME (RFC 6152).
    EightBitMime,
}

/// Parameters of MAIL FROM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=` (RFC 1870).
    pub size: Option<u64>,
    /// `BODY=` (RFC 6152).
    pub body: BodyType,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `REQUIRETLS` (RFC 8689): every hop must be verified TLS.
    pub requiretls: bool,
}

/// SASL mechanisms we offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanism {
    /// RFC 4616.
    Plain,
    /// The widespread LOGIN mechanism.
    Login,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// EHLO domain
    Ehlo(String),
    /// HELO domain
    Helo(String),
    /// MAIL FROM:<path> params; `None` is the null reverse-path `<>`.
    Mail(Option<Address>, MailParams),
    /// RCPT TO:<path>
    Rcpt(Address),
    /// DATA
    Data,
    /// BDAT size [LAST] (RFC 3030)
    Bdat {
        /// Octets that follow the command line.
        size: u64,
        /// Whether this is the last chunk.
        last: bool,
    },
    /// RSET
    Rset,
    /// NOOP
    Noop,
    /// QUIT
    Quit,
    /// HELP [topic]
    Help,
    /// VRFY, refused.
    Vrfy,
    /// EXPN, refused.
    Expn,
    /// STARTTLS (RFC 3207)
    StartTls,
    /// AUTH mechanism [initial-response] (RFC 4954)
    Auth(AuthMechanism, Option<String>),
}

impl Command {
    /// Parses one command line (terminator already stripped).
    pub fn parse(line: &[u8]) -> Result<Command, SyntaxError> {
        let text = std::str::from_utf8(line).map_err(|_| SyntaxError::Encoding)?;
        let (verb, rest) = match text.find(' ') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        let no_args = |c: Command| {
            if rest.trim().is_empty() {
                Ok(c)
            } else {
                Err(SyntaxError::Parameters("this command takes no arguments"))
            }
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => Ok(Command::Ehlo(domain_arg(rest)?)),
            "HELO" => Ok(Command::Helo(domain_arg(rest)?)),
            "MAIL" => parse_mail(rest),
            "RCPT" => parse_rcpt(rest),
            "DATA" => no_args(Command::Data),
            "BDAT" => parse_bdat(rest),
            "RSET" => no_args(Command::Rset),
            // NOOP and HELP may carry a string that is ignored.
            "NOOP" => Ok(Command::Noop),
            "HELP" => Ok(Command::Help),
            "QUIT" => no_args(Command::Quit),
            "VRFY" => Ok(Command::Vrfy),
            "EXPN" => Ok(Command::Expn),
            "STARTTLS" => no_args(Command::StartTls),
            "AUTH" => parse_auth(rest),
            _ => Err(SyntaxError::UnknownCommand),
        }
    }
}

fn domain_arg(rest: &str) -> Result<String, SyntaxError> {
    let d = rest.trim();
    if d.is_empty() || d.contains(char::is_whitespace) || d.chars().any(|c| c.is_control()) {
        return Err(SyntaxError::Parameters(
            "a domain or address literal is required",
        ));
    }
    Ok(d.to_owned())
}

/// Splits `FROM:<path> params` into the path text and the parameters.
fn path_and_params<'a>(rest: &'a str, keyword: &str) -> Result<(&'a str, &'a str), SyntaxError> {
    let head = rest
        .get(..keyword.len())
        .filter(|h| h.eq_ignore_ascii_case(keyword))
        .ok_or(SyntaxError::Parameters(
            "expected FROM:<address> or TO:<address>",
        ))?;
    // Some clients put a space after the colon; RFC 5321 does not, but it is harmless.
    let after = rest[head.len()..].trim_start();
    if !after.starts_with('<') {
        return Err(SyntaxError::Address);
    }
    let close = after.find('>').ok_or(SyntaxError::Address)?;
    Ok((&after[1..close], after[close + 1..].trim()))
}

fn parse_mail(rest: &str) -> Result<Command, SyntaxError> {
    let (path, params) = path_and_params(rest, "FROM:")?;
    let addr = if path.is_empty() {
        None
    } else {
        Some(parse_address(path)?)
    };
    let mut p = MailParams::default();
    for param in params.split_ascii_whitespace() {
        let (k, v) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (k.to_ascii_uppercase().as_str(), v) {
            ("SIZE", Some(v)) => {
                p.size = Some(v.parse().map_err(|_| SyntaxError::Parameters("bad SIZE"))?)
            }
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => p.body = BodyType::SevenBit,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => {
                p.body = BodyType::EightBitMime
            }
            ("SMTPUTF8", None) => p.smtputf8 = true,
            ("REQUIRETLS", None) => p.requiretls = true,
            // AUTH=<> or AUTH=addr (RFC 4954 5): accepted, not relied upon.
            ("AUTH", Some(_)) => {}
            _ => return Err(SyntaxError::UnsupportedParameter),
        }
    }
    if addr.as_ref().is_some_and(Address::is_utf8) && !p.smtputf8 {
        return Err(SyntaxError::Address);
    }
    Ok(Command::Mail(addr, p))
}

fn parse_rcpt(rest: &str) -> Result<Command, SyntaxError> {
    let (path, params) = path_and_params(rest, "TO:")?;
    if !params.is_empty() {
        return Err(SyntaxError::UnsupportedParameter);
    }
    // `<Postmaster>` without a domain is allowed by RFC 5321 4.5.1, but a relay
    // has no local postmaster to give it to: it needs a domain like any other.
    Ok(Command::Rcpt(parse_address(path)?))
}

fn parse_bdat(rest: &str) -> Result<Command, SyntaxError> {
    let mut it = rest.split_ascii_whitespace();
    let size = it
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(SyntaxError::Parameters("BDAT needs a chunk size"))?;
    let last = match it.next() {
        None => false,
        Some(l) if l.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(SyntaxError::Parameters("expected LAST")),
    };
    if it.next().is_some() {
        return Err(SyntaxError::Parameters("too many arguments"));
    }
    Ok(Command::Bdat { size, last })
}

fn parse_auth(rest: &str) -> Result<Command, SyntaxError> {
    let mut it = rest.split_ascii_whitespace();
    let mech = match it.next().map(|m| m.to_ascii_uppercase()) {
        Some(m) if m == "PLAIN" => AuthMechanism::Plain,
        Some(m) if m == "LOGIN" => AuthMechanism::Login,
        Some(_) => return Err(SyntaxError::Parameters("unsupported mechanism")),
        None => return Err(SyntaxError::Parameters("AUTH needs a mechanism")),
    };
    let initial = it.next().map(str::to_owned);
    if it.next().is_some() {
        return Err(SyntaxError::Parameters("too many arguments"));
    }
    Ok(Command::Auth(mech, initial))
}

/// Checks `local@domain` (RFC 5321 4.1.2, RFC 6531 for UTF-8); a source
/// route (`@a,@b:`) is accepted and dropped, as RFC 5321 C says.
pub fn parse_address(path: &str) -> Result<Address, SyntaxError> {
    let path = match path.find(':') {
        Some(i) if path.starts_with('@') => &path[i + 1..],
        _ => path,
    };
    let at = path.rfind('@').ok_or(SyntaxError::Address)?;
    let (local, domain) = (&path[..at], &path[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.is_empty() || path.len() > 254 {
        return Err(SyntaxError::Address);
    }
    let local_ok = if let Some(q) = local.strip_prefix('"') {
        q.strip_suffix('"')
            .is_some_and(|inner| !inner.chars().any(|c| c.is_control()))
    } else {
        !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii()
            })
    };
    let domain_ok = if let Some(lit) = domain.strip_prefix('[') {
        lit.strip_suffix(']').is_some_and(|l| {
            l.parse::<std::net::Ipv4Addr>().is_ok()
                || l.strip_prefix("IPv6:")
                    .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok())
        })
    } else {
        domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
    };
    if local_ok && domain_ok {
        Ok(Address(path.to_owned()))
    } else {
        Err(SyntaxError::Address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, SyntaxError> {
        Command::parse(s.as_bytes())
    }
    fn addr(s: &str) -> Address {
        parse_address(s).unwrap()
    }

    #[test]
    fn table() {
        let cases: Vec<(&str, Result<Command, SyntaxError>)> = vec![
            (
                "EHLO client.example",
                Ok(Command::Ehlo("client.example".into())),
            ),
            ("ehlo [127.0.0.1]", Ok(Command::Ehlo("[127.0.0.1]".into()))),
            (
                "EHLO",
                Err(SyntaxError::Parameters(
                    "a domain or address literal is required",
                )),
            ),
            ("HELO a.example", Ok(Command::Helo("a.example".into()))),
            (
                "MAIL FROM:<a@b.example>",
                Ok(Command::Mail(
                    Some(addr("a@b.example")),
                    MailParams::default(),
                )),
            ),
            (
                "MAIL FROM:<>",
                Ok(Command::Mail(None, MailParams::default())),
            ),
            (
                "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME",
                Ok(Command::Mail(
                    Some(addr("a@b.example")),
                    MailParams {
                        size: Some(1000),
                        body: BodyType::EightBitMime,
                        smtputf8: false,
                        requiretls: false,
                    },
                )),
            ),
            (
                "MAIL FROM:<a@b.example> RET=FULL",
                Err(SyntaxError::UnsupportedParameter),
            ),
            ("MAIL FROM:<ü@b.example>", Err(SyntaxError::Address)),
            (
                "MAIL FROM:<ü@b.example> SMTPUTF8",
                Ok(Command::Mail(
                    Some(addr("ü@b.example")),
                    MailParams {
                        smtputf8: true,
                        ..Default::default()
                    },
                )),
            ),
            ("MAIL FROM:a@b.example", Err(SyntaxError::Address)),
            (
                "MAIL TO:<a@b.example>",
                Err(SyntaxError::Parameters(
                    "expected FROM:<address> or TO:<address>",
                )),
            ),
            (
                "RCPT TO:<x@y.example>",
                Ok(Command::Rcpt(addr("x@y.example"))),
            ),
            (
                "rcpt to: <x@y.example>",
                Ok(Command::Rcpt(addr("x@y.example"))),
            ),
            (
                "RCPT TO:<@relay.example:x@y.example>",
                Ok(Command::Rcpt(addr("x@y.example"))),
            ),
            ("RCPT TO:<x@>", Err(SyntaxError::Address)),
            ("RCPT TO:<x..y@a.example>", Err(SyntaxError::Address)),
            (
                "RCPT TO:<x@[127.0.0.1]>",
                Ok(Command::Rcpt(addr("x@[127.0.0.1]"))),
            ),
            ("DATA", Ok(Command::Data)),
            (
                "DATA x",
                Err(SyntaxError::Parameters("this command takes no arguments")),
            ),
            (
                "BDAT 100",
                Ok(Command::Bdat {
                    size: 100,
                    last: false,
                }),
            ),
            (
                "BDAT 0 LAST",
                Ok(Command::Bdat {
                    size: 0,
                    last: true,
                }),
            ),
            (
                "BDAT x",
                Err(SyntaxError::Parameters("BDAT needs a chunk size")),
            ),
            ("RSET", Ok(Command::Rset)),
            ("NOOP anything", Ok(Command::Noop)),
            ("QUIT", Ok(Command::Quit)),
            ("HELP", Ok(Command::Help)),
            ("VRFY root", Ok(Command::Vrfy)),
            ("EXPN staff", Ok(Command::Expn)),
            ("STARTTLS", Ok(Command::StartTls)),
            (
                "AUTH PLAIN AGEAYg==",
                Ok(Command::Auth(AuthMechanism::Plain, Some("AGEAYg==".into()))),
            ),
            ("AUTH LOGIN", Ok(Command::Auth(AuthMechanism::Login, None))),
            (
                "AUTH CRAM-MD5",
                Err(SyntaxError::Parameters("unsupported mechanism")),
            ),
            ("FOO", Err(SyntaxError::UnknownCommand)),
        ];
        for (line, want) in cases {
            assert_eq!(p(line), want, "{line}");
        }
    }

    #[test]
    fn framing() {
        assert_eq!(
            find_line(b"EHLO a\r\nQUIT\r\n", 512),
            Line::Complete { len: 8 }
        );
        assert_eq!(find_line(b"EHLO a", 512), Line::Incomplete);
        assert_eq!(find_line(&[b'a'; 600], 512), Line::TooLong);
        assert_eq!(line_text(b"QUIT\r\n"), b"QUIT");
        assert_eq!(line_text(b"QUIT\n"), b"QUIT");
    }

    #[test]
    fn non_utf8_is_an_error_not_a_panic() {
        assert_eq!(Command::parse(b"EHLO \xff\xfe"), Err(SyntaxError::Encoding));
    }
}
