//! Structured identifiers and dates found in one pass: a multi-pattern
//! regex (regex-automata's meta engine, which runs all patterns in a single
//! lazy DFA scan and reports which one matched). Each match is a candidate
//! that a detector then validates and scores.

use regex_automata::meta::Regex;

/// What a pattern looks for, in pattern-ID order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nine digits in 3-2-4 groups, with or without separators.
    Ssn,
    /// An ICD-10-CM-shaped code.
    Icd,
    /// Medicare Beneficiary Identifier shape.
    Mbi,
    /// DEA number shape.
    Dea,
    /// Ten digits starting with 1 or 2 (NPI shape).
    Npi,
    /// 3/4/1965, 1965-03-04, 03.04.65...
    DateNumeric,
    /// 19650304
    DateCompact,
    /// March 4, 1965; Mar. 4th 1965
    DateMonthFirst,
    /// 4 March 1965; 4-Mar-65; 4th of March, 1965; 1965-Mar-04
    DateDayFirst,
    /// 04MAR1965, 4MAR65 (clinical systems)
    DateCompactMonth,
    /// 12/4, 3/30: a month and a day, the year left to the reader (front
    /// desk shorthand: "her biopsy results from 11/24").
    DateNoYear,
    /// 06/2024: a month of a year ("last seen 06/2024").
    DateMonthYear,
    /// Dec 3, December 9th, 3 December, the 14th of May: a month by its
    /// name and a day, the year left to the reader ("her colonoscopy on
    /// December 9th").
    DateNameNoYear,
}

const KINDS: [Kind; 13] = [
    Kind::Ssn,
    Kind::Icd,
    Kind::Mbi,
    Kind::Dea,
    Kind::Npi,
    Kind::DateNumeric,
    Kind::DateCompact,
    Kind::DateMonthFirst,
    Kind::DateDayFirst,
    Kind::DateCompactMonth,
    Kind::DateNoYear,
    Kind::DateMonthYear,
    Kind::DateNameNoYear,
];

/// English month names and their abbreviations, and the Spanish ones
/// ("3 de mayo de 1980", "9 dic 2026") that US practices write too.
const MONTHS: &str =
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|ene|abr|ago|set|dic)[a-z]{0,7}\.?";

fn sources() -> Vec<String> {
    let w = r"[ \t\r\n]";
    let sep = format!(r"(?:{w}{{0,2}}[-.]{w}{{0,2}}|{w}{{1,2}})?");
    let b = r"(?-u:\b)";
    let mbi_a = "[AC-HJKMNP-RT-Y]";
    let mbi_an = "[AC-HJKMNP-RT-Y0-9]";
    let day = "(?:0?[1-9]|[12][0-9]|3[01])";
    vec![
        format!(r"{b}[0-9]{{3}}{sep}[0-9]{{2}}{sep}[0-9]{{4}}{b}"),
        // ICD-10-CM in any case, with the dot or without, a blank allowed
        // on either side of it ("E11 .9"); the code set decides.
        format!(r"{b}(?i:[A-Z][0-9][0-9AB](?:[ ]?\.[ ]?[0-9A-Z]{{1,4}}|[0-9A-Z]{{1,4}})?){b}"),
        format!(
            r"{b}(?i:[1-9]{mbi_a}{mbi_an}[0-9][- ]?{mbi_a}{mbi_an}[0-9][- ]?{mbi_a}{{2}}[0-9]{{2}}){b}"
        ),
        format!(r"{b}[A-Z][A-Z9][0-9]{{7}}{b}"),
        format!(r"{b}[12][0-9]{{9}}{b}"),
        format!(
            r"{b}(?:[0-9]{{1,2}}{w}?[/.-]{w}?[0-9]{{1,2}}{w}?[/.-]{w}?(?:[0-9]{{4}}|[0-9]{{2}})|[0-9]{{4}}[/.-][0-9]{{1,2}}[/.-][0-9]{{1,2}}){b}"
        ),
        format!(r"{b}(?:19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]){b}"),
        format!(
            r"{b}(?i-u:{MONTHS})[ \t\r\n-]{{1,3}}[0-9]{{1,2}}(?i-u:st|nd|rd|th)?,?[ \t\r\n-]{{1,3}}(?:[0-9]{{4}}|'?[0-9]{{2}}){b}"
        ),
        // Also year first, as some systems print it ("1962-Apr-03").
        format!(
            r"{b}(?:[0-9]{{1,2}}(?i-u:st|nd|rd|th)?(?:{w}{{1,8}}(?i-u:of|de))?[ \t\r\n-]{{1,3}}(?i-u:{MONTHS}),?[ \t\r\n-]{{1,3}}(?:(?i-u:del?){w}{{1,3}})?(?:[0-9]{{4}}|'?[0-9]{{2}})|(?:1[89]|20)[0-9]{{2}}[ /-](?i-u:{MONTHS})[ /-][0-9]{{1,2}}){b}"
        ),
        format!(
            r"{b}[0-9]{{1,2}}(?i-u:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?:[0-9]{{4}}|[0-9]{{2}}){b}"
        ),
        // Last, so that a date with its year, which starts at the same
        // place, wins.
        format!(r"{b}(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01]){b}"),
        format!(r"{b}(?:0?[1-9]|1[0-2])/(?:19|20)[0-9]{{2}}{b}"),
        // A month by its name and a day, no year: after the dates with
        // one, which win where they start at the same place. Only whole
        // names and their usual abbreviations ("Mar 5", not "market 5").
        format!(
            r"{b}(?:(?i-u:{MONTH_NAMES})\.?[ \t]{{1,2}}{day}(?i-u:st|nd|rd|th)?|{day}(?i-u:st|nd|rd|th)?(?:[ \t]{{1,2}}(?i-u:of))?[ \t]{{1,2}}(?i-u:{MONTH_NAMES})){b}"
        ),
    ]
}

