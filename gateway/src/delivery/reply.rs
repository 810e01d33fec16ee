//! Replies from the servers we deliver to, without I/O: lines in, a reply
//! (code and text) out, every bound checked here so that a hostile server
//! cannot make us hold more than a reply's worth of memory. The text stays
//! in memory for the one attempt; what is kept or shown is [`summary`]:
//! the code and the enhanced status code, never the server's words (a
//! server may quote the message or an address back).

/// Longest reply line taken from a server (RFC 5321 allows 512 octets).
pub const MAX_LINE: usize = 4096;
/// Longest reply, all continuation lines together.
pub const MAX_REPLY: usize = 64 * 1024;

/// A complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Three-digit code, 200..=599.
    pub code: u16,
    /// The text of every line, joined by spaces.
    pub text: String,
}

impl Reply {
    /// What may be kept of the reply: see [`summary`].
    pub fn summary(&self) -> String {
        summary(self.code, &self.text)
    }
}

/// Why a reply was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A line does not start with a code from 200 to 599.
    #[error("malformed reply from the server")]
    Malformed,
    /// The reply's lines add up to more than [`MAX_REPLY`].
    #[error("reply too long")]
    TooLong,
}

/// Builds one reply from its lines.
#[derive(Debug, Default)]
pub struct Lines {
    text: String,
    total: usize,
}

impl Lines {
    /// Takes one line (with or without its line break); the reply when it
    /// was the last line (no `-` after the code).
    pub fn push(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        self.total += line.len();
        if self.total > MAX_REPLY {
            return Err(ReplyError::TooLong);
        }
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end();
        let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code.filter(|c| (200..600).contains(c)) else {
            return Err(ReplyError::Malformed);
        };
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(line.get(4..).unwrap_or(""));
        if line.as_bytes().get(3) == Some(&b'-') {
            return Ok(None);
        }
        Ok(Some(Reply {
            code,
            text: std::mem::take(&mut self.text),
        }))
    }
}

/// `550 5.1.1`, or `550` when the text does not start with an enhanced
/// status code (RFC 3463: class.subject.detail, each 1-3 digits).
pub fn summary(code: u16, text: &str) -> String {
    use crate::smtp::status::enhanced;
    match enhanced(text) {
        Some(e) => format!("{code} {e}"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_make_replies() {
        let mut l = Lines::default();
        assert_eq!(l.push(b"250-mx.example\r\n"), Ok(None));
        assert_eq!(l.push(b"250-SIZE 100\r\n"), Ok(None));
        assert_eq!(
            l.push(b"250 STARTTLS\r\n"),
            Ok(Some(Reply {
                code: 250,
                text: "mx.example SIZE 100 STARTTLS".into()
            }))
        );
        assert_eq!(Lines::default().push(b"hello"), Err(ReplyError::Malformed));
        assert_eq!(Lines::default().push(b"199 x"), Err(ReplyError::Malformed));
        let mut l = Lines::default();
        let long = vec![b'x'; 4000];
        let mut last = Ok(None);
        for _ in 0..20 {
            let mut line = b"250-".to_vec();
            line.extend_from_slice(&long);
            last = l.push(&line);
            if last.is_err() {
                break;
            }
        }
        assert_eq!(last, Err(ReplyError::TooLong));
    }

    #[test]
    fn summaries_keep_codes_only() {
        assert_eq!(
            summary(550, "5.1.1 <x@y> Patient: Ann Lee SSN 135-14-4832"),
            "550 5.1.1"
        );
        assert_eq!(summary(550, "no such user 135-14-4832"), "550");
        assert_eq!(summary(451, "4.7.0 try later"), "451 4.7.0");
        assert_eq!(summary(250, "1.2.3 weird"), "250");
    }
}
