//! The `Received:` trace header (RFC 5321 4.4) and RFC 5322 dates.

use std::net::IpAddr;

use crate::spool::QueueId;

/// What goes into the trace header.
pub struct Trace<'a> {
    /// Name the client gave in EHLO/HELO.
    pub helo: &'a str,
    /// Client address.
    pub client_ip: IpAddr,
    /// Our host name.
    pub by: &'a str,
    /// `ESMTP`, `ESMTPS`, ... (RFC 3848).
    pub protocol: &'a str,
    /// Queue ID.
    pub id: QueueId,
    /// Negotiated TLS, as `version cipher`.
    pub tls: Option<(&'a str, &'a str)>,
    /// Seconds since the epoch.
    pub unix_secs: u64,
}

impl Trace<'_> {
    /// The header, folded, CRLF-terminated.
    pub fn header(&self) -> String {
        // The HELO name is client text: keep it to printable ASCII so it can
        // neither break the header nor smuggle a second one.
        let helo: String = self
            .helo
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '?' })
            .take(255)
            .collect();
        let ip = match self.client_ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("IPv6:{v6}"),
        };
        let tls = match self.tls {
            Some((v, c)) => format!("\r\n\t(using {v} with cipher {c})"),
            None => String::new(),
        };
        format!(
            "Received: from {helo} ([{ip}]){tls}\r\n\tby {by} (phigate) with {proto} id {id};\r\n\t{date}\r\n",
            by = self.by,
            proto = self.protocol,
            id = self.id,
            date = crate::date::rfc5322_date(self.unix_secs),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helo_cannot_inject_a_header() {
        let t = Trace {
            helo: "evil\r\nX-Injected: 1",
            client_ip: "::1".parse().unwrap(),
            by: "gw.example",
            protocol: "ESMTP",
            id: QueueId::from_u64(0xABC),
            tls: None,
            unix_secs: 0,
        };
        let h = t.header();
        assert!(
            h.starts_with("Received: from evil??X-Injected:?1 ([IPv6:::1])\r\n\tby gw.example")
        );
        assert_eq!(h.matches("\r\n").count(), 3);
        assert!(h.contains("id 0000000000000ABC;"));
    }
}