/// English month names whole and as usually abbreviated.
const MONTH_NAMES: &str = "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december";

/// How far a match can begin before its first digit: a month's name,
/// its period and blanks ("September  4, 1965", 15 bytes), with room.
const LEAD: usize = 16;
/// How far a match can end after its last digit ("4th of  September",
/// 17 bytes), and how far apart two digits of one match can be, less
/// [`LEAD`] (a day and its year: "4th  of March, del 1965", under 40
/// bytes), with room.
const TRAIL: usize = 28;

/// The compiled patterns.
#[derive(Debug)]
pub struct Patterns {
    re: Regex,
}

/// One candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Which pattern.
    pub kind: Kind,
    /// Start offset.
    pub start: usize,
    /// End offset.
    pub end: usize,
}

impl Patterns {
    /// Compiles the built-in patterns.
    pub fn new() -> Patterns {
        let srcs = sources();
        // A lazy DFA cache large enough for every state the patterns reach
        // on mail: a smaller one is cleared and rebuilt over and over.
        let re = Regex::builder()
            .configure(Regex::config().hybrid_cache_capacity(16 << 20))
            .build_many(&srcs)
            .expect("built-in patterns compile");
        Patterns { re }
    }

    /// Every candidate in `text`, in order.
    ///
    /// Every pattern has a digit, and a match reaches at most a month name
    /// and some blanks beyond its first and last digits ([`LEAD`],
    /// [`TRAIL`]); so only the stretches around digits are searched, each
    /// as a span of the whole text (word boundaries at a span's edge see
    /// the text beyond it). Prose with few numbers is then mostly skipped,
    /// and prose with a number every sentence is read in short stretches.
    pub fn candidates(&self, text: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        for span in crate::stretch::around_digits(text, LEAD, TRAIL) {
            let input = regex_automata::Input::new(text).span(span);
            out.extend(self.re.find_iter(input).map(|m| Candidate {
                kind: KINDS[m.pattern().as_usize()],
                start: m.start(),
                end: m.end(),
            }));
        }
        out
    }
}

