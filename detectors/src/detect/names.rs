//! Person names, found by shape and weighed by evidence: capitalised,
//! ALL CAPS or (with both parts in the name lists) lower-case words; `Last,
//! First M.`; titles; suffixes (Jr., Sr., II-IV); particles and compound
//! surnames (de la Cruz, van der Berg, Al-Rashid, O'Neil); diacritics
//! (José, Müller, Nguyễn). The name lists (US Census 1990 and 2000
//! surnames, Census 1990 and SSA given names 1880-2017, public domain,
//! vendored in data/) are evidence, not a gate: a name missing from them is
//! still found when its shape and its labels say so. A pair that no name
//! list has and no word of English (data/english-words.txt) is marked
//! `unlisted`, so that care written for it can vouch for it as a label
//! would.
//!
//! A name after "Dr." or before a credential (MD, RN, NP...) is a
//! provider's: it is found, and marked, so that it is not taken for the
//! patient's.

use std::hash::Hasher;

use rustc_hash::FxHashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

static FIRST: &str = include_str!("../../data/first-names.txt");
static LAST: &str = include_str!("../../data/surnames.txt");
/// Words of English, places and brands (Debian's wamerican, folded as a
/// name is): what a capitalised word no name list has may be instead.
static WORDS: &str = include_str!("../../data/english-words.txt");

/// The lists as sets of 64-bit fingerprints of their lines: a lookup is
/// one hash of a short key instead of some seventeen string comparisons of
/// a binary search over 165,000 surnames, in no more memory than the
/// sorted slices took (8 bytes a name). A fingerprint collision could at
/// worst make a word look like a listed name, which only raises a score
/// that other evidence must still carry.
struct Lists {
    first: FxHashSet<u64>,
    last: FxHashSet<u64>,
    words: FxHashSet<u64>,
}

fn fingerprint(name: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| {
        let set = |s: &'static str| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(fingerprint)
                .collect()
        };
        Lists {
            first: set(FIRST),
            last: set(LAST),
            words: set(WORDS),
        }
    })
}

fn listed(list: &FxHashSet<u64>, key: &str) -> bool {
    list.contains(&fingerprint(key))
}

/// Builds the lists now rather than at the first scan.
pub fn warm_up() {
    let _ = lists();
}

/// A word as the lists spell it, in `buf`: upper case ASCII, diacritics
/// folded, apostrophes and the like dropped (`O'Brien` -> `OBRIEN`).
/// `None` when nothing is left or the word is longer than any name.
fn key<'b>(word: &str, buf: &'b mut [u8; 40]) -> Option<&'b str> {
    if word.len() > buf.len() * 2 {
        return None;
    }
    let mut n = 0;
    let mut put = |c: char| {
        if c.is_ascii_alphabetic() && n < buf.len() {
            buf[n] = c.to_ascii_uppercase() as u8;
            n += 1;
        }
    };
    if word.is_ascii() {
        word.chars().for_each(&mut put);
    } else {
        word.nfd().for_each(&mut put);
    }
    (n > 0).then(|| std::str::from_utf8(&buf[..n]).expect("ASCII"))
}

/// Whether `word` is a given name in the lists, or a hyphenated one whose
/// every part is ("Jean-Luc", "Mary-Kate", and the romanized Korean
/// "Dong-hyun", whose syllables the lists have as names of their own).
pub fn is_first(word: &str) -> bool {
    let l = &lists().first;
    let mut buf = [0u8; 40];
    if key(word, &mut buf).is_some_and(|k| listed(l, k)) {
        return true;
    }
    word.contains('-')
        && word.split('-').all(|p| {
            let mut buf = [0u8; 40];
            key(p, &mut buf).is_some_and(|k| k.len() >= 2 && listed(l, k))
        })
}

/// Whether `word` is a surname in the lists (each part of a hyphenated
/// name counts; a possessive `'s` is ignored).
pub fn is_last(word: &str) -> bool {
    let l = &lists().last;
    let w = word.trim_end_matches("'s").trim_end_matches("’s");
    let mut buf = [0u8; 40];
    if key(w, &mut buf).is_some_and(|k| listed(l, k)) {
        return true;
    }
    w.contains('-')
        && w.split('-').filter(|p| !p.is_empty()).any(|p| {
            let mut buf = [0u8; 40];
            key(p, &mut buf).is_some_and(|k| k.len() >= 2 && listed(l, k))
        })
}

/// Whether `word`, written as a name ("Mbatha", "Craddock-Oyelowo",
/// "Lisitsyna's"), is one no list has: a capital, then lower case, each
/// part of three letters or more and neither a listed name nor a word of
/// English, a place or a brand ("Acme", "Turin", "Xerox").
fn unlisted_word(word: &str) -> bool {
    let w = word.trim_end_matches("'s").trim_end_matches("’s");
    let l = lists();
    !w.is_empty()
        && w.split('-').all(|part| {
            let mut chars = part.chars();
            let mut buf = [0u8; 40];
            chars.next().is_some_and(char::is_uppercase)
                && chars.all(char::is_lowercase)
                && key(part, &mut buf).is_some_and(|k| {
                    k.len() >= 3
                        && !listed(&l.words, k)
                        && !listed(&l.first, k)
                        && !listed(&l.last, k)
                })
        })
}

