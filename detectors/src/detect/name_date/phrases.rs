//! Readers of the plain text around a name and a date: what may stand
//! between them and still make them one (blanks, an age, a kind of visit),
//! how a phrase joins care to a name ("for NAME", "NAME's A1c"), and what
//! a phrase says of its person (the subject of a verb, an owner of a thing,
//! the reader). They see only text, no context hits, so each is tested on
//! its own phrase.

use crate::detect::names;

/// Whether `after` (the text after a date of birth) names a place: ", in"
/// or "in", then a capitalised word.
pub(super) fn birthplace_after(after: &str) -> bool {
    let rest = after.trim_start_matches([',', ' ']);
    rest.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("in "))
        && rest[3..].chars().next().is_some_and(char::is_uppercase)
}

/// The word that says a specimen was taken, if `before` (the text before
/// a date) ends in one: "collected", "drawn", perhaps with "on" or a colon
/// ("Specimen collected: ", "labs drawn on ").
pub(super) fn specimen_taken(before: &str) -> Option<&str> {
    let b = before.trim_end_matches([' ', ':', ',', '\t']);
    let b = b
        .strip_suffix(" on")
        .or_else(|| b.strip_suffix(" ON"))
        .unwrap_or(b)
        .trim_end();
    ["collected", "drawn"].iter().find_map(|w| {
        let at = b.len().checked_sub(w.len())?;
        let word = b.get(at..)?;
        (word.eq_ignore_ascii_case(w) && !b[..at].ends_with(|c: char| c.is_alphanumeric()))
            .then_some(word)
    })
}

/// Whether `word`, a slice of `text`, is the verb "visit": "visited", or
/// "visit" after a word that makes it one ("will visit", "to visit").
/// The noun ("her visit on", "office visit") is a patient's.
pub(super) fn visit_as_a_verb(text: &str, word: &str) -> bool {
    if word.eq_ignore_ascii_case("visited") {
        return true;
    }
    if !word.eq_ignore_ascii_case("visit") {
        return false;
    }
    let Some(at) = span_in(text, word) else {
        return false;
    };
    let before = text[..at.start].trim_end();
    let prev = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    [
        "will", "to", "can", "could", "would", "may", "might", "should", "please", "and",
    ]
    .iter()
    .any(|v| v.eq_ignore_ascii_case(prev))
}

/// What may stand between a name and a date written as one.
const APPOSITION: [char; 4] = [' ', ',', '(', '-'];

/// Whether `gap` joins a name and a date as one: at most three blanks,
/// commas, opening parentheses or dashes.
pub(super) fn apposed(gap: &str) -> bool {
    gap.len() <= 3 && gap.chars().all(|c| APPOSITION.contains(&c))
}

/// Whether the name that opens `rest` is written as an owner ("Jenna
/// Holt's laptop"): its capitalised words, then "'s".
pub(super) fn possessive_then_a_thing(rest: &str) -> bool {
    rest.split(' ')
        .take(4)
        .take_while(|w| w.starts_with(char::is_uppercase))
        .any(|w| w.ends_with("'s") || w.ends_with("’s"))
}

/// Courtesy titles written with a period.
const COURTESY: [&str; 4] = ["mr. ", "mrs. ", "ms. ", "mx. "];

/// Units of a person's age ("34 yo", "15 mo", "6 weeks old"), longest
/// first; the age is a number then one of these.
const AGE_UNITS: &[&str] = &[
    "years old",
    "year old",
    "year-old",
    "yrs old",
    "yr old",
    "months old",
    "month old",
    "month-old",
    "mo old",
    "weeks old",
    "week old",
    "week-old",
    "wk old",
    "days old",
    "day old",
    "y/o",
    "y.o.",
    "y.o",
    "yo",
    "mos",
    "mo",
    "wks",
    "wk",
];

