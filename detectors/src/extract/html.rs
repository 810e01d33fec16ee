//! HTML to text: tags dropped, entities decoded, block boundaries become
//! line breaks, and a table cell is prefixed with its column's header
//! (`DOB: March 4, 1965`) so that context words in a header row reach the
//! values far below them. Inline tags (`<b>`, `<span>`) vanish without a
//! trace, so tags splitting a number do not split it in the text.

/// Converts an HTML document or fragment to text.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut table = Table::default();
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => {
                if html[i..].starts_with("<!--") {
                    i = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
                    continue;
                }
                let end = find_tag_end(b, i);
                // Without its `>` (cut off at the end) the tag runs to the
                // end of the text; `end - 1` may then be inside a character.
                let inner_end = if b[end - 1] == b'>' && end - 1 > i {
                    end - 1
                } else {
                    end
                };
                let tag = &html[i + 1..inner_end];
                let (closing, name) = tag_name(tag);
                let name = name.as_str();
                i = end;
                if !closing && (name == "script" || name == "style") {
                    let close = format!("</{name}");
                    i = find_ci(html, i, &close).unwrap_or(b.len());
                    continue;
                }
                table.tag(&mut out, closing, name);
                if !closing {
                    shown_attributes(tag, &mut out);
                }
            }
            b'&' => {
                let (c, used) = entity(&html[i..]);
                table.push_str(&mut out, c.encode_utf8(&mut [0; 4]));
                i += used;
            }
            _ => {
                let next = memchr::memchr2(b'<', b'&', &b[i..]).map_or(b.len(), |n| i + n);
                table.push_str(&mut out, &html[i..next]);
                i = next;
            }
        }
    }
    out
}

/// Tracks table headers so that cells can be labelled.
#[derive(Default)]
struct Table {
    headers: Vec<String>,
    in_header: bool,
    cell: usize,
    header_buf: String,
}

impl Table {
    fn push_str(&mut self, out: &mut String, s: &str) {
        if self.in_header {
            self.header_buf.push_str(s);
        }
        out.push_str(s);
    }

    fn tag(&mut self, out: &mut String, closing: bool, name: &str) {
        match (closing, name) {
            (false, "table") => {
                self.headers.clear();
                out.push('\n');
            }
            (false, "tr") => {
                self.cell = 0;
                out.push('\n');
            }
            (false, "th") => {
                self.in_header = true;
                self.header_buf.clear();
                out.push_str(" \t ");
            }
            (true, "th") => {
                self.in_header = false;
                let h = self
                    .header_buf
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                self.headers.push(h);
            }
            (false, "td") => {
                out.push_str(" \t ");
                if let Some(h) = self.headers.get(self.cell).filter(|h| !h.is_empty()) {
                    out.push('\n');
                    out.push_str(h);
                    out.push_str(": ");
                }
                self.cell += 1;
            }
            (
                _,
                "br" | "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                | "tr" | "table",
            )
            | (
                _,
                "section" | "article" | "header" | "footer" | "blockquote" | "pre" | "hr" | "dt"
                | "dd" | "title",
            ) => {
                out.push('\n');
            }
            _ => {}
        }
    }
}

/// Attributes whose text a reader sees: an image's `alt` (shown when
/// images are blocked, as most clients block them), a `title` (a
/// tooltip), an `aria-label` (read aloud). Each value goes on its own
/// line, its entities decoded.
const SHOWN: [&str; 3] = ["alt", "title", "aria-label"];

fn shown_attributes(tag: &str, out: &mut String) {
    let b = tag.as_bytes();
    // Most tags have none of them: the name before each '=' first.
    let shown_before = |eq: usize| {
        let end = b[..eq]
            .iter()
            .rposition(|c| !c.is_ascii_whitespace())
            .map_or(0, |e| e + 1);
        let start = b[..end]
            .iter()
            .rposition(|c| !(c.is_ascii_alphabetic() || *c == b'-'))
            .map_or(0, |s| s + 1);
        SHOWN
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(&b[start..end]))
    };
    if !memchr::memchr_iter(b'=', b).any(shown_before) {
        return;
    }
    // Past the tag's name.
    let mut i = b
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(b.len());
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'/') {
            i += 1;
        }
        let name = &tag[name_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            if i == name_start {
                i += 1;
            }
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let (value, next) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = memchr::memchr(q, &b[i + 1..]).map_or(b.len(), |e| i + 1 + e);
                (&tag[i + 1..end], end + 1)
            }
            _ => {
                let end = b[i..]
                    .iter()
                    .position(|c| c.is_ascii_whitespace())
                    .map_or(b.len(), |e| i + e);
                (&tag[i..end], end)
            }
        };
        i = next;
        if SHOWN.iter().any(|s| s.eq_ignore_ascii_case(name)) && !value.trim().is_empty() {
            out.push('\n');
            let mut k = 0;
            while let Some(amp) = value[k..].find('&').map(|a| k + a) {
                out.push_str(&value[k..amp]);
                let (c, used) = entity(&value[amp..]);
                out.push(c);
                k = amp + used.max(1);
            }
            out.push_str(&value[k..]);
            out.push('\n');
        }
    }
}

