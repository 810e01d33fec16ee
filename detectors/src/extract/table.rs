//! Delimited tables (CSV, TSV) as labelled text: each data row becomes
//! `header: value; header: value`, with `_` and `-` in headers read as
//! spaces. The header row's words (`patient`, `date_of_service`, `dx`) then
//! sit right next to every value, where the detectors look for context.

/// Converts a CSV/TSV text to labelled lines. Text that does not look like
/// a table with a header row is returned unchanged.
pub fn labelled(text: &str) -> String {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return String::new();
    };
    let delim = [',', '\t', ';', '|']
        .into_iter()
        .max_by_key(|d| first.matches(*d).count())
        .filter(|d| first.contains(*d))
        .unwrap_or(',');
    let mut headers: Vec<String> = Vec::new();
    let mut scratch = String::new();
    fields(first, delim, &mut scratch, |_, h| {
        headers.push(h.replace(['_', '-'], " ").trim().to_string())
    });
    // A header row names columns: letters, no field that is a bare number.
    let is_header = headers
        .iter()
        .all(|h| !h.is_empty() && h.chars().any(char::is_alphabetic))
        && headers
            .iter()
            .all(|h| !h.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if !is_header || headers.len() < 2 {
        return text.to_string();
    }
    let label_bytes: usize = headers.iter().map(|h| h.len() + 4).sum();
    let rows = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let mut out = String::with_capacity(text.len() + rows * label_bytes);
    out.push_str(first);
    out.push('\n');
    for line in lines {
        fields(line, delim, &mut scratch, |i, field| {
            if i > 0 {
                out.push_str("; ");
            }
            if let Some(h) = headers.get(i) {
                out.push_str(h);
                out.push_str(": ");
            }
            out.push_str(field.trim());
        });
        out.push('\n');
    }
    out
}

/// Calls `each` with every field of one line split on `delim`, honouring
/// double quotes (`""` inside quotes is one quote). Unquoted fields are
/// slices of the line; a quoted one is unescaped into `scratch`.
fn fields(line: &str, delim: char, scratch: &mut String, mut each: impl FnMut(usize, &str)) {
    let mut i = 0;
    let mut rest = line;
    loop {
        if !rest.contains('"') {
            // The common case: no quotes left, fields are slices.
            for f in rest.split(delim) {
                each(i, f);
                i += 1;
            }
            return;
        }
        scratch.clear();
        let mut quoted = false;
        let mut chars = rest.char_indices().peekable();
        let mut end = None;
        while let Some((at, c)) = chars.next() {
            match c {
                '"' if quoted && chars.peek().map(|p| p.1) == Some('"') => {
                    scratch.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                c if c == delim && !quoted => {
                    end = Some(at);
                    break;
                }
                c => scratch.push(c),
            }
        }
        each(i, scratch);
        i += 1;
        match end {
            Some(at) => rest = &rest[at + delim.len_utf8()..],
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::labelled;

    #[test]
    fn rows_are_labelled_with_headers() {
        let t = labelled(
            "patient,date_of_service,dx\r\nWhitney Gutierrez,2/19/24,N39.0\r\n\"Ramirez, Katherine\",10/27/25,O24.410\r\n",
        );
        assert!(
            t.contains("patient: Whitney Gutierrez; date of service: 2/19/24; dx: N39.0"),
            "{t}"
        );
        assert!(
            t.contains("patient: Ramirez, Katherine; date of service: 10/27/25"),
            "{t}"
        );
    }

    #[test]
    fn headerless_data_is_left_alone() {
        let s = "1,2,3\n4,5,6\n";
        assert_eq!(labelled(s), s);
    }

    #[test]
    fn tsv() {
        let t = labelled("Name\tDOB\nAnn Lee\t1/2/1960\n");
        assert!(t.contains("Name: Ann Lee; DOB: 1/2/1960"), "{t}");
    }
}
