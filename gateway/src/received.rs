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
            date = rfc5322_date(self.unix_secs),
        )
    }
}

/// `Mon, 23 Nov 2026 14:05:09 +0000`
pub fn rfc5322_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_795_442_709),
            "Mon, 23 Nov 2026 14:05:09 +0000"
        );
    }

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