/// Capitalised words that are not names, whatever the lists say.
const NOT_NAMES: &[&str] = &[
    "a",
    "above",
    "account",
    "address",
    "admission",
    "aetna",
    "afternoon",
    "age",
    "all",
    "allergies",
    "am",
    "american",
    "amount",
    "an",
    "and",
    "annual",
    "anthem",
    "appointment",
    "approved",
    "assessment",
    "associates",
    "at",
    "attached",
    "attachment",
    "auth",
    "authorization",
    "ave",
    "balance",
    "bcbs",
    "bcc",
    "below",
    "beneficiary",
    "best",
    "billing",
    "birth",
    "birthdate",
    "born",
    "by",
    "calendar",
    "care",
    "cc",
    "cell",
    "center",
    "centre",
    "chart",
    "check",
    "cigna",
    "city",
    "claim",
    "claims",
    "client",
    "clinic",
    "community",
    "consult",
    "consultation",
    "county",
    "cpt",
    "cst",
    "date",
    "dear",
    "denied",
    "department",
    "dept",
    "diagnosis",
    "discharge",
    "do",
    "doa",
    "dob",
    "document",
    "documents",
    "dod",
    "doi",
    "dol",
    "dos",
    "dr",
    "due",
    "dx",
    "east",
    "edd",
    "edt",
    "eligibility",
    "email",
    "encounter",
    "est",
    "evening",
    "event",
    "everyone",
    "exam",
    "export",
    "ext",
    "family",
    "fax",
    "female",
    "floor",
    "follow",
    "for",
    "form",
    "forwarded",
    "fri",
    "friday",
    "from",
    "fw",
    "fwd",
    "gender",
    "general",
    "gmt",
    "good",
    "group",
    "guarantor",
    "had",
    "has",
    "he",
    "health",
    "hello",
    "her",
    "hey",
    "hi",
    "his",
    "history",
    "hmo",
    "holiday",
    "hospice",
    "hospital",
    "hours",
    "humana",
    "i",
    "icd",
    "id",
    "ii",
    "iii",
    "importance",
    "in",
    "inc",
    "insurance",
    "insured",
    "internal",
    "invitation",
    "invited",
    "invoice",
    "is",
    "it",
    "iv",
    "jr",
    "kaiser",
    "lab",
    "labs",
    "lake",
    "letter",
    "list",
    "llc",
    "lmp",
    "ltd",
    "mail",
    "main",
    "male",
    "mbi",
    "md",
    "medicaid",
    "medical",
    "medicare",
    "medications",
    "medicine",
    "meeting",
    "member",
    "memorial",
    "message",
    "miss",
    "mobile",
    "mon",
    "monday",
    "morning",
    "mr",
    "mrn",
    "mrs",
    "ms",
    "mx",
    "name",
    "national",
    "new",
    "newsletter",
    "no",
    "north",
    "note",
    "notes",
    "np",
    "npi",
    "number",
    "of",
    "office",
    "ok",
    "okay",
    "on",
    "op",
    "or",
    "order",
    "original",
    "our",
    "pa",
    "partners",
    "patient",
    "patients",
    "payment",
    "pc",
    "per",
    "pharmacy",
    "phd",
    "phone",
    "physical",
    "plan",
    "please",
    "pllc",
    "pm",
    "policy",
    "portal",
    "post",
    "ppo",
    "practice",
    "primary",
    "prior",
    "priority",
    "procedure",
    "provider",
    "pst",
    "pt",
    "re",
    "reason",
    "record",
    "records",
    "referral",
    "referring",
    "regards",
    "regional",
    "rehab",
    "rehabilitation",
    "reply",
    "report",
    "resident",
    "result",
    "results",
    "review",
    "river",
    "rn",
    "road",
    "room",
    "saint",
    "sat",
    "saturday",
    "secondary",
    "see",
    "seen",
    "sent",
    "service",
    "sex",
    "she",
    "south",
    "spreadsheet",
    "sr",
    "ssn",
    "st",
    "state",
    "statement",
    "status",
    "street",
    "subject",
    "subscriber",
    "suite",
    "summary",
    "sun",
    "sunday",
    "sure",
    "surgery",
    "team",
    "tel",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "these",
    "they",
    "this",
    "those",
    "thu",
    "thursday",
    "time",
    "to",
    "today",
    "tomorrow",
    "total",
    "tracking",
    "tue",
    "tuesday",
    "type",
    "uhc",
    "united",
    "university",
    "update",
    "updated",
    "urgent",
    "utc",
    "valley",
    "vendor",
    "visit",
    "vitals",
    "was",
    "we",
    "wed",
    "wednesday",
    "west",
    "with",
    "yes",
    "yesterday",
    "you",
    "your",
];

/// Common English words that are also in the name lists: not taken for a
/// name when written in lower case.
const LOWER_STOP: &[&str] = &[
    "will", "may", "mark", "bill", "rose", "grace", "hope", "joy", "faith", "june", "april",
    "august", "art", "king", "page", "young", "long", "brown", "white", "green", "black", "gray",
    "grey", "bell", "hall", "wood", "stone", "hill", "lane", "rich", "frank", "earl", "dean",
    "chase", "glen", "dale", "ray", "guy", "carol", "sunny", "summer", "winter", "autumn", "dawn",
    "eve", "crystal", "ruby", "pearl", "iris", "lily", "ivy", "holly", "penny", "patience",
    "major", "general", "price", "love", "well", "best", "good", "hay", "may", "can", "don",
    "jack", "nick", "pat", "sue", "drew", "rod", "sterling", "miles", "jordan", "sage", "ash",
    "river", "sky", "star", "north", "west", "case",
    // Words for a child or a relative: "baby boy born 12/01" is a
    // newborn, not Mr. Baby Boy; "my wife" is no Ms. My Wife.
    "baby", "boy", "girl", "son", "sister", "child", "infant", "wife", "husband", "daughter",
    "brother", "niece", "nephew", "mom", "dad", "my",
];

/// Titles that introduce a person (patients among them).
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "mstr", "master", "mister", "madam",
];
/// Titles of providers.
const PROVIDER_TITLES: &[&str] = &["dr", "doctor", "prof", "professor"];
/// Credentials after a name: a provider.
const CREDENTIALS: &[&str] = &[
    "md", "m.d", "do", "d.o", "np", "fnp", "aprn", "rn", "lpn", "pa", "pa-c", "dds", "dmd", "phd",
    "pharmd", "lcsw", "pt", "dpt", "od", "dc", "crna", "cnm", "facp", "faafp", "mph",
];
/// Name suffixes.
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "2nd", "3rd"];
/// Particles of compound surnames (lower case).
const PARTICLES: &[&str] = &[
    "de", "del", "della", "der", "den", "da", "das", "do", "dos", "di", "du", "la", "le", "van",
    "von", "ter", "ten", "bin", "ibn", "bint", "al", "el", "y", "'t", "zu", "af", "op",
];

/// Particles that begin a surname written with a capital too: the Irish
/// and Scottish "Mac", "Ó", "Ní", "Nic", "Uí", "Mhic" and the Arabic
/// "Abu" ("Celina Mac Conámha", "Áine Ní Bhriain"), with or without their
/// accents (mail often drops them: "Ni Bhriain"); and the Māori "Te"
/// ("Hine Te Rangi").
const CAPITAL_PARTICLES: &[&str] = &[
    "mac", "mc", "ó", "o", "ní", "ni", "nic", "ua", "uí", "ui", "mhic", "abu", "te",
];

/// Whether `word` is a particle of a compound surname, in either case.
fn particle_word(word: &str) -> bool {
    lower_in(PARTICLES, word)
        || CAPITAL_PARTICLES
            .iter()
            .any(|p| p.chars().eq(word.chars().flat_map(char::to_lowercase)))
}

/// A name found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// Start offset (title included).
    pub start: usize,
    /// End offset (suffix included).
    pub end: usize,
    /// 0..1: how much this looks like a person's name.
    pub score: f32,
    /// Evidence, in words.
    pub why: String,
    /// A provider's name (after "Dr.", before a credential).
    pub provider: bool,
    /// A given name alone after a greeting that opens a line ("Hi Maria,"):
    /// the reader's. It says whose a date is only where the text speaks
    /// to the reader ("your appointment on").
    pub greeting: bool,
    /// Two words or more written as a name, none of them in a name list
    /// or the word list ("Keziah Mbatha"): a name by its shape alone, which
    /// only strong structure (care written for it, told of it or owned by
    /// it) can vouch for. A capitalised pair with a word of English in it
    /// ("Acme Health") is never one.
    pub unlisted: bool,
}

impl Name {
    /// Whether structure can vouch for this name (care written for it,
    /// told of it, a thread titled with it): a list knows a part of it,
    /// or it is a name no list has and no word of English.
    pub fn vouchable(&self) -> bool {
        self.score >= 0.35 || self.unlisted
    }
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    start: usize,
    end: usize,
    word: &'a str,
    /// Followed by a comma.
    comma: bool,
    /// What the word is, worked out once per token (a window is read from
    /// every token as a possible start of a name).
    kind: Kind,
}

/// A token's word, classified.
#[derive(Debug, Clone, Copy, Default)]
struct Kind {
    /// As a word of a name: its case, or `None` if it cannot be one.
    name: Option<Case>,
    suffix: bool,
    /// A courtesy title (Mr., Ms.) written with a capital.
    title: bool,
    /// A provider's title (Dr.) written with a capital.
    provider_title: bool,
    /// A lower-case particle (de, van, la).
    particle: bool,
}