/// Where an age written right after a name ends ("Ann Lee, 34 yo,",
/// "Ann Lee (67M)", "Ayaan Mehta, 15 mo"): a chart's way of saying whose
/// the lines are. With its closing parenthesis or comma.
pub(super) fn age_after(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let lead = rest.len() - rest.trim_start_matches([' ', ',', '(']).len();
    if lead > 3 {
        return None;
    }
    let rest = &rest[lead..];
    // "(age 4)", "aged 67": the word says it is an age; a unit may follow.
    let said = ["age ", "aged ", "age: "].iter().find_map(|w| {
        rest.get(..w.len())
            .filter(|h| h.eq_ignore_ascii_case(w))
            .map(|_| w.len())
    });
    let lead = lead + said.unwrap_or(0);
    let rest = &rest[said.unwrap_or(0)..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&digits) {
        return None;
    }
    let unit = &rest[digits..];
    // "67M", "42F": the sex right after the number, in capitals.
    let sexed = unit.starts_with(['M', 'F']).then_some(1);
    let spaced = unit.strip_prefix([' ', '-']).unwrap_or(unit);
    let len = sexed
        .filter(|_| !unit[1..].starts_with(|c: char| c.is_alphanumeric()))
        .or_else(|| {
            AGE_UNITS
                .iter()
                .find(|u| {
                    spaced
                        .get(..u.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(u))
                        && !spaced[u.len()..].starts_with(|c: char| c.is_alphanumeric())
                })
                .map(|u| unit.len() - spaced.len() + u.len())
        })
        // (After the word, the unit may be left out: "(age 4)".)
        .or_else(|| {
            (said.is_some() && !unit.starts_with(|c: char| c.is_alphanumeric())).then_some(0)
        })?;
    let end = at + lead + digits + len;
    let close = text[end..].starts_with([')', ',']);
    Some(end + usize::from(close))
}

/// Whether `text[gap]` joins a name and a date as one, alone or around
/// the kind of visit that gave the date its role, a slice of `text`
/// ("Bao Tran Nguyen - spirometry 12/09/2026").
pub(super) fn apposed_with(text: &str, gap: std::ops::Range<usize>, word: Option<&str>) -> bool {
    if apposed(&text[gap.clone()]) {
        return true;
    }
    word.and_then(|w| span_in(text, w)).is_some_and(|w| {
        gap.start <= w.start
            && w.end <= gap.end
            && apposed(&text[gap.start..w.start])
            && apposed(&text[w.end..gap.end])
    })
}

/// Whether `before` (the few bytes before a date) ends in a letter and
/// then a gap that joins it to the date.
pub(super) fn follows_a_word(before: &str) -> bool {
    let word = before.trim_end_matches(APPOSITION);
    // (Or a parenthesis closed after the name: "Ann Lee (67M) 3/4/2026".)
    apposed(&before[word.len()..])
        && word
            .chars()
            .last()
            .is_some_and(|c| c.is_alphabetic() || c == ')')
}

