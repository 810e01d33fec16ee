//! Delimited tables (CSV, TSV, spreadsheet rows): the header row's labels
//! (`patient`, `date_of_service`, `dx`) are the context of every cell in
//! their column. The text is scanned as written; the engine gives each
//! cell its column label's context words as hits at the cell's start
//! ([`Table::cells`]), as if the label stood right before the value,
//! without writing the label into the text row after row (which doubled a
//! table's text and its context matches).

use std::ops::Range;

/// A table's layout: its delimiter, where its header labels are, and
/// where its data rows begin.
#[derive(Debug)]
pub struct Table<'a> {
    text: &'a str,
    delim: u8,
    /// Each column's label, as a range of the text.
    pub headers: Vec<Range<usize>>,
    /// Offset of the first line after the header row.
    body: usize,
}

impl<'a> Table<'a> {
    /// Reads the header row of a delimited text. `None` when the first
    /// non-blank line does not name at least two columns (letters in every
    /// label, no label a bare number): headerless data has no labels.
    pub fn read(text: &'a str) -> Option<Table<'a>> {
        let mut at = 0;
        let (first, body) = loop {
            let end = memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |e| at + e);
            let line = &text[at..end];
            if !line.trim().is_empty() {
                break (at..end, (end + 1).min(text.len()));
            }
            if end >= text.len() {
                return None;
            }
            at = end + 1;
        };
        let line = &text[first.clone()];
        let delim = [b',', b'\t', b';', b'|']
            .into_iter()
            .max_by_key(|d| memchr::memchr_iter(*d, line.as_bytes()).count())
            .filter(|d| line.as_bytes().contains(d))?;
        let mut headers = Vec::new();
        fields(line, delim, |_, r| {
            let r = trim(line, r);
            headers.push(first.start + r.start..first.start + r.end)
        });
        let ok = headers.len() >= 2
            && headers.iter().all(|r| {
                let h = &text[r.clone()];
                h.chars().any(char::is_alphabetic)
                    && !h.chars().all(|c| c.is_ascii_digit() || c == '.')
            });
        ok.then_some(Table {
            text,
            delim,
            headers,
            body,
        })
    }

    /// The text with its delimiters written as tabs, when they are
    /// semicolons or pipes (European spreadsheets export `;`, many
    /// systems `|`): a name split over two cells ("Schneider;Lukas")
    /// then reads as two words of one name, as it does in a TSV. Each
    /// delimiter outside quotes is replaced byte for byte, so every
    /// offset still points into the text as written.
    pub fn tab_delimited(&self) -> Option<String> {
        if !matches!(self.delim, b';' | b'|') {
            return None;
        }
        let mut out = self.text.as_bytes().to_vec();
        let mut quoted = false;
        for b in &mut out {
            match *b {
                b'"' => quoted = !quoted,
                b'\n' => quoted = false,
                d if d == self.delim && !quoted => *b = b'\t',
                _ => {}
            }
        }
        // Only ASCII bytes were replaced by ASCII bytes.
        String::from_utf8(out).ok()
    }

    /// A column's label as words: `_` and `-` read as spaces.
    pub fn label(&self, col: usize) -> String {
        self.text[self.headers[col].clone()].replace(['_', '-'], " ")
    }

    /// Calls `each(column, offset)` for every data cell, in order: the
    /// offset is where the cell's value starts (after an opening quote).
    pub fn cells(&self, mut each: impl FnMut(usize, usize)) {
        let b = self.text.as_bytes();
        let mut at = self.body;
        while at < b.len() {
            let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |e| at + e);
            let line = &self.text[at..end];
            fields(line, self.delim, |col, r| each(col, at + r.start));
            at = end + 1;
        }
    }
}