impl Default for Patterns {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search around digits finds exactly what a search of the whole
    /// text finds, on every message of the development corpus and on
    /// texts built to put candidates at the stretches' edges.
    #[test]
    fn stretches_find_what_the_whole_text_has() {
        let p = Patterns::new();
        let whole = |t: &str| -> Vec<Candidate> {
            p.re.find_iter(t)
                .map(|m| Candidate {
                    kind: KINDS[m.pattern().as_usize()],
                    start: m.start(),
                    end: m.end(),
                })
                .collect()
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev");
        let mut texts: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned()
            })
            .collect();
        assert!(texts.len() > 100);
        for gap in [0, 1, 8, 14, 15, 16, 17, 27, 28, 29, 40, 43, 44, 45, 200] {
            let pad = "x ".repeat(gap / 2) + if gap % 2 == 1 { "é" } else { "" };
            texts.push(format!(
                "September{pad}4, 1965 and 4th{pad}of March 1965; E11.9{pad}123-45-6789{pad}1EG4-TE5-MK73"
            ));
            // Matches that reach as far from their digits as any can.
            texts.push(format!(
                "{pad}Septiembre.\t\r\n4, 1965{pad}4th\t\t\t\t\t\t\t\tof - septiembres., - del \t\t'65{pad}14th \tof \tSeptember{pad}A1B . ABCD{pad}September. 9th"
            ));
        }
        for t in &texts {
            assert_eq!(p.candidates(t), whole(t));
        }
    }

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        Patterns::new()
            .candidates(text)
            .into_iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn table() {
        let cases: Vec<(&str, Vec<(Kind, &str)>)> = vec![
            ("ssn 123-45-6789.", vec![(Kind::Ssn, "123-45-6789")]),
            ("123 45 6789", vec![(Kind::Ssn, "123 45 6789")]),
            ("123456789", vec![(Kind::Ssn, "123456789")]),
            ("1234567890", vec![(Kind::Npi, "1234567890")]),
            ("12345678901", vec![]),
            (
                "Dx E11.9 and F411",
                vec![(Kind::Icd, "E11.9"), (Kind::Icd, "F411")],
            ),
            ("MBI 1EG4-TE5-MK73", vec![(Kind::Mbi, "1EG4-TE5-MK73")]),
            ("AB1234563", vec![(Kind::Dea, "AB1234563")]),
            (
                "on 3/4/1965, 1965-03-04",
                vec![
                    (Kind::DateNumeric, "3/4/1965"),
                    (Kind::DateNumeric, "1965-03-04"),
                ],
            ),
            ("DOB 19650304", vec![(Kind::DateCompact, "19650304")]),
            (
                "March 4, 1965 and Sept. 3rd 2024",
                vec![
                    (Kind::DateMonthFirst, "March 4, 1965"),
                    (Kind::DateMonthFirst, "Sept. 3rd 2024"),
                ],
            ),
            (
                "4 Mar 1965; 04-MAR-65; 4th of March, 1965",
                vec![
                    (Kind::DateDayFirst, "4 Mar 1965"),
                    (Kind::DateDayFirst, "04-MAR-65"),
                    (Kind::DateDayFirst, "4th of March, 1965"),
                ],
            ),
            ("phone 151-397-9999", vec![]),
            (
                "Mar-04-1965 and 04MAR1965",
                vec![
                    (Kind::DateMonthFirst, "Mar-04-1965"),
                    (Kind::DateCompactMonth, "04MAR1965"),
                ],
            ),
            ("MBI 1EG4 TE5 MK73", vec![(Kind::Mbi, "1EG4 TE5 MK73")]),
            (
                "seen 12/4, 3/4/1965; 24/7; 06/2024, 13/2024",
                vec![
                    (Kind::DateNoYear, "12/4"),
                    (Kind::DateNumeric, "3/4/1965"),
                    (Kind::DateMonthYear, "06/2024"),
                ],
            ),
            (
                "seen Dec 3, on December 9th, the 14th of May, 3 Sept; Dec 3, 2026; market 5; 40 march",
                vec![
                    (Kind::DateNameNoYear, "Dec 3"),
                    (Kind::DateNameNoYear, "December 9th"),
                    (Kind::DateNameNoYear, "14th of May"),
                    (Kind::DateNameNoYear, "3 Sept"),
                    (Kind::DateMonthFirst, "Dec 3, 2026"),
                ],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(kinds(text), want, "{text}");
        }
    }
}