/// Where the full name (two capitalised words) ends, if `text` ends in
/// one and then a verb in the past ("Chloe Martin was ", "Ann Lee has been
/// "), or one that gives the person the care ("Ann Lee underwent ", "Ann
/// Lee is booked for a ", "Ann Lee has her "), or one told of it as hers
/// ("tell Ann Lee her ", "remind Ann Lee his "). Plans and schedules on their
/// own ("will review", "is out") are as often office life; what is booked
/// for a name is care only when a care word follows.
pub(super) fn names_a_subject(text: &str) -> Option<usize> {
    // Right before the care word.
    const BARE: [&str; 4] = [" was ", " has been ", " her ", " his "];
    // Before the care word or its article or owner ("had a ", "is booked
    // for her ").
    const CARE_GIVEN: [&str; 13] = [
        " was treated for ",
        " is being treated for ",
        " was seen for ",
        " was admitted for ",
        " was admitted with ",
        " is booked for ",
        " was booked for ",
        " is scheduled for ",
        " is due for ",
        " had ",
        " underwent ",
        " is having ",
        " was having ",
    ];
    // Only before an article or an owner: "Ann Lee has a ", "needs her "
    // ("Ann Lee has " is as often "has questions about").
    const THING_GIVEN: [&str; 11] = [
        " has ",
        " needs ",
        " gets ",
        " got ",
        " is getting ",
        " will have ",
        " will get ",
        " came in for ",
        " is coming in for ",
        " is in for ",
        " was in for ",
    ];
    let ending = |text: &str, verbs: &[&str]| {
        verbs
            .iter()
            .find_map(|v| text.ends_with(v).then(|| text.len() - v.len()))
    };
    let article = ["a ", "an ", "her ", "his ", "their "]
        .iter()
        .find_map(|d| text.strip_suffix(d));
    let verb = ending(text, &BARE).or_else(|| ending(text, &CARE_GIVEN));
    let given = || {
        let rest = article?;
        ending(rest, &CARE_GIVEN).or_else(|| ending(rest, &THING_GIVEN))
    };
    let after_a_name = |at: &usize| {
        let mut words = text[..*at].rsplit(' ');
        let capital = |w: Option<&str>| {
            w.is_some_and(|w| {
                let mut c = w.chars();
                c.next().is_some_and(char::is_uppercase)
                    && c.next().is_some_and(char::is_lowercase)
                    && w.chars()
                        .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            })
        };
        capital(words.next()) && capital(words.next())
    };
    // (Perhaps an age or a note in parentheses after the name: "Maya
    // Thompson (age 4) has a ".)
    let past_parentheses = |at: usize| {
        let before = &text[..at];
        before
            .strip_suffix(')')
            .and_then(|b| b.rfind('(').filter(|&o| at - o <= 20))
            .map_or(at, |o| text[..o].trim_end_matches(' ').len())
    };
    verb.map(past_parentheses)
        .filter(after_a_name)
        .or_else(|| given().map(past_parentheses).filter(after_a_name))
}

/// The words that join care to the person it was written for ("results
/// for", "MRI report on", "session with").
const JOINS: [&str; 3] = ["for ", "on ", "with "];

/// The word that joins care to the person it was given to, only after a
/// verb of care given ("flu shot given to"): what is sent to a name is as
/// often an order to a supplier ("vaccine order sent to Henry Schein").
const GIVEN_TO: &str = "to ";

/// Verbs of care given, between the care and its join ("flu shot given
/// to", "labs ordered for").
const GIVEN: [&str; 6] = [
    "given ",
    "administered ",
    "approved ",
    "ordered ",
    "completed ",
    "done ",
];

/// `text` after the first of `heads` it begins with (any case).
pub(super) fn after_any<'s>(text: &'s str, heads: &[&str]) -> Option<&'s str> {
    heads.iter().find_map(|w| {
        text.get(..w.len())
            .filter(|head| head.eq_ignore_ascii_case(w))
            .map(|_| &text[w.len()..])
    })
}

/// Whether `gap`, the text between a care word and a date, joins the
/// care to a name in the same sentence ("[results] for Ann Lee, ", "[flu
/// shot] given to Ann Lee on "): the care is that person's.
pub(super) fn care_for_a_name(gap: &str) -> bool {
    let gap = gap.trim_start_matches(' ');
    let numbered = measured(gap);
    let gap = numbered.unwrap_or(gap);
    let gap = repeated(gap).unwrap_or(gap);
    let gap = written_up(gap).unwrap_or(gap);
    let (given, gap) = after_any(gap, &GIVEN)
        .or_else(|| {
            // A numbered site and what was done there, then a verb of care
            // given ("[tooth #]14 extraction done for", "[room ]3 ...").
            let (word, rest) = numbered?.split_once(' ')?;
            word.chars().all(char::is_alphabetic).then_some(())?;
            after_any(rest, &GIVEN)
        })
        .map_or((false, gap), |g| (true, g));
    let Some(rest) =
        after_any(gap, &JOINS).or_else(|| given.then(|| after_any(gap, &[GIVEN_TO])).flatten())
    else {
        return false;
    };
    // (A courtesy title's period ends no sentence: "for Mr. Oyelowo".)
    let rest = after_any(rest, &COURTESY).unwrap_or(rest);
    let first = rest.split([' ', ',']).next().unwrap_or("");
    // A name with a capital, or a listed given name in lower case
    // ("for folake adebayo").
    (rest.chars().next().is_some_and(char::is_uppercase)
        || (first.chars().all(char::is_lowercase) && names::is_first(first)))
        && rest.len() <= 60
        && !rest.contains(['\n', ';', '?', '!'])
        && !rest.contains(". ")
}