/// Just past the `>` that ends the tag at `start` (one inside a quoted
/// attribute value does not), or the end of the text.
fn find_tag_end(b: &[u8], start: usize) -> usize {
    let mut k = start + 1;
    while let Some(at) = memchr::memchr3(b'>', b'"', b'\'', b.get(k..).unwrap_or_default()) {
        let at = k + at;
        if b[at] == b'>' {
            return at + 1;
        }
        match memchr::memchr(b[at], &b[at + 1..]) {
            Some(close) => k = at + 1 + close + 1,
            None => return b.len(),
        }
    }
    b.len()
}

/// A tag's name in lower case, held in place: a newsletter has a tag
/// every few words, and every name this module acts on is short.
struct TagName {
    buf: [u8; TagName::MAX],
    len: usize,
}

impl TagName {
    /// The longest name acted on ("blockquote"); a longer one is kept as
    /// none (an unknown tag, which is dropped).
    const MAX: usize = 10;

    fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever copied in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn tag_name(tag: &str) -> (bool, TagName) {
    let t = tag.trim_start();
    let (closing, t) = match t.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let len = t
        .bytes()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(t.len());
    let mut name = TagName {
        buf: [0; TagName::MAX],
        len: 0,
    };
    if len <= TagName::MAX {
        name.buf[..len].copy_from_slice(&t.as_bytes()[..len]);
        name.buf[..len].make_ascii_lowercase();
        name.len = len;
    }
    (closing, name)
}

fn find_ci(h: &str, from: usize, needle: &str) -> Option<usize> {
    let hay = h.as_bytes();
    let n = needle.as_bytes();
    (from..hay.len().saturating_sub(n.len() - 1))
        .find(|&k| hay[k..k + n.len()].eq_ignore_ascii_case(n))
}

/// Decodes one entity at the start of `s`; returns its character and the
/// bytes used (an `&` that starts none is itself).
fn entity(s: &str) -> (char, usize) {
    let end = s[1..]
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .map_or(s.len(), |e| e + 1);
    let body = &s[1..end];
    let used = if s[end..].starts_with(';') {
        end + 1
    } else {
        end
    };
    let num = |digits: &str, radix: u32| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    let decoded = if let Some(n) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        num(n, 16)
    } else if let Some(n) = body.strip_prefix('#') {
        num(n, 10)
    } else {
        named(body)
    };
    match decoded {
        Some(c) => (c, used),
        None => ('&', 1),
    }
}

fn named(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "minus" => '-',
        "hyphen" | "dash" => '-',
        "shy" => '\u{00AD}',
        "zwsp" | "ZeroWidthSpace" => '\u{200B}',
        "zwj" => '\u{200D}',
        "zwnj" => '\u{200C}',
        "lsquo" | "rsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "hellip" => '…',
        "middot" => '·',
        "sol" => '/',
        "period" => '.',
        "num" => '#',
        "colon" => ':',
        "comma" => ',',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "bull" => '•',
        "szlig" => 'ß',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        "oelig" => 'œ',
        "OElig" => 'Œ',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        "eth" => 'ð',
        "ETH" => 'Ð',
        "thorn" => 'þ',
        "THORN" => 'Þ',
        _ => return accented(name),
    })
}