impl Kind {
    /// Classifies `word`. Every token of every window around a date comes
    /// through here, so the word's case and its place in the short lists
    /// are worked out once and shared by the questions asked of them.
    fn of(word: &str) -> Kind {
        let case = case_of(word);
        let cap = case == Some(Case::Cap);
        let suffix = lower_in(SUFFIXES, word);
        let title = lower_in(TITLES, word);
        let provider_title = lower_in(PROVIDER_TITLES, word);
        Kind {
            name: name_word_case(word, case, suffix || title || provider_title),
            suffix,
            title: cap && title,
            provider_title: cap && provider_title,
            particle: lower_in(PARTICLES, word) && word.chars().all(char::is_lowercase),
        }
    }
}

fn tokens(text: &str, lo: usize, hi: usize) -> Vec<Token<'_>> {
    let mut out = Vec::with_capacity(hi.saturating_sub(lo) / 6 + 1);
    let b = text.as_bytes();
    let mut i = lo;
    while i < hi {
        // Blanks, digits and punctuation between words, a byte at a time.
        if b[i] < 0x80 && !b[i].is_ascii_alphabetic() && b[i] != b'\'' {
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_alphabetic() || (c == '\'' && text[i..].starts_with("'t ")) {
            let start = i;
            let mut end = i;
            for (k, ch) in text[i..].char_indices() {
                if ch.is_alphabetic()
                    || ((ch == '\'' || ch == '-' || ch == '’' || ch == '.')
                        && k > 0
                        && !text[i + k + ch.len_utf8()..].starts_with(' '))
                    || (k == 0 && ch == '\'')
                    || ch.is_mark()
                {
                    end = i + k + ch.len_utf8();
                } else {
                    break;
                }
            }
            let word = text[start..end].trim_end_matches(['\'', '-', '’', '.']);
            let end = start + word.len();
            let mut j = end;
            // A title, an initial or a suffix may carry a dot.
            if j < b.len() && b[j] == b'.' {
                j += 1;
            }
            let comma = text[j..].starts_with(',');
            let mut kind = Kind::of(word);
            if kind.name.is_none() && month_named(text, start, j, word) {
                kind.name = Some(Case::Cap);
            }
            out.push(Token {
                start,
                end: j.min(text.len()),
                word,
                comma,
                kind,
            });
            i = j.max(end).max(i + 1);
        } else {
            i += c.len_utf8();
        }
    }
    out
}

/// Whether a month's name at `start..end` is a given name (April, June,
/// May, Jan, Marc): written as a name, in the lists, and not where a date
/// has its month, next to a number ("June 11", "3 May 1978", "Jan. 3rd").
fn month_named(text: &str, start: usize, end: usize, word: &str) -> bool {
    if !super::dates::is_month(word) || case_of(word) != Some(Case::Cap) || !is_first(word) {
        return false;
    }
    let after = text[end..].trim_start_matches([' ', '.', ',', '\t']);
    // Before it, a day: "3 May", "14th May", "the 14th of May".
    let before = text[..start].trim_end_matches([' ', ',', '\t']);
    let before = before.strip_suffix(" of").unwrap_or(before).trim_end();
    let day = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|o| before.strip_suffix(o))
        .unwrap_or(before);
    let numeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    !numeric(after.chars().next()) && !numeric(day.chars().last())
}

trait Mark {
    fn is_mark(&self) -> bool;
}

