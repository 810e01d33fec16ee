//! Rich Text Format (`.rtf`, `application/rtf`, `text/rtf`): the letters
//! and notes many EHRs and WordPad export. RTF is 7-bit text, so it sniffs
//! as text, but read as it is its words are glued to control words
//! (`\par Thank`), joined by control symbols (`Ifeoma\~Chukwu`, a
//! non-breaking space) and spelled in escapes (`L\'e9vesque`): a name and
//! a date there would be missed. This reads the text a word processor
//! would show.
//!
//! - Groups that hold no shown text are skipped: font, colour and style
//!   tables, document info, pictures, objects, field instructions, and
//!   every `{\*\destination}` a reader may ignore. Headers and footers are
//!   shown text (a letter's header names its patient), so they are read.
//! - `\par`, `\line`, `\row`, `\page`, `\sect` end a line; `\tab` and
//!   `\cell` are tabs; `\~` is a space and `\_` a hyphen.
//! - `\'hh` is a byte in the document's ANSI code page (`\ansicpgN`,
//!   Windows-1252 when unsaid); `\uN` is a Unicode character, after which
//!   the `\ucN` fallback characters are skipped.
//!
//! Nesting is tracked on a stack as long as the input is deep, never
//! deeper: the text is bounded by the part's limit.

use super::decode;

/// Whether `text` is an RTF document (`{\rtf` at its start).
pub fn is_rtf(text: &str) -> bool {
    text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with("{\\rtf")
}

/// Destinations whose text is not shown.
const HIDDEN: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "objdata",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "filetbl",
    "revtbl",
    "bkmkstart",
    "bkmkend",
];

#[derive(Clone, Copy)]
struct Group {
    /// Inside a destination whose text is not shown.
    hidden: bool,
    /// How many fallback characters follow a `\uN`.
    uc: usize,
}

/// The text an RTF document shows.
pub fn to_text(rtf: &str) -> String {
    let b = rtf.as_bytes();
    let mut out = String::with_capacity(b.len() / 2);
    let mut stack: Vec<Group> = Vec::new();
    let mut g = Group {
        hidden: false,
        uc: 1,
    };
    let mut code_page: Option<String> = None;
    // Bytes of `\'hh` escapes in a row, decoded together (a code page may
    // spell one character in two bytes).
    let mut pending: Vec<u8> = Vec::new();
    // Fallback characters still to skip after a `\uN`.
    let mut skip = 0usize;
    let mut i = 0;
    let flush = |pending: &mut Vec<u8>, out: &mut String, cp: &Option<String>| {
        if pending.is_empty() {
            return;
        }
        let text = cp
            .as_deref()
            .and_then(|cp| decode::charset(pending, Some(cp)).ok())
            .map_or_else(|| decode::latin1(pending), |t| t.into_owned());
        out.push_str(&text);
        pending.clear();
    };
    while i < b.len() {
        let c = b[i];
        // A `\'hh` run continues only with another escape.
        if !(c == b'\\' && b.get(i + 1) == Some(&b'\'')) {
            flush(&mut pending, &mut out, &code_page);
        }
        match c {
            b'{' => {
                stack.push(g);
                i += 1;
                skip = 0;
                if b[i..].starts_with(b"\\*") {
                    g.hidden = true;
                    i += 2;
                }
            }
            b'}' => {
                g = stack.pop().unwrap_or(g);
                i += 1;
                skip = 0;
            }
            b'\\' => {
                let Some(&n) = b.get(i + 1) else {
                    break;
                };
                if n.is_ascii_alphabetic() {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && b[j].is_ascii_alphabetic() && j - start < 32 {
                        j += 1;
                    }
                    let word = &rtf[start..j];
                    let num_start = j;
                    if j < b.len() && b[j] == b'-' {
                        j += 1;
                    }
                    while j < b.len() && b[j].is_ascii_digit() && j - num_start < 10 {
                        j += 1;
                    }
                    let num: Option<i64> = rtf[num_start..j].parse().ok();
                    if j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    i = j;
                    control_word(word, num, &mut g, &mut out, &mut code_page, &mut skip);
                } else {
                    // (A symbol may be any character, of any width.)
                    i += 1 + rtf[i + 1..].chars().next().map_or(1, char::len_utf8);
                    match n {
                        b'\'' => {
                            let hex = rtf
                                .get(i..i + 2)
                                .and_then(|h| u8::from_str_radix(h, 16).ok());
                            if let Some(byte) = hex {
                                i += 2;
                                if skip > 0 {
                                    skip -= 1;
                                } else if !g.hidden {
                                    pending.push(byte);
                                }
                            }
                        }
                        _ if g.hidden => {}
                        b'~' => out.push(' '),
                        b'_' => out.push('-'),
                        b'{' | b'}' | b'\\' => out.push(n as char),
                        b'\n' | b'\r' => out.push('\n'),
                        _ => {}
                    }
                }
            }
            // Line breaks in the source are not text.
            b'\r' | b'\n' => i += 1,
            _ => {
                // One character (of any width: RTF is ASCII, but a
                // producer may write UTF-8 anyway).
                let len = rtf[i..].chars().next().map_or(1, char::len_utf8);
                if skip > 0 {
                    skip -= 1;
                } else if !g.hidden {
                    out.push_str(&rtf[i..i + len]);
                }
                i += len;
            }
        }
    }
    flush(&mut pending, &mut out, &code_page);
    out
}

