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
    let headers: Vec<String> = split(first, delim)
        .iter()
        .map(|h| h.replace(['_', '-'], " ").trim().to_string())
        .collect();
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
    let mut out = String::with_capacity(text.len() * 2);
    out.push_str(first);
    out.push('\n');
    for line in lines {
        for (i, field) in split(line, delim).iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            if let Some(h) = headers.get(i) {
                out.push_str(h);
                out.push_str(": ");
            }
            out.push_str(field.trim());
        }
        out.push('\n');
    }
    out
}

/// Splits one line on `delim`, honouring double quotes.
fn split(line: &str, delim: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delim && !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
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