impl Mark for char {
    /// Combining marks (a decomposed é): part of the word.
    fn is_mark(&self) -> bool {
        matches!(*self as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Xxxx, McDonald, O'Brien, JOHN: written as a name.
    Cap,
    /// xxxx
    Lower,
}

fn case_of(word: &str) -> Option<Case> {
    if word.is_ascii() {
        return ascii_case_of(word.as_bytes());
    }
    unicode_case_of(word)
}

/// [`case_of`] for any word, counting letters as Unicode has them.
fn unicode_case_of(word: &str) -> Option<Case> {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let first = letters.next()?;
    let (mut rest, mut upper, mut lower) = (0usize, 0usize, 0usize);
    for c in letters {
        rest += 1;
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    case_from(
        first.is_uppercase(),
        first.is_lowercase(),
        rest,
        upper,
        lower,
    )
}

/// [`case_of`] for an ASCII word, counting bytes (most words of mail).
fn ascii_case_of(word: &[u8]) -> Option<Case> {
    let mut letters = word.iter().filter(|c| c.is_ascii_alphabetic());
    let first = letters.next()?;
    let (mut rest, mut upper) = (0usize, 0usize);
    for c in letters {
        rest += 1;
        upper += usize::from(c.is_ascii_uppercase());
    }
    let first_upper = first.is_ascii_uppercase();
    case_from(first_upper, !first_upper, rest, upper, rest - upper)
}

/// The case of a word whose first letter is upper or lower case, then
/// `rest` letters of which `upper` are capitals and `lower` small.
fn case_from(
    first_upper: bool,
    first_lower: bool,
    rest: usize,
    upper: usize,
    lower: usize,
) -> Option<Case> {
    if first_upper {
        let lower_rest = upper == 0 && lower == rest;
        let all_caps = rest > 0 && upper == rest;
        // McDonald, DeSantis, O'Brien: one more capital inside.
        let inner = upper <= 2 && rest >= 3;
        return (lower_rest || all_caps || inner).then_some(Case::Cap);
    }
    (first_lower && lower == rest).then_some(Case::Lower)
}

/// Whether a token's dot ends its sentence ("Follow-up. Colposcopy"),
/// rather than an initial's, a title's, a suffix's or a short
/// abbreviation's ("J.", "Mr.", "Jr.", "St."), which a name goes on after.
fn ends_a_sentence(text: &str, t: &Token<'_>) -> bool {
    text.as_bytes()[..t.end].ends_with(b".")
        && t.word.chars().count() > 3
        && !(t.kind.title || t.kind.provider_title || t.kind.suffix)
}

fn is_initial(t: &Token<'_>) -> bool {
    let mut chars = t.word.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.next().is_none()
}

fn lower_in(list: &[&str], word: &str) -> bool {
    let w = word.trim_end_matches('.');
    list.iter().any(|x| x.eq_ignore_ascii_case(w))
}

fn not_name(word: &str) -> bool {
    // Month names (and their abbreviations) are dates' business.
    if super::dates::is_month(word) {
        return true;
    }
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    let set = SET.get_or_init(|| NOT_NAMES.iter().copied().collect());
    if word.len() <= 32 && word.is_ascii() {
        let mut buf = [0u8; 32];
        for (d, s) in buf.iter_mut().zip(word.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        return set.contains(std::str::from_utf8(&buf[..word.len()]).expect("ASCII"));
    }
    set.contains(word.to_lowercase().as_str())
}

/// Whether `word`, of case `case`, can be a word of a name, and in which
/// case; `listed_word` says it is a suffix or a title.
fn name_word_case(word: &str, case: Option<Case>, listed_word: bool) -> Option<Case> {
    if listed_word || word.chars().nth(1).is_none() || not_name(word) {
        return None;
    }
    match case? {
        Case::Cap => Some(Case::Cap),
        Case::Lower => {
            let stop = LOWER_STOP.iter().any(|x| x.eq_ignore_ascii_case(word));
            (!stop && (is_first(word) || is_last(word))).then_some(Case::Lower)
        }
    }
}

/// Whether `t` can be a word of a name written in `case` (the run's case).
fn name_word(t: &Token<'_>, case: Option<Case>) -> Option<Case> {
    t.kind.name.filter(|c| case.is_none_or(|run| run == *c))
}

/// The person a Subject names, when the Subject (after its "Re:" and
/// "Fwd:") is one name and nothing else ("Re: Ann Lee", "FW: LEE, ANN")
/// that can be vouched for: a thread about someone, whose replies
/// speak of "her MRI" without the name.
pub fn subject_name(text: &str, range: std::ops::Range<usize>) -> Option<Name> {
    const PREFIXES: &[&str] = &["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "rv:"];
    let mut rest = text.get(range.clone())?;
    loop {
        rest = rest.trim_start();
        match PREFIXES.iter().find(|p| {
            rest.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        }) {
            Some(p) => rest = &rest[p.len()..],
            None => break,
        }
    }
    let rest = rest.trim_end();
    // (`rest` is a slice of `text`.)
    let start = rest.as_ptr() as usize - text.as_ptr() as usize;
    let end = start + rest.len();
    // Only a name that begins the Subject can be all of it: the run from
    // its first word.
    let toks = tokens(text, start, end);
    if toks.is_empty() {
        return None;
    }
    run(text, &toks, 0)
        .map(|(n, _)| n)
        .filter(|n| n.start == start && n.end == end && n.vouchable() && !n.provider && !n.greeting)
}

/// Names in `text[lo..hi]`.
pub fn find(text: &str, lo: usize, hi: usize) -> Vec<Name> {
    let hi = hi.min(text.len());
    let toks = tokens(text, lo, hi);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match run(text, &toks, i) {
            Some((name, _)) if name.start == toks[i].start && acronym_before_a_word(&toks, i) => {
                // "MRI L-spine", "EKG Smith": a test's initials before a
                // word, not a name's first part.
                i += 1;
            }
            Some((name, next)) => {
                // A word capitalised only because it begins a sentence
                // ("Roomed Kristjan Sepp at 9:05") is not the name's.
                let (name, next) = match sentence_word(text, &toks, i)
                    .then(|| run(text, &toks, i + 1))
                    .flatten()
                {
                    Some((rest, after)) if rest.end == name.end => (rest, after),
                    _ => (name, next),
                };
                out.push(name);
                i = next;
            }
            None => i += 1,
        }
    }
    out
}

/// Whether token `i` is initials (two to four capitals, no list's name)
/// before a word that is not in capitals: an abbreviation in mixed-case
/// text ("MRI L-spine"). A name in capitals is all in capitals ("ANN LEE",
/// "LEE, Ann"), or its capitals are a listed surname ("WANG Wei").
fn acronym_before_a_word(toks: &[Token<'_>], i: usize) -> bool {
    let upper = |w: &str| w.bytes().all(|b| b.is_ascii_uppercase());
    let t = &toks[i];
    let Some(next) = toks.get(i + 1) else {
        return false;
    };
    (2..=4).contains(&t.word.len())
        && upper(t.word)
        && !upper(next.word.trim_end_matches([',', '.']))
        && !is_first(t.word)
        && !is_last(t.word)
}

/// Whether token `i` begins a sentence (a line, or after its end) and is
/// a word of English no list has as a name: capitalised for the
/// sentence, not as a name.
fn sentence_word(text: &str, toks: &[Token<'_>], i: usize) -> bool {
    let t = &toks[i];
    let before = text[..t.start].trim_end_matches([' ', '\t']);
    let starts = before.is_empty() || before.ends_with(['.', '!', '?', ':', '\n', '\r']);
    if !starts || t.kind.name != Some(Case::Cap) || !t.word.is_ascii() {
        return false;
    }
    let mut buf = [0u8; 40];
    let l = lists();
    // (A word the lists have only as a surname, before a listed given
    // name, is the sentence's too: "Send Ivana Petrovic's account".)
    key(t.word, &mut buf).is_some_and(|k| {
        listed(&l.words, k)
            && !listed(&l.first, k)
            && (!listed(&l.last, k) || toks.get(i + 1).is_some_and(|n| is_first(n.word)))
    })
}

/// A name starting at token `i`, and the token after it.
fn run(text: &str, toks: &[Token<'_>], i: usize) -> Option<(Name, usize)> {
    let newborn = newborn_title(text, toks, i);
    let title = toks[i].kind.title || newborn;
    let provider_title = toks[i].kind.provider_title;
    let greets = if title || provider_title {
        0
    } else {
        greeting_at(text, toks, i)
    };
    let begin = if newborn {
        i + 2
    } else if greets > 0 {
        i + greets
    } else if title || provider_title {
        i + 1
    } else {
        i
    };
    let mut j = begin;
    let mut case = None;
    // Full words before and after a comma ("Last, First").
    let mut before: Vec<usize> = Vec::new();
    let mut after: Vec<usize> = Vec::new();
    let mut reversed = false;
    let mut suffix = false;
    // A given name written as its initial: before the surname ("J.
    // Smith") or after it ("Smith, J."), the end of the latter.
    let mut lead_initial = false;
    let mut tail_initial = None;
    let mut last_end = toks.get(begin)?.start;
    let mut vouched = None;
    while j < toks.len() && before.len() + after.len() < 5 {
        let t = toks[j];
        if j > begin {
            let prev = toks[j - 1];
            let gap = &text[prev.end..t.start];
            let spaces = gap.chars().all(|c| c == ' ' || c == '\t');
            let comma_gap = prev.comma && gap.trim() == "," && !gap.contains('\n');
            if gap.len() > 3 || !(spaces || comma_gap) || ends_a_sentence(text, &prev) {
                break;
            }
            if comma_gap {
                if reversed || before.is_empty() {
                    break;
                }
                reversed = true;
            }
        }
        let here = if reversed { after.len() } else { before.len() };
        if t.kind.suffix && here > 0 {
            suffix = true;
        } else if is_initial(&t) && !(before.is_empty() && after.is_empty()) {
            // An initial in the middle (or after "Last, First").
            if reversed && after.is_empty() && dotted(&t) {
                tail_initial = Some(t.end);
            }
        } else if j == begin && is_initial(&t) && dotted(&t) {
            lead_initial = true;
        } else if case == Some(Case::Lower) && !before.is_empty() && !reversed && lower_initial(&t)
        {
            // A middle initial written in lower case ("jason n. boatemaa").
        } else if t.kind.particle && case != Some(Case::Lower) {
            // Particles ("de la") must be followed by a name word.
            let next_ok = toks[j + 1..]
                .iter()
                .find(|n| !lower_in(PARTICLES, n.word))
                .is_some_and(|n| name_word(n, case.or(Some(Case::Cap))).is_some());
            if !next_ok {
                break;
            }
        } else if let Some(c) = name_word(&t, case).or_else(|| {
            // An unlisted word of a lower-case name its label vouches for
            // ("Patient: jason boatemaa").
            (case == Some(Case::Lower)
                && !reversed
                && t.word.chars().nth(1).is_some()
                && case_of(t.word) == Some(Case::Lower)
                && !not_name(t.word)
                && !LOWER_STOP.iter().any(|x| x.eq_ignore_ascii_case(t.word))
                && *vouched.get_or_insert_with(|| vouched_lower(text, toks[begin].start)))
            .then_some(Case::Lower)
        }) {
            case = Some(c);
            if reversed {
                after.push(j);
            } else {
                before.push(j);
            }
        } else {
            break;
        }
        last_end = t.end;
        j += 1;
        // A possessive ends the name: what follows is the person's
        // ("Mr. Quist's INR"), not more of the name.
        if t.word.ends_with("'s") || t.word.ends_with("’s") {
            break;
        }
    }
    // Trailing initials and particles are not part of the name.
    // ("Last, First M." keeps its middle initial.)
    while j > begin && trailing_filler(toks, j - 1, &before, &after, reversed) {
        j -= 1;
        last_end = if j > begin {
            toks[j - 1].end
        } else {
            toks[begin].start
        };
    }
    if reversed && after.is_empty() {
        reversed = false;
    }
    let full = before.len() + after.len();
    // An initial and a listed surname, written as a name.
    let initialled = full == 1
        && case == Some(Case::Cap)
        && (lead_initial || tail_initial.is_some())
        && is_last(toks[before[0]].word);
    // One name word as the value of a form's name field ("Last name:
    // Mokoena"): the form says what it is.
    let field = full == 1 && !reversed && name_field(text, toks[begin].start);
    // The reader's given name after a greeting: one listed given name,
    // then the greeting's comma, colon or bang, or the end of its line.
    let greeting = greets > 0
        && full == 1
        && !reversed
        && !suffix
        && case == Some(Case::Cap)
        && is_first(toks[before[0]].word)
        && text[last_end..]
            .trim_start_matches([' ', '\t'])
            .starts_with([',', '!', ':', '\r', '\n']);
    if full == 0 || (full < 2 && !title && !provider_title && !initialled && !field && !greeting) {
        return None;
    }
    if initialled && let Some(end) = tail_initial {
        last_end = end;
    }
    let (first_i, last_i) = if reversed {
        (after[0], *before.last()?)
    } else if full == 1 {
        (before[0], before[0])
    } else {
        (before[0], *before.last()?)
    };
    let lower = case == Some(Case::Lower);
    let first_listed = full >= 2 && is_first(toks[first_i].word);
    // (A greeting's one word is a given name, not a family name.)
    let last_listed = !greeting && is_last(toks[last_i].word);
    // (A newborn's title in lower case has vouched for its family name.)
    let lower_newborn = newborn && case_of(toks[i].word) == Some(Case::Lower);
    if lower
        && !lower_newborn
        && !(first_listed && last_listed)
        && !((first_listed || last_listed)
            && vouched.unwrap_or_else(|| vouched_lower(text, toks[begin].start)))
    {
        return None;
    }
    // A surname written with its particle after a listed given name
    // ("Celina Mac Conámha", "Veronica B. Ó Duithche", "Ana de Oliveira"):
    // the shape of a family name, whether or not a list has it.
    let particled = !last_listed
        && !reversed
        && first_listed
        && last_i > first_i + 1
        && particle_word(toks[last_i - 1].word);
    // (A middle word the lists have as a name is a name too: "Wiremu Tane
    // Parata"; so is a particle: "Hine Te Rangi".)
    let unlisted = full >= 2
        && !lower
        && !first_listed
        && !last_listed
        && before.iter().chain(&after).all(|&k| {
            let w = toks[k].word;
            unlisted_word(w)
                || (k != first_i
                    && k != last_i
                    && !not_name(w)
                    && (is_first(w) || is_last(w) || particle_word(w)))
        });
    // One part listed, and every other word a name no list has and no
    // word of English, a place or a brand ("Eero Jaaskelainen", "Ngaire
    // Whitcombe"): the lists are American, and the other part is most
    // likely a name they lack rather than a thing.
    let listed_part = if first_listed { first_i } else { last_i };
    let half_listed = full >= 2
        && !lower
        && !particled
        && first_listed != last_listed
        && before
            .iter()
            .chain(&after)
            .filter(|&&k| k != listed_part)
            .all(|&k| unlisted_word(toks[k].word));
    // Family name first with no comma, as file names and chart exports
    // write it ("Bianchi Giulia", "NGUYEN LAN"): two words, the first a
    // surname the lists have and the second a given name they have,
    // neither in its usual place. A little less than the usual order: a
    // firm's name is often written so too.
    let surname_first = full == 2
        && !reversed
        && !lower
        && !first_listed
        && !last_listed
        && is_last(toks[first_i].word)
        && is_first(toks[last_i].word);
    let mut score: f32 = if lower { 0.05 } else { 0.15 };
    let mut why = Vec::new();
    if surname_first {
        score += 0.45;
        why.push("surname then given name, both in lists");
    }
    if first_listed {
        score += 0.35;
        why.push("first name in list");
    }
    if last_listed {
        score += 0.3;
        why.push("surname in list");
    } else if particled {
        score += 0.3;
        why.push("surname with a particle");
    }
    if half_listed {
        score += 0.2;
        why.push(if first_listed {
            "surname no list has"
        } else {
            "given name no list has"
        });
    }
    if title {
        score += 0.4;
        why.push("title");
    }
    if suffix {
        score += 0.1;
        why.push("suffix");
    }
    if initialled {
        why.push("initial");
    }
    if field && !title {
        score += 0.4;
        why.push("name field");
    }
    if greeting {
        score += 0.35 + 0.3;
        why.push("given name in list, after a greeting");
    }
    if lower {
        why.push("lower case");
    }
    let start = if title || provider_title {
        toks[i].start
    } else {
        toks[begin].start
    };
    let end = last_end.max(start);
    let provider = provider_title || credential_after(text, end);
    Some((
        Name {
            start,
            end,
            score: score.min(1.0),
            why: if why.is_empty() {
                "capitalised words".into()
            } else {
                why.join(", ")
            },
            provider,
            greeting,
            unlisted,
        },
        j.max(i + 1),
    ))
}

/// How many tokens from `i` are a greeting that opens its line ("Hi",
/// "Dear", "Hello", "Hey", "Good morning", written with a capital) with a
/// word after it on the line; 0 if none.
fn greeting_at(text: &str, toks: &[Token<'_>], i: usize) -> usize {
    const GREETINGS: &[&str] = &["hi", "hello", "hey", "dear"];
    const TIMES: &[&str] = &["morning", "afternoon", "evening"];
    let Some(g) = toks.get(i) else {
        return 0;
    };
    if case_of(g.word) != Some(Case::Cap) {
        return 0;
    }
    let len = if lower_in(GREETINGS, g.word) {
        1
    } else if g.word.eq_ignore_ascii_case("good")
        && toks
            .get(i + 1)
            .is_some_and(|t| lower_in(TIMES, t.word) && matches!(&text[g.end..t.start], " " | "\t"))
    {
        2
    } else {
        return 0;
    };
    let (Some(last), Some(next)) = (toks.get(i + len - 1), toks.get(i + len)) else {
        return 0;
    };
    // Only indentation may come before it on its line (looked for
    // close by: a long line is not read again for every word on it).
    let from = text.floor_char_boundary(g.start.saturating_sub(16));
    let before = &text[from..g.start];
    let opens_line = match before.rfind('\n') {
        Some(n) => before[n + 1..].trim().is_empty(),
        None => from == 0 && before.trim().is_empty(),
    };
    if opens_line && matches!(&text[last.end..next.start], " " | "\t") {
        len
    } else {
        0
    }
}

/// Whether tokens `i` and `i + 1` are the two-word title of a newborn's
/// chart name, given before the family name ("Baby Boy Okafor", "BABY
/// GIRL LEE"). In lower case only before a listed surname that is no
/// English word ("baby girl okafor"; not "baby boy born").
fn newborn_title(text: &str, toks: &[Token<'_>], i: usize) -> bool {
    let (Some(baby), Some(sex)) = (toks.get(i), toks.get(i + 1)) else {
        return false;
    };
    let Some(case) = case_of(baby.word) else {
        return false;
    };
    baby.word.eq_ignore_ascii_case("baby")
        && ["boy", "girl"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(sex.word))
        && matches!(&text[baby.end..sex.start], " " | "\t")
        && toks.get(i + 2).is_some_and(|family| {
            case != Case::Lower || (is_last(family.word) && !english(family.word))
        })
}

/// Whether `word` is in the list of English words.
fn english(word: &str) -> bool {
    let mut buf = [0u8; 40];
    key(word, &mut buf).is_some_and(|k| listed(&lists().words, k))
}

/// Whether the word at `start` is the value of a form's name field: on
/// its line after "First name:", "Last name:", "Surname:" and the like,
/// with at most a patient word before the label.
fn name_field(text: &str, start: usize) -> bool {
    const FIELDS: &[&str] = &[
        "first name",
        "last name",
        "given name",
        "family name",
        "surname",
        "middle name",
        "legal name",
        "preferred name",
    ];
    // A label is short: look back no further than this, so a long line
    // is not read again for every word on it.
    const REACH: usize = 40;
    let from = text.floor_char_boundary(start.saturating_sub(REACH));
    let before = &text[from..start];
    let line = match before.rfind('\n') {
        Some(i) => &before[i + 1..],
        // Cut inside a line: drop the word the cut may have split.
        None if from > 0 => before.split_once(' ').map_or("", |(_, rest)| rest),
        None => before,
    };
    // The last field of the line ("First name: Ann   Last name:").
    let line = line.rsplit(['\t', '|']).next().unwrap_or(line);
    let line = line
        .rsplit("  ")
        .find(|f| !f.trim().is_empty())
        .unwrap_or(line);
    let Some(label) = line.trim_end().strip_suffix(':') else {
        return false;
    };
    let label = label.trim();
    let label = ["patient's ", "patient ", "pt "]
        .iter()
        .find_map(|p| {
            label
                .get(..p.len())
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &label[p.len()..])
        })
        .unwrap_or(label);
    FIELDS.iter().any(|f| f.eq_ignore_ascii_case(label))
}

/// A lone lower-case letter with its dot ("n."): a middle initial only
/// inside a lower-case name.
fn lower_initial(t: &Token<'_>) -> bool {
    let mut chars = t.word.chars();
    chars.next().is_some_and(char::is_lowercase) && chars.next().is_none() && dotted(t)
}

/// Whether the lower-case name at `start` is vouched for by what comes
/// before it on its line: a patient's or a name's label ("Patient:",
/// "Name:", "Pt:") or "for" ("results for john boatemaa"). Lower case is
/// how hurried mail writes names, and the lists cannot have every
/// surname; without a label a lower-case name needs both parts listed.
fn vouched_lower(text: &str, start: usize) -> bool {
    const LABELS: &[&str] = &[
        "patient:",
        "pt:",
        "name:",
        "patient name:",
        "pt name:",
        "client:",
        "resident:",
        "member:",
        "for",
    ];
    let from = text.floor_char_boundary(start.saturating_sub(24));
    let before = text[from..start].trim_end_matches([' ', '\t']);
    let line = before.rsplit('\n').next().unwrap_or(before);
    LABELS.iter().any(|l| {
        line.len() >= l.len()
            && line.is_char_boundary(line.len() - l.len())
            && line[line.len() - l.len()..].eq_ignore_ascii_case(l)
            && line[..line.len() - l.len()]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Whether an initial is written with its dot ("J."): a lone capital
/// letter is as often a list mark, a grade or a pronoun.
fn dotted(t: &Token<'_>) -> bool {
    t.end > t.start + t.word.len()
}

fn suffix_at(toks: &[Token<'_>], k: usize) -> bool {
    toks[k].kind.suffix
}

/// Whether token `k`, at the end of a run, is filler to drop: not a name
/// word, not a suffix, and not the middle initial of `Last, First M.`.
fn trailing_filler(
    toks: &[Token<'_>],
    k: usize,
    before: &[usize],
    after: &[usize],
    reversed: bool,
) -> bool {
    let word = before.contains(&k) || after.contains(&k);
    let middle_initial = reversed && !after.is_empty() && is_initial(&toks[k]);
    !(word || suffix_at(toks, k) || middle_initial)
}

/// Whether a credential follows the name (`Jane Doe, MD`, `Ann Lee RN`).
fn credential_after(text: &str, end: usize) -> bool {
    let mut stop = text.len().min(end + 16);
    while !text.is_char_boundary(stop) {
        stop -= 1;
    }
    let rest = text.get(end..stop).unwrap_or("");
    let rest = rest.trim_start_matches([',', ' ']);
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '.' || *c == '-')
        .collect();
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    !w.is_empty()
        && CREDENTIALS.contains(&w.as_str())
        && word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hyphenated given name is one when each of its parts is.
    #[test]
    fn hyphenated_given_names() {
        for w in ["Jean-Luc", "Mary-Kate", "Dong-hyun", "Ji-Min"] {
            assert!(is_first(w), "{w}");
        }
        for w in ["Dong-xqzv", "Will-call", "Drop-off"] {
            assert!(!is_first(w), "{w}");
        }
    }

    /// The byte-counting path for ASCII words says what the Unicode one
    /// says, on every shape of word a name run asks about.
    #[test]
    fn ascii_words_have_the_case_unicode_gives_them() {
        for w in [
            "Ann",
            "ann",
            "ANN",
            "McDonald",
            "DeSantis",
            "O'Brien",
            "o'brien",
            "A",
            "a",
            "aB",
            "AbCdE",
            "ABc",
            "x-ray",
            "X-Ray",
            "Lee-Smith",
            "'t",
            "JR",
            "Jr",
            "iPhone",
            "MRI",
            "mRNA",
            "",
            "'",
            "--",
            "A1",
            "1a",
            "eBay",
        ] {
            assert_eq!(ascii_case_of(w.as_bytes()), unicode_case_of(w), "{w:?}");
        }
    }

    fn names(text: &str) -> Vec<(&str, f32)> {
        find(text, 0, text.len())
            .into_iter()
            .map(|n| (&text[n.start..n.end], n.score))
            .collect()
    }

    fn one(text: &str) -> String {
        let n = names(text);
        assert_eq!(n.len(), 1, "{text}: {n:?}");
        n[0].0.to_string()
    }

    /// A family name first with no comma, both parts in the lists.
    #[test]
    fn a_surname_first_without_a_comma() {
        let text = "referral Bianchi Giulia dob";
        let n = find(text, 0, text.len());
        assert_eq!(n.len(), 1);
        assert_eq!(&text[n[0].start..n[0].end], "Bianchi Giulia");
        assert!(n[0].why.contains("surname then given name"), "{}", n[0].why);
        assert!(n[0].score > 0.5);
        // The usual order is not read as reversed.
        let text = "referral Giulia Bianchi dob";
        assert!(!find(text, 0, text.len())[0].why.contains("surname then"));
    }

    /// A sentence's end parts two capitalised words; an initial's,
    /// a title's or an abbreviation's dot does not.
    #[test]
    fn a_name_stops_at_the_end_of_a_sentence() {
        let text = "Follow-up. Colposcopy for Anastasia Kowalczyk-Nowak";
        let found: Vec<&str> = names(text).into_iter().map(|n| n.0).collect();
        assert_eq!(found, ["Anastasia Kowalczyk-Nowak"]);
        assert_eq!(one("Seen: Ann M. Lee today"), "Ann M. Lee");
        assert_eq!(one("Seen: Mr. Ann Lee today"), "Mr. Ann Lee");
    }

    /// A name no list has is one only when no word of it is English, a
    /// place or a brand.
    #[test]
    fn a_name_no_list_has() {
        let unlisted = |text: &str| {
            find(text, 0, text.len())
                .first()
                .map(|n| (n.unlisted, n.vouchable()))
        };
        assert_eq!(unlisted("see Ngozika Eberechi today"), Some((true, true)));
        // A listed name in the middle does not make the others listed.
        assert_eq!(unlisted("see Wiremu Tane Parata today"), Some((true, true)));
        // Nor does a particle ("Te", "Ni", "Ui").
        assert_eq!(unlisted("see Wiremu Te Parata today"), Some((true, true)));
        assert_eq!(
            unlisted("see Brannagh Ui Dhuibhir today"),
            Some((true, true))
        );
        assert_eq!(
            unlisted("see Wiremu Toaster Parata today"),
            Some((false, false))
        );
        assert_eq!(
            unlisted("see Ngozika Oyelaran-Eberechi's chart"),
            Some((true, true))
        );
        // A word of English, a place or a brand in it.
        assert_eq!(
            unlisted("see Brightwater Pathology today"),
            Some((false, false))
        );
        assert_eq!(unlisted("see Acme Ngozika today"), Some((false, false)));
        assert_eq!(unlisted("see Turin Eberechi today"), Some((false, false)));
        // A listed name is vouched for by its lists, not its shape.
        assert_eq!(unlisted("see Maria Eberechi today"), Some((false, true)));
        // One word, ALL CAPS or lower case is never one by shape alone.
        assert!(unlisted("see Eberechi today").is_none_or(|(u, _)| !u));
        assert!(unlisted("see NGOZIKA EBERECHI today").is_none_or(|(u, _)| !u));
    }

    #[test]
    fn shapes() {
        let n = names("Patient: Mrs. John Stewart\nDOB: 1962-10-19");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].0, "Mrs. John Stewart");
        assert!(n[0].1 > 0.9);
        assert_eq!(one("Nathaniel J. More had a visit"), "Nathaniel J. More");
        assert_eq!(one("Gutierrez, Whitney 2/19/24"), "Gutierrez, Whitney");
        assert_eq!(
            one("Records for Johnnie Jacoby DOB 8/11/92"),
            "Johnnie Jacoby"
        );
        assert!(names("Thank you for your order").is_empty());
        assert!(names("Flu shot clinic is on June 11, 2025").is_empty());
        assert!(names("Sent: Tuesday, August 12, 2025").is_empty());
        // Only a part of the surname in the lists: still a name by
        // shape, scored below one the lists know whole.
        let n = names("Zephyrine Okonkwo-Baptiste");
        assert_eq!(n.len(), 1);
        assert!(n[0].1 < names("Maria Okonkwo-Baptiste")[0].1);
    }

    /// A word of English that begins a sentence is not the first word of
    /// the name after it; a listed given name there still is.
    #[test]
    fn a_sentence_does_not_lend_its_first_word() {
        assert_eq!(one("Roomed Kristjan Sepp at 9:05."), "Kristjan Sepp");
        assert_eq!(one("Ok. Roomed Kristjan Sepp at 9:05."), "Kristjan Sepp");
        assert_eq!(one("Grace Kristjan Sepp at 9:05."), "Grace Kristjan Sepp");
        // A word listed only as a surname, before a listed given name.
        assert_eq!(one("Send Ivana Petrovic to billing."), "Ivana Petrovic");
        // Within a sentence the words stay as they are written.
        assert_eq!(one("we Roomed Kristjan Sepp"), "Roomed Kristjan Sepp");
    }

    #[test]
    fn a_test_s_initials_do_not_begin_a_name() {
        let names = |t: &str| -> Vec<String> {
            find(t, 0, t.len())
                .iter()
                .map(|n| t[n.start..n.end].to_string())
                .collect()
        };
        assert!(names("on file: MRI L-spine 11/21/2026").is_empty());
        assert_eq!(names("see MRI Ann Lee"), ["Ann Lee"]);
        // Names in capitals, all or the surname, and a listed surname.
        assert_eq!(names("see ANN LEE"), ["ANN LEE"]);
        assert_eq!(names("see LEE, Ann"), ["LEE, Ann"]);
        assert_eq!(names("see WANG Wei"), ["WANG Wei"]);
        // Accents dropped from an Irish particle.
        let t = "on Siobhan Ni Bhriain:";
        let why = &find(t, 0, t.len())[0].why;
        assert!(why.contains("surname with a particle"), "{why}");
    }

    /// One part listed and the other a word no list and no dictionary
    /// has: the lists lack it, and it counts for more than a capitalised
    /// word that may be a thing, less than a listed name.
    #[test]
    fn half_listed() {
        let score = |t: &str| {
            find(t, 0, t.len())
                .first()
                .map(|n| (n.score, n.why.clone()))
        };
        let both = score("see Maria Garcia today").unwrap().0;
        let (half, why) = score("see Maria Eberechi today").unwrap();
        assert!(why.contains("surname no list has"), "{why}");
        let (half_first, why) = score("see Ngozika Garcia today").unwrap();
        assert!(why.contains("given name no list has"), "{why}");
        // A listed given name beside an English word or a place is not one.
        let thing = score("see Maria Hospital today").map_or(0.0, |s| s.0);
        let place = score("see Maria Chicago today").map_or(0.0, |s| s.0);
        assert!(
            half < both && half_first < both,
            "{half} {half_first} {both}"
        );
        assert!(half > thing && half > place, "{half} {thing} {place}");
    }

    #[test]
    fn every_form_practice_mail_uses() {
        assert_eq!(one("for JOHN SMITH on"), "JOHN SMITH");
        assert_eq!(one("for john smith, dob"), "john smith");
        assert_eq!(one("Pt: SMITH, JOHN A. DOB"), "SMITH, JOHN A.");
        assert_eq!(
            one("Mrs. Isabella van Northeim Jr. was seen"),
            "Mrs. Isabella van Northeim Jr."
        );
        assert_eq!(one("Pt: Hill III, Melanie"), "Hill III, Melanie");
        assert_eq!(one("for Maria de la Cruz today"), "Maria de la Cruz");
        assert_eq!(
            one("José Müller-Lüdenscheidt called"),
            "José Müller-Lüdenscheidt"
        );
        assert_eq!(one("Mohammed Al-Rashid called"), "Mohammed Al-Rashid");
        assert_eq!(one("Siobhan O'Neil called"), "Siobhan O'Neil");
        assert_eq!(one("Mr. Nguyen called"), "Mr. Nguyen");
        // Lower case only when both parts are in the lists and not words.
        assert!(names("we will grant access").is_empty());
        assert!(names("the may review").is_empty());
    }

    /// Given names the US lists miss, from communities a practice serves
    /// (Turkish, Yoruba, Zulu, Indonesian, Swahili, South Asian), with
    /// their diacritics; common English words stay out.
    #[test]
    fn given_names_beyond_the_us_lists() {
        for name in [
            "Uğur", "Abiodun", "Amahle", "Bhekani", "Dewi", "Aadil", "Almudena",
        ] {
            assert!(is_first(name), "{name}");
        }
        for word in ["Over", "Side", "Yoga", "Nail"] {
            assert!(!is_first(word), "{word}");
        }
        // Surnames too (Zulu, Kalenjin, Yoruba, Turkish, Italian).
        for name in ["Khumalo", "Kiplagat", "Kosoko", "Karadeniz", "Abbagnale"] {
            assert!(is_last(name), "{name}");
        }
    }

    /// Given names that are also months are names away from a number,
    /// and the month of a date next to one.
    #[test]
    fn months_as_given_names() {
        assert_eq!(one("Patient: Kowalski, Jan DOB"), "Kowalski, Jan");
        assert_eq!(one("Pt April Nguyen, DOB"), "April Nguyen");
        assert_eq!(one("for Marc Dupont today"), "Marc Dupont");
        assert_eq!(one("Carter, June  DOB"), "Carter, June");
        for date in [
            "seen June 11 by Ann Lee",
            "born 3 May 1978 to Ann Lee",
            "the 14th of May 1978, Ann Lee",
            "Jan. 3rd, Ann Lee",
            "the 14th of May, Ann Lee",
        ] {
            assert_eq!(one(date), "Ann Lee", "{date}");
        }
    }

    /// A form's name field and a newborn's chart name are names of one
    /// family name.
    #[test]
    fn a_name_field_and_a_newborn() {
        assert_eq!(one("Last name: Mokoena\nDOB"), "Mokoena");
        let both = names("First name: Ann | Last name: Zqxwv | DOB");
        assert_eq!(both.len(), 2, "{both:?}");
        assert_eq!(both[1].0, "Zqxwv");
        assert_eq!(one("PATIENT SURNAME: OKAFOR"), "OKAFOR");
        assert_eq!(one("Baby Boy Okafor, born"), "Baby Boy Okafor");
        assert_eq!(one("BABY GIRL LEE, born"), "BABY GIRL LEE");
        // Not a name field, or no name word in it.
        assert!(names("Company name: Okafor").is_empty());
        assert!(names("Last name: see below").is_empty());
        assert!(names("Baby Boy shower gifts").is_empty());
        assert_eq!(one("baby girl okafor, born"), "baby girl okafor");
        assert!(names("baby boy born 12/01").is_empty());
    }

    /// Lower case: a label or "for" vouches for a name with one listed
    /// part; a lower-case middle initial is an initial there.
    #[test]
    fn a_lower_case_name_under_a_label() {
        assert_eq!(
            one("Patient: daniela r. qorvath, seen"),
            "daniela r. qorvath"
        );
        assert_eq!(
            one("results for tomasz qelwinski 10/30"),
            "tomasz qelwinski"
        );
        assert_eq!(one("PT NAME: daniela qorvath"), "daniela qorvath");
        // Unlabelled, both parts must be listed; a label does not make
        // words or stop words names.
        assert!(names("then daniela qorvath came").is_empty());
        assert!(names("Patient: daniela will call").is_empty());
        assert!(names("forum: daniela qorvath").is_empty());
        // "for" must be a word of its own.
        assert!(names("therefor daniela qorvath").is_empty());
    }

    /// A surname written with its particle after a listed given name has
    /// the shape of a family name.
    #[test]
    fn a_surname_with_its_particle() {
        for text in [
            "Siobhan Mac Giollarnáth",
            "Bridget Ó Raghallaigh",
            "Veronica B. Ó Duithche",
            "Maria de Qorvath",
            "Aoife Ní Bhraonáin",
        ] {
            let n = find(text, 0, text.len());
            assert_eq!(n.len(), 1, "{text}");
            assert!(n[0].why.contains("particle"), "{text}: {n:?}");
            assert!(n[0].score >= 0.75, "{text}: {n:?}");
        }
        // Not after an unlisted first word, nor with nothing between.
        let n = find("Hotel Del Qorvath", 0, 17);
        assert!(n.iter().all(|n| !n.why.contains("particle")), "{n:?}");
        let n = find("Siobhan Giollarnáth", 0, 20);
        assert!(n.iter().all(|n| !n.why.contains("particle")), "{n:?}");
    }

    /// A listed given name alone after a greeting that opens a line is
    /// the reader's name; anything else after a greeting is not a name.
    #[test]
    fn a_greeting_names_the_reader() {
        let n = find("Hi Maria,\n\nyour", 0, 16);
        assert_eq!(n.len(), 1);
        assert!(n[0].greeting && n[0].score > 0.7, "{n:?}");
        assert_eq!(one("Dear Tomasz:\n"), "Tomasz");
        assert_eq!(one("  Hello Aiko!"), "Aiko");
        assert_eq!(one("Good morning Ngozi,\n"), "Ngozi");
        assert_eq!(one("Dear J. Smith,\n"), "J. Smith");
        // A full name after a greeting is a name as anywhere.
        let n = find("Dear Maria Santangelo,", 0, 22);
        assert_eq!(n.len(), 1);
        assert!(!n[0].greeting);
        for text in [
            "Hi Team,",
            "Hi Maria Santangelo",
            "Hello Maria and",
            "The Hi Maria,",
            "hi Maria,",
        ] {
            assert!(
                find(text, 0, text.len()).iter().all(|n| !n.greeting),
                "{text}"
            );
        }
    }

    /// A given name as its initial, beside a listed surname.
    #[test]
    fn an_initial_and_a_surname() {
        assert_eq!(one("J. Smith, DOB 4/3/1962"), "J. Smith");
        assert_eq!(one("Patient: Lee, A. DOB"), "Lee, A.");
        // Without the dot, or beside an unlisted word, it is not one.
        assert!(names("Plan B Smith").is_empty());
        assert!(names("See A. Zqxwv today").is_empty());
    }

    /// Found on a Turkish name: the credential look-ahead cut a character.
    #[test]
    fn multibyte_text_after_a_name_is_safe() {
        let t = "FN:Yalgın Fırat\nBDAY:1971";
        let _ = find(t, 0, t.len());
        for n in 0..8 {
            let t = format!("Jane Doe {}ıı", "x".repeat(n));
            let _ = find(&t, 0, t.len());
        }
    }

    #[test]
    fn providers_are_marked() {
        let n = find("Dr. Anna Lee will see her", 0, 25);
        assert!(n[0].provider);
        let t = "Jane Doe, MD signed";
        assert!(find(t, 0, t.len())[0].provider);
        let t = "Jane Doe signed";
        assert!(!find(t, 0, t.len())[0].provider);
    }
}