fn control_word(
    word: &str,
    num: Option<i64>,
    g: &mut Group,
    out: &mut String,
    code_page: &mut Option<String>,
    skip: &mut usize,
) {
    match word {
        "ansicpg" => *code_page = num.map(|n| format!("windows-{n}")),
        "uc" => g.uc = num.unwrap_or(1).clamp(0, 8) as usize,
        _ if HIDDEN.contains(&word) => g.hidden = true,
        _ if g.hidden => {}
        "u" => {
            if let Some(n) = num {
                // Negative values are the upper half of 16 bits.
                let code = if n < 0 { n + 65_536 } else { n };
                if let Some(ch) = u32::try_from(code).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
                *skip = g.uc;
            }
        }
        "par" | "line" | "row" | "page" | "sect" => out.push('\n'),
        "tab" | "cell" => out.push('\t'),
        "emdash" => out.push('—'),
        "endash" => out.push('–'),
        "bullet" => out.push('•'),
        "lquote" | "rquote" => out.push('\''),
        "ldblquote" | "rdblquote" => out.push('"'),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_reads_as_its_words() {
        let rtf = "{\\rtf1\\ansi\\ansicpg1252\\deff0 {\\fonttbl {\\f0 Times;}}{\\colortbl;\\red0\\green0\\blue0;}\
                   {\\*\\generator Riched20;}\\f0\\fs24 Re: Ifeoma\\~Chukwu, DOB 06/12/1970\\par \
                   Fran\\'e7ois L\\'e9vesque\\tab seen\\line Jos\\u233?\\par}";
        assert!(is_rtf(rtf));
        let text = to_text(rtf);
        assert_eq!(
            text,
            "Re: Ifeoma Chukwu, DOB 06/12/1970\nFrançois Lévesque\tseen\nJosé\n"
        );
    }

    #[test]
    fn hidden_groups_stay_hidden_and_shown_ones_are_read() {
        let rtf = "{\\rtf1{\\info{\\author Ann Lee}}{\\header Patient: Omar Haddad\\par}\
                   {\\field{\\*\\fldinst HYPERLINK \"x\"}{\\fldrslt link}}\\{braces\\}}";
        assert_eq!(to_text(rtf), "Patient: Omar Haddad\nlink{braces}");
    }

    #[test]
    fn broken_rtf_ends_without_panic() {
        for rtf in [
            "{\\rtf1 \\",
            "{\\rtf1 \\'",
            "{\\rtf1 \\'e",
            "}}}{\\u-",
            "{\\rtf1 \\u99999999999 x",
        ] {
            let _ = to_text(rtf);
        }
        // A control symbol or an escape that is not ASCII.
        assert_eq!(to_text("{\\rtf1 a\\é b\\'é c}"), "a bé c");
        assert!(!is_rtf("rtf1 plain"));
    }
}