/// Calls `each(index, range)` for every field of one line split on
/// `delim`, honouring double quotes: a quoted field's range is inside its
/// quotes (a doubled quote inside stays as written).
fn fields(line: &str, delim: u8, mut each: impl FnMut(usize, Range<usize>)) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut start = 0;
    loop {
        // Blanks before an opening quote are allowed.
        let mut s = start;
        while s < b.len() && (b[s] == b' ' || b[s] == b'\t') && b[s] != delim {
            s += 1;
        }
        if s < b.len() && b[s] == b'"' {
            let mut k = s + 1;
            loop {
                match memchr::memchr(b'"', &b[k..]) {
                    Some(q) if b.get(k + q + 1) == Some(&b'"') => k += q + 2,
                    Some(q) => {
                        k += q;
                        break;
                    }
                    None => {
                        k = b.len();
                        break;
                    }
                }
            }
            each(i, s + 1..k);
            // Whatever follows the closing quote, up to the delimiter.
            match memchr::memchr(delim, &b[k.min(b.len())..]) {
                Some(d) => start = k + d + 1,
                None => return,
            }
        } else {
            match memchr::memchr(delim, &b[start..]) {
                Some(d) => {
                    each(i, start..start + d);
                    start += d + 1;
                }
                None => {
                    each(i, start..b.len());
                    return;
                }
            }
        }
        i += 1;
    }
}

/// A range without the blanks and line ends at either side.
fn trim(line: &str, r: Range<usize>) -> Range<usize> {
    let s = &line[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let t = s.trim();
    r.start + lead..r.start + lead + t.len()
}

#[cfg(test)]
mod tests {
    use super::Table;

    /// Each cell's value and its column's label.
    fn labelled(text: &str) -> Vec<(String, String)> {
        let t = Table::read(text).expect("a table");
        let mut out = Vec::new();
        t.cells(|col, at| {
            let rest = &text[at..];
            let end = rest
                .find([',', '\t', '\r', '\n', '"'])
                .unwrap_or(rest.len());
            out.push((t.label(col), rest[..end].to_string()));
        });
        out
    }

    #[test]
    fn cells_get_their_column_labels() {
        let cells = labelled(
            "patient,date_of_service,dx\r\nWhitney Gutierrez,2/19/24,N39.0\r\n\"Ramirez, Katherine\",10/27/25,O24.410\r\n",
        );
        let want = [
            ("patient", "Whitney Gutierrez"),
            ("date of service", "2/19/24"),
            ("dx", "N39.0"),
            ("patient", "Ramirez"),
            ("date of service", "10/27/25"),
            ("dx", "O24.410"),
        ];
        assert_eq!(cells.len(), want.len(), "{cells:?}");
        for ((l, v), (wl, wv)) in cells.iter().zip(want) {
            assert_eq!((l.as_str(), v.as_str()), (wl, wv));
        }
    }

    #[test]
    fn quoted_delimiters_and_doubled_quotes_stay_in_one_cell() {
        let text = "name,note\n\"Lee, \"\"Ann\"\"\",\"a, b\"\nx,y\n";
        let t = Table::read(text).unwrap();
        let mut cols = Vec::new();
        t.cells(|col, _| cols.push(col));
        assert_eq!(cols, [0, 1, 0, 1]);
    }

    #[test]
    fn semicolons_and_pipes_become_tabs_outside_quotes() {
        let text = "Last;First;Note\nLee;Ann;\"a;b\"\n";
        let t = Table::read(text).unwrap();
        let tabs = t.tab_delimited().unwrap();
        assert_eq!(tabs, "Last\tFirst\tNote\nLee\tAnn\t\"a;b\"\n");
        assert_eq!(tabs.len(), text.len());
        assert!(Table::read("a,b\n1,2\n").unwrap().tab_delimited().is_none());
        let pipes = Table::read("Last|First\nLee|Ann\n").unwrap();
        assert_eq!(pipes.tab_delimited().unwrap(), "Last\tFirst\nLee\tAnn\n");
    }

    #[test]
    fn headerless_data_has_no_labels() {
        assert!(Table::read("1,2,3\n4,5,6\n").is_none());
        assert!(Table::read("just one column\nvalue\n").is_none());
        assert!(Table::read("\n\n").is_none());
    }

    #[test]
    fn tsv_and_blank_lines_before_the_header() {
        let cells = labelled("\n\nName\tDOB\nAnn Lee\t1/2/1960\n");
        assert_eq!(
            cells,
            [
                ("Name".to_string(), "Ann Lee".to_string()),
                ("DOB".to_string(), "1/2/1960".to_string())
            ]
        );
    }
}