/// A letter with its accent, as HTML names it (`&iacute;`, `&Ntilde;`,
/// `&scaron;`): editors and Outlook write names with diacritics this way,
/// and "Luc&iacute;a" left as written parts the name at the `&`.
fn accented(name: &str) -> Option<char> {
    let mut chars = name.chars();
    let base = chars.next().filter(char::is_ascii_alphabetic)?;
    let mark = match chars.as_str() {
        "grave" => '\u{300}',
        "acute" => '\u{301}',
        "circ" => '\u{302}',
        "tilde" => '\u{303}',
        "macr" => '\u{304}',
        "breve" => '\u{306}',
        "dot" => '\u{307}',
        "uml" => '\u{308}',
        "ring" => '\u{30A}',
        "dblac" => '\u{30B}',
        "caron" => '\u{30C}',
        "cedil" => '\u{327}',
        "ogon" => '\u{328}',
        _ => return None,
    };
    unicode_normalization::char::compose(base, mark)
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn entities_and_inline_tags_do_not_split_values() {
        let t = to_text(
            "<div>SSN:&nbsp;&#55;1&#51;-&#56;&#49;-&#48;29&#55;</div><p>1<b>23</b>-45-<span>6789</span></p>",
        );
        assert!(t.contains("SSN: 713-81-0297"), "{t:?}");
        assert!(t.contains("123-45-6789"), "{t:?}");
        let t = to_text(
            "<p>Luc&iacute;a N&uacute;&ntilde;ez, &Scaron;imon, &Aring;se, Stra&szlig;e</p>",
        );
        assert_eq!(t.trim(), "Lucía Núñez, Šimon, Åse, Straße");
        // A name that is no letter's stays as written.
        assert_eq!(
            to_text("<p>&xacute; &qcirc;</p>").trim(),
            "&xacute; &qcirc;"
        );
    }

    #[test]
    fn blocks_become_line_breaks_and_scripts_vanish() {
        let t = to_text(
            "<p>a</p><p>b</p><script>var x='<p>';</script><style>p{}</style><!-- hidden 123-45-6789 -->c",
        );
        assert_eq!(
            t.split_whitespace().collect::<Vec<_>>(),
            vec!["a", "b", "c"]
        );
    }

    #[test]
    fn table_cells_get_their_header() {
        let t = to_text(
            "<table><tr><th>Name</th><th>DOB</th></tr><tr><td>Anthony Riley</td><td>August 2, 1966</td></tr></table>",
        );
        assert!(t.contains("Name: Anthony Riley"), "{t:?}");
        assert!(t.contains("DOB: August 2, 1966"), "{t:?}");
    }

    #[test]
    fn text_a_reader_sees_in_attributes_is_read() {
        let t = to_text(
            "<p>See scan</p><img src=\"cid:x\" alt=\"Wound photo - Mariam Yusuf &amp; DOB 04/04/1944\">\
             <a href=x title='Results: Ann Lee'>link</a><span aria-label=Pt data-x=\"Ann Lee 3/4\">",
        );
        assert!(
            t.contains("\nWound photo - Mariam Yusuf & DOB 04/04/1944\n"),
            "{t:?}"
        );
        assert!(t.contains("\nResults: Ann Lee\n"), "{t:?}");
        assert!(t.contains("\nPt\n"), "{t:?}");
        // Other attributes (links, data) are not shown text.
        assert!(!t.contains("cid:x") && !t.contains("Ann Lee 3/4"), "{t:?}");
        for tag in [
            "<img alt",
            "<img alt=",
            "<img alt='x",
            "<img alt=\"&",
            "<a =x title>",
            "<b \u{e9}=\u{e9}>",
        ] {
            let _ = to_text(tag);
        }
    }

    #[test]
    fn broken_html_is_not_a_problem() {
        for s in [
            "<",
            "<div",
            "&",
            "&#",
            "&#xZZ;",
            "<!--",
            "<script>",
            "a < b & c > d",
            "&#99999999;",
        ] {
            let _ = to_text(s);
        }
        assert_eq!(to_text("a &unknown; b"), "a &unknown; b");
    }

    /// Found by fuzzing: a tag cut off at the end, whose last character is
    /// more than one byte long, panicked on a slice inside that character.
    #[test]
    fn an_unterminated_tag_ending_in_a_multibyte_character() {
        assert_eq!(to_text("text <htmK\u{fffd}"), "text ");
        assert_eq!(to_text("<b\u{e9}"), "");
        assert_eq!(to_text("a <b>x</b> c"), "a x c");
    }

    /// A `>` inside a quoted attribute value does not end its tag, in
    /// either quote; a quote left open runs to the end of the text (and
    /// a title's text in it is still read).
    /// Names are matched in any case, and a name longer than any acted
    /// on ("blockquotes") is no known tag.
    #[test]
    fn tag_ends_names_and_quotes() {
        assert_eq!(
            to_text("<a title=\"x>y\" href='it\"s>'>DOB</a> 1/2/1960"),
            "\nx>y\nDOB 1/2/1960"
        );
        assert_eq!(
            to_text("before<a title=\"open>never closed"),
            "before\nopen>never closed\n"
        );
        assert_eq!(to_text("a<BR>b<Blockquote>c<blockquotes>d"), "a\nb\ncd");
        assert_eq!(
            to_text("<SCRIPT>x<p>y</Script>z&lt;&#x41;&bogus"),
            "z<A&bogus"
        );
    }
}
