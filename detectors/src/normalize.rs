//! Text normalisation before matching, so evasions do not hide PHI:
//! Unicode NFKC (full-width digits become ASCII digits, non-breaking spaces
//! become spaces), zero-width characters and soft hyphens removed, dash
//! look-alikes made `-`.
//!
//! Whitespace is not rewritten here: every scanner treats any run of
//! whitespace, line breaks included, as one separator. That keeps byte
//! offsets stable for the common ASCII case, where normalisation costs a
//! single pass and no allocation.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Normalised text and the way back to offsets in the source.
#[derive(Debug)]
pub struct Normalized<'a> {
    /// The text to match against.
    pub text: Cow<'a, str>,
    /// For each byte of `text`, the byte offset in the source it came
    /// from; `None` when the text is the source unchanged.
    map: Option<Vec<u32>>,
    source_len: usize,
}

impl<'a> Normalized<'a> {
    /// The text and the offset map (`None`: the text is the source).
    pub fn into_parts(self) -> (Cow<'a, str>, Option<Vec<u32>>) {
        (self.text, self.map)
    }

    /// The source offset for offset `i` of the normalised text.
    pub fn source_offset(&self, i: usize) -> usize {
        match &self.map {
            None => i,
            Some(m) => m.get(i).map_or(self.source_len, |&o| o as usize),
        }
    }
}

/// Characters removed outright: zero-width and invisible formatting.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}' // zero-width space, joiners, direction marks
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFA0}'
    )
}

/// Dash look-alikes that NFKC leaves alone.
fn dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{2043}'
    )
}

/// Decimal digits of other scripts (Arabic-Indic, Devanagari, Thai...),
/// which NFKC leaves as they are, as ASCII digits.
fn script_digit(c: char) -> Option<char> {
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
        0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
        0xAA50, 0xABF0,
    ];
    let u = c as u32;
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&u))
        .and_then(|&z| char::from_digit(u - z, 10))
}

/// Normalises `src`. ASCII text is returned as it is.
pub fn normalize(src: &str) -> Normalized<'_> {
    if src.is_ascii() {
        return Normalized {
            text: Cow::Borrowed(src),
            map: None,
            source_len: src.len(),
        };
    }
    let mut text = String::with_capacity(src.len());
    let mut map = Vec::with_capacity(src.len());
    let mut buf = [0u8; 4];
    for (off, c) in src.char_indices() {
        if c.is_ascii() {
            text.push(c);
            map.push(off as u32);
        } else if invisible(c) {
            continue;
        } else if dash(c) {
            text.push('-');
            map.push(off as u32);
        } else if let Some(d) = script_digit(c) {
            text.push(d);
            map.push(off as u32);
        } else {
            for n in std::iter::once(c).nfkc() {
                let n = if dash(n) { '-' } else { n };
                let s = n.encode_utf8(&mut buf);
                text.push_str(s);
                map.extend(std::iter::repeat_n(off as u32, s.len()));
            }
        }
    }
    Normalized {
        text: Cow::Owned(text),
        map: Some(map),
        source_len: src.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_borrowed() {
        let n = normalize("SSN 123-45-6789");
        assert!(matches!(n.text, Cow::Borrowed(_)));
        assert_eq!(n.source_offset(4), 4);
    }

    #[test]
    fn evasions_are_undone() {
        let cases = [
            ("８６１-１３-８５２７", "861-13-8527"),
            ("3\u{200b}/\u{200b}1\u{200b}0/4\u{200b}6", "3/10/46"),
            ("123\u{00ad}-45\u{2011}6789", "123-45-6789"),
            ("DOB:\u{00a0}1/2/1960", "DOB: 1/2/1960"),
            ("ＳＳＮ：１２３", "SSN:123"),
            ("Müller", "Müller"),
            ("٨٦١-١٣-٨٥٢٧", "861-13-8527"),
            ("१२३", "123"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).text, want, "{input:?}");
        }
    }

    #[test]
    fn offsets_map_back_to_the_source() {
        let src = "x \u{200b}８a";
        let n = normalize(src);
        assert_eq!(n.text, "x 8a");
        assert_eq!(n.source_offset(2), "x \u{200b}".len());
        assert_eq!(&src[n.source_offset(3)..], "a");
    }
}
