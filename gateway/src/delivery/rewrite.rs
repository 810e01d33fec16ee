//! Changes made to a message on its way out: a tag in front of the subject
//! and added headers (policy modifiers, and the trigger an encryption
//! provider expects). Only the header block is touched; the body is copied.

/// `message` with `tags` put in front of its subject (each unless already
/// there) and `headers` added at the top of the header block.
pub fn apply(message: &[u8], tags: &[&str], headers: &[(&str, &str)]) -> Vec<u8> {
    let header_end = find(message, b"\r\n\r\n").map_or(message.len(), |i| i + 2);
    let (head, body) = message.split_at(header_end);
    let mut out = Vec::with_capacity(message.len() + 128);
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let mut tagged = tags.is_empty();
    for line in head.split_inclusive(|&b| b == b'\n') {
        let is_subject = line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"subject:");
        if is_subject && !tagged {
            let value = &line[8..];
            let text = String::from_utf8_lossy(value);
            let mut prefix = String::new();
            for t in tags {
                if !text.contains(t) {
                    prefix.push(' ');
                    prefix.push_str(t);
                }
            }
            out.extend_from_slice(b"Subject:");
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(value);
            tagged = true;
        } else {
            out.extend_from_slice(line);
        }
    }
    if !tagged {
        out.extend_from_slice(format!("Subject: {}\r\n", tags.join(" ")).as_bytes());
    }
    out.extend_from_slice(body);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_the_subject_once_and_adds_headers_on_top() {
        let m =
            b"Received: x\r\nsubject: lab results\r\nFrom: a@b.example\r\n\r\nSubject: body\r\n";
        let out = apply(m, &["[PHI]", "[encrypt]"], &[("X-Secure", "yes")]);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "X-Secure: yes\r\nReceived: x\r\nSubject: [PHI] [encrypt] lab results\r\nFrom: a@b.example\r\n\r\nSubject: body\r\n"
        );
        // Applying again adds no second tag.
        let again = apply(&out, &["[PHI]"], &[]);
        assert_eq!(again, out);
    }

    #[test]
    fn a_message_without_subject_gets_one() {
        let out = apply(b"From: a@b.example\r\n\r\nhi\r\n", &["[encrypt]"], &[]);
        assert_eq!(
            out,
            b"From: a@b.example\r\nSubject: [encrypt]\r\n\r\nhi\r\n"
        );
    }

    #[test]
    fn nothing_to_do_copies() {
        let m = b"Subject: x\r\n\r\nbody";
        assert_eq!(apply(m, &[], &[]), m);
    }
}
