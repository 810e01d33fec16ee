//! SMTP replies: a code, an enhanced status code and text lines.

use std::fmt::Write;

/// One server reply, possibly multi-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// A reply with one line of text. `text` should start with the enhanced
    /// status code (`2.0.0 Ok`) where one applies.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply (EHLO, HELP).
    pub fn multi(code: u16, lines: Vec<String>) -> Self {
        debug_assert!(!lines.is_empty());
        Reply { code, lines }
    }

    /// The three-digit code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// Whether the reply is 2xx or 3xx.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Appends the wire form (`250-...` lines then `250 ...`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut s = String::new();
        let last = self.lines.len() - 1;
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            // Replies never carry a CR or LF of their own: text that came from
            // a client is stripped of them before it reaches a reply.
            let clean: String = line.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let _ = write!(s, "{}{}{}\r\n", self.code, sep, clean);
        }
        out.extend_from_slice(s.as_bytes());
    }
}

/// The replies the session uses more than once.
pub mod common {
    use super::Reply;

    /// 250 2.0.0 Ok
    pub fn ok() -> Reply {
        Reply::new(250, "2.0.0 Ok")
    }
    /// 503 for a command that is valid but not now.
    pub fn bad_sequence(what: &str) -> Reply {
        Reply::new(503, format!("5.5.1 Bad sequence of commands: {what}"))
    }
    /// 501 for a syntax error in parameters.
    pub fn syntax(what: &str) -> Reply {
        Reply::new(501, format!("5.5.4 Syntax error: {what}"))
    }
    /// 421 before closing for a shutdown.
    pub fn shutting_down(host: &str) -> Reply {
        Reply::new(
            421,
            format!("4.3.2 {host} Service shutting down, try again later"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_wire_form() {
        let mut out = Vec::new();
        Reply::multi(
            250,
            vec!["a.example".into(), "PIPELINING".into(), "SIZE 10".into()],
        )
        .write_to(&mut out);
        assert_eq!(out, b"250-a.example\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
    }

    #[test]
    fn client_text_cannot_inject_lines() {
        let mut out = Vec::new();
        Reply::new(250, "2.0.0 hi\r\n250 fake").write_to(&mut out);
        assert_eq!(out, b"250 2.0.0 hi250 fake\r\n");
    }
}