/// `gap` after how often a standing order repeats the care before it
/// ("[INR] every 2 weeks for", "[dressing change] daily for", "[PT]
/// twice a week for"): the care is still the named person's.
pub(super) fn repeated(gap: &str) -> Option<&str> {
    const UNITS: [&str; 8] = [
        "days ", "day ", "weeks ", "week ", "months ", "month ", "hours ", "hrs ",
    ];
    if let Some(rest) = after_any(gap, &["every "]) {
        // "every 2 weeks", "every other day", "every week".
        let count = rest
            .split_once(' ')
            .filter(|(n, _)| {
                n.chars().all(|c| c.is_ascii_digit() || c == '-') && !n.is_empty()
                    || ["other", "two", "three", "four", "six"]
                        .iter()
                        .any(|w| n.eq_ignore_ascii_case(w))
            })
            .map_or(rest, |(_, r)| r);
        return after_any(count, &UNITS);
    }
    let (once, rest) =
        after_any(gap, &["once ", "twice ", "three times "]).map_or((false, gap), |r| (true, r));
    if once {
        return after_any(
            rest,
            &["a day ", "a week ", "a month ", "daily ", "weekly "],
        );
    }
    after_any(rest, &["daily ", "weekly ", "biweekly ", "monthly "])
}

/// `gap` after a value measured by the care before it ("[INR] 3.8 for",
/// "[A1c] 7.2% for", "[BP] 150/90 for"): a number, perhaps with a point,
/// a slash or a percent sign, then a blank.
pub(super) fn measured(gap: &str) -> Option<&str> {
    let end = gap
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '/' | '%')))
        .unwrap_or(gap.len());
    (gap.starts_with(|c: char| c.is_ascii_digit()) && gap[end..].starts_with(' '))
        .then(|| &gap[end + 1..])
}

/// What follows the paperwork of care at the start of `gap` ("results
/// for", "report for"): the care word and its write-up are one thing.
pub(super) fn written_up(gap: &str) -> Option<&str> {
    after_any(
        gap,
        &[
            "results ", "report ", "records ", "notes ", "order ", "form ",
        ],
    )
}

/// The word that joins care to a name at `start`, right before it
/// ("results for Ann Lee", "given to Ann Lee").
pub(super) fn for_before(text: &str, start: usize) -> Option<&str> {
    JOINS.iter().chain([&GIVEN_TO]).find_map(|j| {
        let at = start.checked_sub(j.len())?;
        text.get(at..start)
            .filter(|w| w.eq_ignore_ascii_case(j))
            .map(|w| &w[..j.len() - 1])
    })
}

/// Whether the word after `at` is a noun that makes the words before it
/// a thing's name.
pub(super) fn names_a_thing(text: &str, at: usize, hi: usize) -> bool {
    const THINGS: &[&str] = &[
        "machine",
        "machines",
        "room",
        "rooms",
        "bay",
        "bays",
        "suite",
        "clinic",
        "clinics",
        "certificate",
        "certification",
        "certified",
        "policy",
        "policies",
        "management",
        "season",
        "supply",
        "supplies",
        "supplier",
        "suppliers",
        "program",
        "programs",
        "contract",
        "schedule",
        "education",
        "guideline",
        "guidelines",
        "equipment",
        "protocol",
        "protocols",
        "training",
        "seminar",
        "lecture",
        "credits",
        "vendor",
        "department",
        "team",
        "kit",
        "kits",
        "form",
        "forms",
        "template",
        "templates",
        "macro",
        "macros",
        "company",
        "services",
        "service",
        "awareness",
        "month",
        "week",
        "day",
        "pen",
        "pens",
        "syringe",
        "syringes",
        "needles",
        "vials",
        "order",
        "orders",
        "log",
        "logs",
        "inventory",
        "coverage",
        "staff",
        "update",
        "updates",
        "summary",
        "report",
        "reports",
        "fridge",
        "refrigerator",
        "drive",
        "event",
        "campaign",
        "mandate",
        "manager",
        "director",
        "supervisor",
        "coordinator",
        "technician",
        "tech",
        "techs",
        "therapist",
        "therapists",
        "assistant",
        "aide",
        "center",
        "centers",
        "centre",
        "building",
        "wing",
        "floor",
        "lobby",
        "tour",
        "tours",
        // Equipment and what is done to it.
        "coil",
        "coils",
        "scanner",
        "scanners",
        "unit",
        "units",
        "cart",
        "carts",
        "table",
        "tables",
        "probe",
        "probes",
        "software",
        "license",
        "lease",
        "maintenance",
        "calibration",
        "upgrade",
        "installation",
    ];
    let rest = text[at..hi].trim_start_matches([' ', '\t', '-']);
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let word = &rest[..word_end];
    !word.is_empty() && THINGS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether a capitalised word ends in "'s" here ("Moreau's physical"),
/// as a name does; "the lab's" is not a person's.
pub(super) fn names_possessive(text: &str) -> bool {
    text.match_indices("'s ").any(|(at, _)| {
        let word = text[..at]
            .rsplit(|c: char| !c.is_alphabetic() && c != '-')
            .next()
            .unwrap_or("");
        word.chars().next().is_some_and(char::is_uppercase)
    })
}

/// Whether `text[lo..hi]` speaks of a person, in the third person (he,
/// she, his, her, him; Mr., Mrs., Ms.), as the writer (my, me: "I had my
/// colonoscopy on") or to the reader ("your knee replacement is on"):
/// clinical words there are about someone's body, not a machine's or a
/// program's.
pub(super) fn speaks_of_a_person(text: &str, lo: usize, hi: usize) -> bool {
    let (lo, hi) = (floor_boundary(text, lo), ceil_boundary(text, hi));
    any_word(
        &text[lo..hi],
        &[
            "he", "she", "his", "her", "him", "hers", "my", "me", "mr", "mrs", "ms", "you", "your",
        ],
    )
}

/// Whether `text` speaks to its reader ("your appointment", "you are
/// due"): what a greeting's given name needs to say whose a date is.
pub(super) fn speaks_to_the_reader(text: &str) -> bool {
    any_word(text, &["you", "your"])
}

/// Whether a whole word of `text` is one of `words` (lower case, ASCII);
/// the "you" of "thank you" is politeness, not the reader's care.
fn any_word(text: &str, words: &[&str]) -> bool {
    let mut previous = "";
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .any(|w| {
            let thanks = previous.eq_ignore_ascii_case("thank") && w.eq_ignore_ascii_case("you");
            previous = w;
            !thanks && words.iter().any(|p| p.eq_ignore_ascii_case(w))
        })
}

/// Where `word`, a slice of `text` (as the context words are), lies in
/// it; `None` for any other string.
pub(super) fn span_in(text: &str, word: &str) -> Option<std::ops::Range<usize>> {
    let at = (word.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + word.len() <= text.len()).then_some(at..at + word.len())
}

/// How far from its start a mail header line or a reply attribution
/// writes its date, and how far past the date it may still run.
const HEADER_REACH: usize = 256;

/// Whether the date sits on a line that is about the mail itself: a
/// reply attribution ("On Tue, Mar 3, 2026 ... wrote:") or a header line
/// of a quoted or forwarded message ("Sent:", "Date:"). A "Date:" line is
/// a header only beside another header line ("From:", "To:", "Subject:"):
/// a form's "Date:" field heads a visit note as often.
pub(super) fn mail_header_line(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    // Such a line writes its date near its start, and is short: only
    // [`HEADER_REACH`] bytes on either side of the date are read (a long
    // line is not read again for every date in it).
    let reach = at.saturating_sub(HEADER_REACH);
    let line_start = match memchr::memrchr(b'\n', &b[reach..at]) {
        Some(i) => reach + i + 1,
        None if reach == 0 => 0,
        None => return false,
    };
    let far = ceil_boundary(text, (at + HEADER_REACH).min(b.len()));
    let newline = memchr::memchr(b'\n', &b[at..far]).map(|i| at + i);
    let line_end = newline.unwrap_or(far);
    let line = |s: usize, e: usize| text[s..e].trim_start_matches(['>', ' ', '\t']);
    let starts = |l: &str, p: &str| {
        l.len() >= p.len() && l.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    };
    let this = line(line_start, line_end);
    let has = |p: &str| {
        this.as_bytes()
            .windows(p.len())
            .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
    };
    if (starts(this, "on ") && has("wrote")) || has(" wrote on ") {
        return true;
    }
    if ["sent:", "received:", "envoyé :", "enviado:"]
        .iter()
        .any(|h| starts(this, h))
    {
        return true;
    }
    if !["date:", "datum:"].iter().any(|h| starts(this, h)) {
        return false;
    }
    // The lines just before and after.
    let before = line_start.checked_sub(1).map(|end| {
        let start = memchr::memrchr(b'\n', &b[..end]).map_or(0, |i| i + 1);
        line(start, end)
    });
    // (None when the line runs on past the reach, or ends the text.)
    let after = newline.map(|line_end| {
        let start = line_end + 1;
        let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
        line(start, end)
    });
    [before, after].into_iter().flatten().any(|l| {
        [
            "from:", "to:", "subject:", "cc:", "sent:", "von:", "an:", "betreff:", "de :",
            "objet :",
        ]
        .iter()
        .any(|h| starts(l.trim_end_matches('\r'), h))
    })
}

pub(super) fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(super) fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_joins_a_name_and_a_date() {
        assert!(apposed(", ("));
        assert!(!apposed(" on "));
        let line = "Bao Tran Nguyen - spirometry 12/09/2026";
        let (gap, word) = (15..29, &line[18..28]);
        assert!(apposed_with(line, gap.clone(), Some(word)));
        assert!(!apposed_with(line, gap, None));
        assert!(follows_a_word("Ann Lee, "));
        assert!(!follows_a_word("Ann Lee: "));
    }

    #[test]
    fn an_age_after_a_name() {
        for (text, age) in [
            ("Ann Lee, 34 yo, seen", Some(", 34 yo,")),
            ("Ann Lee (67M) seen", Some(" (67M)")),
            // An age is only a label: a birthday's "30 years old" is one,
            // and the office words around it weigh against it elsewhere.
            ("Ann Lee, 30 years old today", Some(", 30 years old")),
            ("Ann Lee, 34 items", None),
            ("Ann Lee, 1204 Main St", None),
            ("Ann Lee (MD) seen", None),
            ("Ann Lee (age 4) seen", Some(" (age 4)")),
            ("Ann Lee, aged 67, seen", Some(", aged 67,")),
            (
                "Ann Lee, aged 67 years old, seen",
                Some(", aged 67 years old,"),
            ),
            ("Ann Lee, Age: 9, seen", Some(", Age: 9,")),
            ("Ann Lee, age 4B seen", None),
            ("Ann Lee, agenda 4 seen", None),
        ] {
            let at = "Ann Lee".len();
            assert_eq!(age_after(text, at).map(|e| &text[at..e]), age, "{text}");
        }
    }

    #[test]
    fn care_joined_to_a_name() {
        assert!(care_for_a_name(" for Ann Lee, "));
        assert!(care_for_a_name(" given to Ann Lee on "));
        assert!(!care_for_a_name(" for the team. Ann Lee on "));
        assert_eq!(measured("7.2% for Ann Lee"), Some("for Ann Lee"));
        assert_eq!(measured("for Ann Lee"), None);
        assert_eq!(repeated("every 2 weeks for Ann"), Some("for Ann"));
        assert_eq!(repeated("every other day for Ann"), Some("for Ann"));
        assert_eq!(repeated("twice a week for Ann"), Some("for Ann"));
        assert_eq!(repeated("weekly for Ann"), Some("for Ann"));
        assert_eq!(repeated("every 2 for Ann"), None);
        assert_eq!(repeated("for Ann"), None);
        assert!(care_for_a_name(" every 2 weeks for Ann Lee, starting "));
        assert!(care_for_a_name("14 extraction done for Ann Lee "));
        assert!(!care_for_a_name("14 extraction for Ann Lee "));
        assert_eq!(after_any("For Ann", &["for "]), Some("Ann"));
        assert!(possessive_then_a_thing("Jenna Holt's laptop"));
        assert!(!possessive_then_a_thing("Jenna Holt, laptop"));
    }

    #[test]
    fn a_specimen_taken_before_a_date() {
        assert_eq!(specimen_taken("Pap result, collected "), Some("collected"));
        assert_eq!(specimen_taken("Labs DRAWN on "), Some("DRAWN"));
        assert_eq!(specimen_taken("Specimen collected: "), Some("collected"));
        assert_eq!(specimen_taken("recollected "), None);
        assert_eq!(specimen_taken("collected from Ann "), None);
    }

    #[test]
    fn what_a_phrase_says_of_its_person() {
        assert!(speaks_of_a_person("call her back", 0, 13));
        assert!(!speaks_of_a_person("call the vendor", 0, 15));
        assert!(speaks_to_the_reader("your appointment"));
        assert!(!speaks_to_the_reader("thank you for coming"));
        assert!(birthplace_after(", in Lagos"));
        assert!(!birthplace_after(" in the clinic"));
    }

    /// The full name a verb makes the subject of the care after it.
    #[test]
    fn a_name_as_the_subject_of_care() {
        assert_eq!(names_a_subject("Chloe Martin was "), Some(12));
        assert_eq!(names_a_subject("so Ann Lee has her "), Some(10));
        assert_eq!(names_a_subject("Ann Lee has a "), Some(7));
        assert_eq!(names_a_subject("Ann Lee needs her "), Some(7));
        assert_eq!(names_a_subject("Ann Lee is getting an "), Some(7));
        assert_eq!(names_a_subject("tell Ann Lee her "), Some(12));
        assert_eq!(names_a_subject("Maya Thompson (age 4) has a "), Some(13));
        assert_eq!(names_a_subject("the team (all 4) has a "), None);
        // Not a name's: one word, lower case, or no article after "has".
        assert_eq!(names_a_subject("Lee has a "), None);
        assert_eq!(names_a_subject("the team has a "), None);
        assert_eq!(names_a_subject("Ann Lee has "), None);
    }

    #[test]
    fn dates_about_the_mail_itself() {
        let reply = "On Tue, Mar 3, 2026 at 9:14 AM Jane Doe <j@x.example> wrote:";
        assert!(mail_header_line(reply, 8));
        let fwd = "From: Jane Doe\nDate: 3/3/2026\nSubject: hi";
        assert!(mail_header_line(fwd, 21));
        let form = "Visit note\nDate: 3/3/2026\nPatient: Ann Lee";
        assert!(!mail_header_line(form, 17));
    }
}
