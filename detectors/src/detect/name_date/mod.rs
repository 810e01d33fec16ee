//! A person's name next to a date of birth or of service.
//!
//! A name next to a date is ordinary business mail (invitations, forwarded
//! headers, staff news, orders). It is PHI when the person is a patient and
//! the date is theirs, which the text says with evidence, weighed here:
//!
//! - the date's role: a birth date ("DOB", "born") or a service date ("seen
//!   on", "date of service", "admitted") says much; an appointment or a
//!   visit says less, unless the kind of visit is named ("follow-up",
//!   "new patient", "post-op");
//! - care words (symptoms, tests, procedures) around the date, where the
//!   text speaks of a person: a pronoun, a name's "'s", a full name that is
//!   the subject of what happened ("Chloe Martin was diagnosed"), or a name
//!   written as one with a date years past ("Ann Lee, 3/4/1965, ...");
//! - the person's role: a patient label ("Patient:", "Pt") before the name,
//!   or a health-plan role ("member", "insured", "guarantor");
//! - how much the words look like a person's name (lists, title, shape);
//! - against it: words of office life and commerce near the name or the
//!   date (birthday, meeting, webinar, vendor, order, hire...), a provider's
//!   name ("Dr.", "MD"), and dates in reply attributions and forwarded
//!   header blocks, which are about mail, not care.

mod phrases;
mod schedule;
#[cfg(test)]
mod tests;

use self::phrases::{
    after_any, age_after, apposed, apposed_with, birthplace_after, care_for_a_name, ceil_boundary,
    floor_boundary, follows_a_word, for_before, mail_header_line, names_a_subject, names_a_thing,
    names_possessive, possessive_then_a_thing, span_in, speaks_of_a_person, speaks_to_the_reader,
    specimen_taken, visit_as_a_verb, written_up,
};
use self::schedule::schedule_entry;
use super::dates::{self, Date};
use super::names::{self, Name};
use super::{Match, Text, clamp};
use crate::context::{Class, Hit};
use crate::finding::{Category, mask_initials};
use crate::patterns::Kind;

/// How far before a date a name may end, and after it a name may start.
const NAME_BEFORE: usize = 110;
const NAME_AFTER: usize = 50;
/// How far from the name or the date office-life words count against.
const EVENT_WINDOW: usize = 80;

/// Scores a date candidate against the names around it.
pub fn detect(t: &Text<'_>, kind: Kind, start: usize, end: usize) -> Option<Match> {
    let date = dates::parse(kind, &t.text[start..end])?;
    // A month and a day with no year, or a month of a year, is as often a
    // fraction, a ratio or an expiry ("3/4 cup", "2/3 of the staff", "exp
    // 06/2027"): it is a date only where a word of birth, service or care
    // says so, and a name is near.
    let partial = date.year.is_none() || date.day.is_none();
    if partial && !a_day_of_the_year(t.text, start, end) {
        return None;
    }
    let role = date_role(t, &date, start, end);
    if partial && role.weight < 0.25 {
        return None;
    }
    let patient_near = t
        .context(Class::Patient, start, end, NAME_BEFORE + 24, NAME_AFTER)
        .is_some()
        || t.context(Class::Person, start, end, NAME_BEFORE + 24, NAME_AFTER)
            .is_some();
    // Without a role for the date or a patient near it, no name can lift
    // the score to a threshold: skip the name search (most dates end
    // here). With no name near, a day's schedule may follow the date.
    let near = if role.weight == 0.0 && !patient_near {
        None
    } else {
        closest_name(t, start, end)
    };
    let Some(name) = near else {
        // (A date with no year or no day goes only with a name near it.)
        if partial {
            return None;
        }
        if let Some(m) = about_the_subject(t, &date, &role, start, end) {
            return Some(m);
        }
        let (name, role) = schedule_entry(t, start, end)?;
        if mail_header_line(t.text, start) {
            return None;
        }
        return found(t, &date, &role, &name, start, end);
    };
    if mail_header_line(t.text, start) {
        return None;
    }
    // (A given name after the name, in parentheses: a preferred name,
    // "Bill Thompson (William) 2/2/1950", or a surname's given name,
    // "Mrs. Oyelaran (Folasade, 3/30/58)". An age written after the
    // name: "Ann Lee, 5 yo, ...".)
    let given = given_in_parentheses(t.text, name.end, start);
    let name_end = given.unwrap_or(name.end);
    // (The given name is more evidence that the words are a person's.)
    let name = match given {
        Some(_) => Name {
            score: (name.score + 0.2).min(1.0),
            why: format!("{}, given name in parentheses", name.why),
            ..name
        },
        None => name,
    };
    let aged = || age_after(t.text, name_end).filter(|&e| e <= start);
    if role.adjacent
        && !(name_end <= start
            && (apposed_with(t.text, name_end..start, role.word)
                || care_between(t, name_end, start, years_past(t, &date) >= 2)
                || aged().is_some_and(|e| {
                    apposed(&t.text[e..start]) || care_between(t, e, start, true)
                })))
        && !(name.start >= end && entry_of(t, &name, end))
    {
        return None;
    }
    found(t, &date, &role, &name, start, end)
}

/// Where a given name in parentheses right after a name at `at` ends
/// (before `start`): past its ")", or past its comma when what follows is
/// inside them ("Oyelaran (Folasade, 3/30/58)"). Only a name the lists
/// know as a given name, with a capital.
fn given_in_parentheses(text: &str, at: usize, start: usize) -> Option<usize> {
    let gap = text.get(at..start)?;
    let open = gap.len() - gap.trim_start_matches(' ').len();
    let rest = gap[open..].strip_prefix('(')?;
    let len = rest
        .find(|c: char| !(c.is_alphabetic() || c == '-' || c == '\''))
        .unwrap_or(rest.len());
    let word = &rest[..len];
    if !word.starts_with(char::is_uppercase) || !names::is_first(word) {
        return None;
    }
    let after = at + open + 1 + len;
    match text[after..start].bytes().next()? {
        b')' | b',' => Some(after + 1),
        _ => None,
    }
}

/// Whether "12/4" or "06/2024" at `start..end` stands as a date: not a
/// part of a longer run of numbers ("1/2/3", "12/4/", "1 1/2 tabs",
/// "3/4.5"), nor a share ("1/2 of", "3/4 cup", "2/3rds").
fn a_day_of_the_year(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = &b[..start];
    let after = &b[end..];
    let number_before = matches!(before, [.., c] if c.is_ascii_digit() || matches!(c, b'/' | b'.' | b'-' | b'+' | b'$'))
        || matches!(before, [.., d, b' '] if d.is_ascii_digit());
    let number_after = matches!(after, [c, ..] if matches!(c, b'/' | b'-' | b'%' | b'.' | b':') && after.get(1).is_some_and(u8::is_ascii_digit))
        || matches!(after, [b'/' | b'%' | b'x', ..]);
    // An ordinal's ending right after it ("2/3rds", "3/4th"), or a word
    // of quantity after it, whole ("3/4 cup", "1/2 tabs"; not "12/4 then").
    let ordinal = matches!(after, [b'r', b'd', ..] | [b't', b'h', ..]);
    let rest = text[end..].trim_start_matches(' ');
    let word = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .map_or(rest, |e| &rest[..e])
        .to_ascii_lowercase();
    // (A share is a fraction: "3/4 cup", "1/2 tab", "2/3 of"; "12/1
    // dose" is the dose of December 1st.)
    let fraction = text[start..end]
        .split_once('/')
        .and_then(|(n, d)| Some((n.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
        .is_some_and(|(n, d)| n < d && d <= 16);
    let share = fraction
        && matches!(
            word.strip_suffix('s').unwrap_or(&word),
            "of" | "cup"
                | "tsp"
                | "tbsp"
                | "tab"
                | "tablet"
                | "pill"
                | "inch"
                | "in"
                | "mile"
                | "dose"
        );
    !number_before && !number_after && !ordinal && !share
}

/// The closest name on either side of the date that is not a provider's.
/// A name after the date must be on its line, or labelled ("Patient:") on
/// a following one: unlabelled lines after a date are as likely a
/// signature as anything about the date.
fn closest_name(t: &Text<'_>, start: usize, end: usize) -> Option<Name> {
    let lo = floor_boundary(t.text, start.saturating_sub(NAME_BEFORE).max(t.lo));
    let near = ceil_boundary(t.text, (end + NAME_AFTER).min(t.hi));
    // A name labelled as the patient's may be further after the date, a
    // table's header row or a form's other fields between ("Schedule for
    // 12/07/2026", then "Time | Patient | Reason", then "Patient: Ann
    // Lee"): only such a name, as far as names reach before a date.
    let labelled = |n: &Name| t.context(Class::Patient, n.start, n.end, 24, 0).is_some();
    let far = ceil_boundary(t.text, (end + NAME_BEFORE).min(t.hi));
    let patients = t.hits.of(Class::Patient);
    // (Only where a label could stand before a name that begins past
    // the near reach: a name search is the dearest look of all.)
    let from = near.saturating_sub(24).max(end);
    let hi = if patients[patients.partition_point(|h| h.end < from)..]
        .iter()
        .take_while(|h| h.start < far)
        .any(|h| h.end >= from)
    {
        far
    } else {
        near
    };
    names::find(t.text, lo, hi)
        .into_iter()
        .filter(|n| n.start < near || labelled(n))
        .filter(|n| !n.provider)
        .filter(|n| !n.greeting || (n.end <= start && speaks_to_the_reader(&t.text[n.end..start])))
        .filter(|n| !care_in_a_name(t, n))
        .filter(|n| {
            n.end <= start
                || (n.start >= end && (!t.text[end..n.start].contains('\n') || labelled(n)))
        })
        .min_by_key(|n| {
            if n.end <= start {
                start - n.end
            } else {
                n.start - end
            }
        })
}

/// Whether `name`, written in lower case or a name by its shape alone
/// (no list knows its given name and its surname),
/// holds a word of care ("for knee pain", "back pain", "on Eliquis,
/// DNR"): words the lists know as surnames, or a drug's name with a
/// capital, read as the care they are. (A name a list knows in capitals,
/// "Ann Pain", stays a name.)
fn care_in_a_name(t: &Text<'_>, name: &Name) -> bool {
    let text = &t.text[name.start..name.end];
    (name.unlisted || name.score < 0.35 || !text.chars().any(char::is_uppercase))
        && [Class::Clinical, Class::Visit, Class::ServiceWeak]
            .into_iter()
            .any(|c| {
                let hits = t.hits.of(c);
                hits[hits.partition_point(|h| h.end <= name.start)..]
                    .first()
                    .is_some_and(|h| h.start < name.end)
            })
}

/// The finding for `name` with the date at `start..end`, if its score can
/// count.
fn found(
    t: &Text<'_>,
    date: &Date,
    role: &Role<'_>,
    name: &Name,
    start: usize,
    end: usize,
) -> Option<Match> {
    // The word that gave the date its role is the name's own ("Oliver
    // Mole", "Ann Rash"): the name is no evidence of care. (A label of
    // birth read into a name, "Greta Vogel, Geburtsdatum", still is one.)
    if role.kind != "dob"
        && role
            .word
            .and_then(|w| span_in(t.text, w))
            .is_some_and(|r| name.start <= r.start && r.end <= name.end)
    {
        return None;
    }
    let (confidence, why) = weigh(t, role, name, start, end);
    let confidence = clamp(confidence);
    if confidence < t.floor {
        return None;
    }
    let why = why.render(name, role);
    let span = name.start.min(start)..name.end.max(end);
    Some(a_match(t, date, role, name, confidence, span, why))
}

/// The finding for `name` and `date`, over `span` of the text.
fn a_match(
    t: &Text<'_>,
    date: &Date,
    role: &Role<'_>,
    name: &Name,
    confidence: f32,
    span: std::ops::Range<usize>,
    why: String,
) -> Match {
    let name_text = &t.text[name.start..name.end];
    Match {
        category: Category::NameDate,
        rule: format!("name_date.{}", role.kind),
        confidence,
        start: span.start,
        end: span.end,
        // ISO 8601's forms: a date, a date with no year, a month of a year.
        value: match (date.year, date.day) {
            (Some(year), Some(day)) => format!(
                "{}|{:04}-{:02}-{:02}",
                name_text.to_lowercase(),
                year,
                date.month,
                day
            ),
            (None, Some(day)) => format!(
                "{}|--{:02}-{:02}",
                name_text.to_lowercase(),
                date.month,
                day
            ),
            (Some(year), None) => {
                format!("{}|{:04}-{:02}", name_text.to_lowercase(), year, date.month)
            }
            (None, None) => format!("{}|--{:02}", name_text.to_lowercase(), date.month),
        },
        preview: format!("{} + {}", mask_initials(name_text), masked_date(date)),
        why,
    }
}

/// A date of care with no name near it, in a text that speaks of a
/// person ("Her MRI from Nov 3, 2026 shows a tear"), in a message whose
/// Subject is a person's name and nothing else ("Re: Ann Lee"): the
/// thread is about that person, and so is the care.
fn about_the_subject(
    t: &Text<'_>,
    date: &Date,
    role: &Role<'_>,
    start: usize,
    end: usize,
) -> Option<Match> {
    let name = t.subject?;
    if role.weight < 0.25 || (t.lo..t.hi).contains(&name.start) {
        return None;
    }
    let (lo, hi) = (start.saturating_sub(80).max(t.lo), (end + 80).min(t.hi));
    if !speaks_of_a_person(t.text, lo, hi) || mail_header_line(t.text, start) {
        return None;
    }
    let event = office_life(t, start, end, role.word);
    // The thread vouches for its name as care written for it would.
    let confidence = clamp(
        role.weight + 0.4 * name.score.max(0.6) + 0.1 - if event.is_some() { 0.35 } else { 0.0 },
    );
    if confidence < t.floor {
        return None;
    }
    let mut why = format!(
        "name ({}) in the Subject; a date in a text about a person",
        name.why
    );
    if let Some(w) = role.word {
        why.push_str(&format!(
            "; {} context \"{}\"",
            role.kind,
            w.to_ascii_lowercase()
        ));
    }
    if let Some(w) = event {
        why.push_str(&format!("; but \"{}\" nearby", w.to_ascii_lowercase()));
    }
    // Only the date: the name is in another text (the Subject).
    Some(a_match(t, date, role, name, confidence, start..end, why))
}

/// What the text says the date is.
struct Role<'t> {
    weight: f32,
    kind: &'static str,
    word: Option<&'t str>,
    /// The role holds only for a name written right before the date (an
    /// apposition: "Ann Lee, 3/4/1965, came in with a rash").
    adjacent: bool,
    /// The care is written for a name ("results for Ann Lee", "the visit
    /// note from 11/21/2024 for Ann Lee"): that name is the patient, as
    /// under a label.
    for_name: bool,
    /// Where the name the care is told of ends, for care told of a name
    /// ("Ann Lee had surgery on"): that name is the patient's.
    subject: Option<usize>,
}

/// How far from a date every word that can give it a role lies (the
/// widest window below is 80 bytes, by a word's end), with room to spare.
const ROLE_REACH: usize = 96;

/// The classes of every word that can give a date a role (and "birthday",
/// an office word, right before it).
const ROLE_CLASSES: [Class; 6] = [
    Class::Birth,
    Class::Service,
    Class::ServiceWeak,
    Class::Clinical,
    Class::Visit,
    Class::Diagnosis,
];

/// Whether to run every rule of [`date_role`] (a test comparing the
/// quick look with them).
#[cfg(test)]
fn every_rule() -> bool {
    tests::every_rule()
}

#[cfg(not(test))]
fn every_rule() -> bool {
    false
}

fn date_role<'t>(t: &Text<'t>, date: &Date, start: usize, end: usize) -> Role<'t> {
    let none = Role {
        weight: 0.0,
        kind: "date",
        word: None,
        adjacent: false,
        for_name: false,
        subject: None,
    };
    // Most dates (a table's, a newsletter's) have no such word near:
    // one look per class answers for every rule below.
    let reach = start.saturating_sub(ROLE_REACH)..end + ROLE_REACH;
    let any = ROLE_CLASSES.into_iter().any(|c| {
        let hits = t.hits.of(c);
        hits[hits.partition_point(|h| h.end < reach.start)..]
            .first()
            .is_some_and(|h| h.start <= reach.end)
    }) || {
        let events = t.hits.of(Class::Event);
        events[events.partition_point(|h| h.end + ROLE_REACH < start)..]
            .iter()
            .take_while(|h| h.start <= start)
            .any(|h| h.word(t.text).eq_ignore_ascii_case("birthday"))
    };
    if !any && !every_rule() {
        return none;
    }
    let role = |weight, kind, w: &'t str| Role {
        weight,
        kind,
        word: Some(w),
        adjacent: false,
        for_name: false,
        subject: None,
    };
    // The date's surroundings, within its text.
    let (lo, hi) = (start.saturating_sub(80).max(t.lo), (end + 80).min(t.hi));
    if let Some(w) = t.context(Class::Birth, start, end, 48, 8) {
        // A life told as a story ("born March 2, 1960 in Bucharest,
        // founded ..."): a birthplace after a date years past, with no care
        // around, is a biography's, not a record's (a chart writes "DOB";
        // a newborn's date is recent).
        let story = w.get(..4).is_some_and(|b| b.eq_ignore_ascii_case("born"))
            && years_past(t, date) >= 2
            && birthplace_after(&t.text[end..t.hi])
            && [Class::Clinical, Class::Visit]
                .into_iter()
                .all(|c| care_word(t, c, lo, hi).is_none());
        return role(if story { 0.1 } else { 0.6 }, "dob", w);
    }
    // "birthday 3/9/1944", "birthday: 3/9/1944": a birthday written with
    // a year decades past is the date of birth itself (a party's date is
    // this year's or next year's). A colleague's is written so as often
    // ("her birthday is 3/14/1985, so we have cake", a spouse on an
    // emergency contact form), so it weighs next to nothing unless care
    // is written around it (a refill, a medicine): the person must be
    // shown to be a patient.
    if years_past(t, date) >= 10
        && let Some(w) = t.context(Class::Event, start, end, 16, 0)
        && w.eq_ignore_ascii_case("birthday")
        && let Some(at) = span_in(t.text, w)
        && matches!(
            t.text[at.end..start].trim_matches([' ', ':', '-']),
            "" | "is"
        )
    {
        let care = [Class::Clinical, Class::Visit]
            .into_iter()
            .any(|c| care_word(t, c, lo, hi).is_some());
        return role(if care { 0.3 } else { 0.1 }, "dob", w);
    }
    // Service words count only before the date ("seen on 3/4/2025",
    // "date of service: ..."): after it they start another sentence.
    // (Not in a thing's name: "the discharge summary macros".)
    if let Some(w) = t.context(Class::Service, start, end, 60, 0)
        && !names_a_thing_at(t, Class::Service, w)
    {
        return role(0.5, "dos", w);
    }
    // ...or after it in the same sentence ("March 3: Ann Lee was seen").
    let service = t.hits.of(Class::Service);
    if let Some(h) = service[service.partition_point(|h| h.start < end)..]
        .first()
        .filter(|h| h.start <= (end + 60).min(t.hi))
        && !t.text[end..h.start].contains(['.', '\n', ';'])
    {
        return role(0.5, "dos", h.word(t.text));
    }
    // A specimen's date ("collected 11/18/2026", "drawn on 12/01/2026")
    // is a test's when its sentence names the test or the care before it
    // ("Pap result for Ann Lee, collected ..."): a package, a payment or
    // a donation is collected too.
    let near = floor_boundary(t.text, lo);
    if let Some(w) = specimen_taken(&t.text[near..start]) {
        let from = t.text[near..start]
            .rfind(['.', ';', '!', '?', '\n'])
            .map_or(near, |i| near + i + 1);
        let tested = [Class::Clinical, Class::Visit, Class::ServiceWeak]
            .into_iter()
            .any(|c| care_word(t, c, from, start).is_some());
        if tested {
            return Role {
                for_name: care_before(t, from, start, care_for_a_name).is_some(),
                ..role(0.25, "dos", w)
            };
        }
    }
    if let Some(w) = t.context(Class::ServiceWeak, start, end, 50, 0) {
        // A calendar event is an appointment only when it says what kind
        // (or whose): on its own it is as likely a meeting. So is a visit
        // someone makes ("will visit", "visited on"): a rep's, an owner's.
        // What is scheduled, when it is named and is not care, is not a
        // visit at all ("scheduled 1/12/2027 for the office move").
        let weight = if scheduled_for_a_thing(t, w, end) {
            0.05
        } else if w.eq_ignore_ascii_case("calendar event")
            || visit_as_a_verb(t.text, w)
            || came_in_for_no_care(t, w, lo, hi)
        {
            0.15
        } else {
            0.25
        };
        // Perhaps care written for a name before it ("MRI report on Ann
        // Lee (scan 11/17/2026)").
        return Role {
            for_name: weight >= 0.25 && care_before(t, lo, start, care_for_a_name).is_some(),
            ..role(weight, "dos", w)
        };
    }
    // The words below say less about whose the date is: they count where
    // the text speaks of a person (he, she, a name's "'s", a patient
    // word), not of machines, rooms or programs.
    let personal = || {
        speaks_of_a_person(t.text, lo, hi)
            || names_possessive(&t.text[floor_boundary(t.text, lo)..start])
            || t.around(Class::Patient, start, end, 80, 80).is_some()
    };
    // A full name that is the subject of care told in the past ("Chloe
    // Martin was diagnosed with strep on", "Ann Lee had surgery") or
    // given to the person ("Ann Lee has her MRI"): the care word right
    // after the verb, not a thing ("had the lab coats"). The care is that
    // name's, as under a label. So is a kind of visit booked for the name
    // ("Ann Lee is booked for colonoscopy").
    if let Some((kind, h, at)) = care_hits(t, lo, start)
        .filter(|(_, h)| h.label.is_none())
        .find_map(|(kind, h)| {
            // (A word can begin before the window it ends in.)
            let from = floor_boundary(t.text, lo).min(h.start);
            let at = names_a_subject(&t.text[from..h.start])?;
            (!names_a_thing(t.text, h.end, t.hi)).then_some((kind, h, from + at))
        })
    {
        return Role {
            subject: Some(at),
            ..role(0.25, kind, h.word(t.text))
        };
    }
    // Clinical words right before the date: part of someone's care
    // ("drawn 4/1/26", "vaccinated on 3/1/2026", "chest pain since"),
    // perhaps written for a name before them ("PA approved for Ann Lee:
    // Humira 40 mg q2wk, effective 11/15/2026").
    if let Some(h) = care_word(
        t,
        Class::Clinical,
        start.saturating_sub(16).max(t.lo),
        start,
    ) {
        return Role {
            for_name: care_before(t, lo, start, care_for_a_name).is_some(),
            ..role(0.25, "clinical", h.word(t.text))
        };
    }
    // A named kind of visit before the date ("her ultrasound from 2/24")
    // or after it in its sentence, which a line break does not end
    // ("4/2/2026\nReason: follow-up"); an appointment word right after it
    // on its line ("his 3/18/2026 appointment"); or clinical words around
    // it ("last dose given ...; he was vomiting"). None that names a thing
    // ("the x-ray room", "the MRI suite").
    let upto = |stops: &[char], reach: usize| {
        let far = ceil_boundary(t.text, (end + reach).min(t.hi));
        t.text[end..far].find(stops).map_or(far, |e| end + e)
    };
    let sentence_end = upto(&['.', ';', '?', '!'], 60);
    let line_end = upto(&['.', '\n', ';', '?', '!'], 30);
    let care = care_word(t, Class::Visit, start.saturating_sub(50).max(t.lo), start)
        .or_else(|| care_word(t, Class::Visit, end, sentence_end))
        .or_else(|| care_word(t, Class::ServiceWeak, end, line_end))
        .map(|h| ("dos", h))
        .or_else(|| care_word(t, Class::Clinical, lo, hi).map(|h| ("clinical", h)));
    // The care written for a name after the date ("pull the colonoscopy
    // report from 11/21/2024 for Ann Lee"): care in the sentence before
    // the date, "for" and a name right after it.
    let after = &t.text[end..sentence_end.max(end)];
    let after = after.find('\n').map_or(after, |e| &after[..e]);
    if after_any(after.trim_start(), &["for "]).is_some()
        && care_for_a_name(after)
        && let Some((kind, h)) = care_before(t, start.saturating_sub(50), start, |gap| {
            !gap.contains(['\n', '.', ';', '?', '!'])
        })
    {
        return Role {
            for_name: true,
            ..role(0.25, kind, h.word(t.text))
        };
    }
    // ...or the care named right after the date, then "for" and a name
    // ("the 11/12/2026 claim for Ann Lee", "her 3/4 MRI for Ann Lee").
    // (A claim, or another word of a diagnosis, is for a person, not for
    // a thing the person owns: "the claim for Jenna Holt's laptop".)
    let claims = t.hits.of(Class::Diagnosis);
    if let Some((kind, h)) = care_hits(t, end, sentence_end)
        .chain(
            claims[claims.partition_point(|h| h.start < end)..]
                .iter()
                .take_while(|h| h.end <= sentence_end)
                .map(|h| ("dx", h)),
        )
        .find(|&(kind, h)| {
            // (Of the words that start there, the one "for" follows: the
            // "allergy shot" of "allergy shot for", not its "allergy".)
            let tail = &t.text[h.end..sentence_end.max(h.end)];
            h.start >= end
                && h.start - end <= 2
                && t.text[end..h.start].trim().is_empty()
                && after_any(tail.trim_start_matches(' '), &["for "]).is_some_and(|rest| {
                    care_for_a_name(tail) && !(kind == "dx" && possessive_then_a_thing(rest))
                })
        })
    {
        let kind = if kind == "dx" { "clinical" } else { kind };
        return Role {
            for_name: true,
            ..role(0.25, kind, h.word(t.text))
        };
    }
    // Care the date is told by, right after it in its sentence
    // ("transferred 12/04/2026 after hip ORIF", "off 12/03/2026-12/06/2026
    // due to back strain", "booked 12/09/2026 for knee pain"): the date is
    // the care's.
    if let Some((kind, h)) = care_hits(t, end, sentence_end).find(|(_, h)| {
        h.start >= end
            && told_by(&t.text[end..h.start])
            && !names_a_thing(t.text, phrase_end(t, h), t.hi)
    }) {
        return role(0.25, kind, h.word(t.text));
    }
    if let Some((kind, h)) = care {
        if personal() {
            // Perhaps written for a name before the date ("Positive
            // rapid COVID for Ann Lee, collected 12/02/2026. He was told").
            return Role {
                for_name: care_before(t, lo, start, care_for_a_name).is_some(),
                ..role(0.25, kind, h.word(t.text))
            };
        }
        // A name and a date of birth written as one ("Ann Lee, 3/4/1965,"
        // or "Ann Lee 03/04/1965 - MRI denied") with care around them: the
        // way a chart or a referral names its patient. Only for that name,
        // and only for a date years past (a recent one is as likely the
        // day of a delivery or a meeting).
        // A named kind of visit vouches for a recent date too ("Transport
        // for Ann Lee 12/07/2026 to dialysis").
        // So does an entry the date heads, care after its colon ("Ann
        // Lee, 12/03/2026: migraines 3x/week", "Triage 12/04/2026: Ann
        // Lee, 34 wks pregnant"), as a chart's or a call log's lines read.
        // (A line's start is looked for only a few bytes back: a long
        // line must not be read again for every date in it.)
        let near = floor_boundary(t.text, start.saturating_sub(16).max(t.lo));
        let opens_a_line = t.text[near..start]
            .rfind('\n')
            .map(|i| near + i + 1)
            .or((near == t.lo).then_some(t.lo))
            .is_some_and(|from| t.text[from..start].trim().is_empty());
        if (years_past(t, date) >= 2 || h.class == Class::Visit || heads_an_entry(t, end, h))
            && (follows_a_word(&t.text[floor_boundary(t.text, start.saturating_sub(4))..start])
                || opens_a_line)
        {
            // (Care given to a name between them, "Flu shot given to Ann
            // Lee on 10/22/2026", is that name's, apposed or not.)
            // (Or by another care word nearer the name: "Colposcopy
            // follow-up for Ann Lee on".)
            let for_name = h.end <= start && care_for_a_name(&t.text[h.end..start])
                || care_before(t, lo, start, care_for_a_name).is_some();
            return Role {
                adjacent: !for_name,
                for_name,
                ..role(0.25, kind, h.word(t.text))
            };
        }
    }
    // Care written for someone named before the date ("Pathology for
    // Ann Lee 11/18/2026", "MRI results for ANN LEE, 3/4/1961"): the care
    // is the name's.
    if let Some((kind, h)) = care_before(t, lo, start, care_for_a_name) {
        return Role {
            for_name: true,
            ..role(0.25, kind, h.word(t.text))
        };
    }
    none
}

/// Whether the date at `..end` heads an entry with the care `h` in it:
/// a colon, a comma or a dash right after the date, then `h` in the same sentence
/// and line ("12/03/2026: migraines, start propranolol"), and more care
/// after it there: see [`entry_care`].
fn heads_an_entry(t: &Text<'_>, end: usize, h: &Hit) -> bool {
    let Some(gap) = t.text.get(end..h.start) else {
        return false;
    };
    gap.trim_start_matches(' ')
        .starts_with([':', ',', '-', '\u{2013}', '\u{2014}'])
        && !gap.contains(['\n', '.', ';', '?', '!'])
        && entry_care(t, end)
}

/// Whether the rest of the line after `at` (up to its sentence's end)
/// tells care, as an entry in a chart or a call log does: two care words
/// at least ("fever and cough", "34 wks pregnant, bleeding"). One word
/// after a name and a date is as often a rota's or a roster's line
/// ("12/07/2026: Priya Shah - echo", "Covering 12/07: Ann Lee, vaccines").
fn entry_care(t: &Text<'_>, at: usize) -> bool {
    let after = &t.text[at..ceil_boundary(t.text, (at + 120).min(t.hi))];
    let end = at
        + after
            .find(['\n', '.', ';', '?', '!'])
            .unwrap_or(after.len());
    let mut spans: Vec<(usize, usize)> = [Class::Clinical, Class::Visit]
        .into_iter()
        .flat_map(|c| {
            let hits = t.hits.of(c);
            hits[hits.partition_point(|h| h.start < at)..]
                .iter()
                .take_while(move |h| h.end <= end)
                .filter(|h| !names_a_thing(t.text, phrase_end(t, h), t.hi))
                .map(|h| (h.start, h.end))
        })
        .collect();
    spans.sort_unstable();
    let mut words = 0;
    let mut last_end = 0;
    for (s, e) in spans {
        if s >= last_end {
            words += 1;
            last_end = e;
        }
    }
    words >= 2
}

/// Whether `name` opens the entry a date heads ("12/04/2026: Ann Lee, 34
/// wks pregnant, decreased fetal movement"): only a colon or a dash
/// between the date and the name, and care told after the name in its
/// line ([`entry_care`]), set off from it as a chart sets off what
/// follows a name (a comma, a dash, an age).
fn entry_of(t: &Text<'_>, name: &Name, end: usize) -> bool {
    let sep = t.text[end..name.start].trim_matches(' ');
    if !matches!(sep, ":" | "-" | "\u{2013}" | "\u{2014}") {
        return false;
    }
    t.text[name.end..t.hi]
        .trim_start_matches(' ')
        .starts_with([',', '-', '(', ':'])
        && entry_care(t, name.end)
}

/// Words that may stand between a name and the care it is written with
/// in a list's line ("Ann Lee last pap 06/11/2023").
const CARE_QUALIFIERS: [&str; 9] = [
    "last ",
    "next ",
    "latest ",
    "recent ",
    "most recent ",
    "annual ",
    "overdue ",
    "due ",
    "upcoming ",
];

/// `gap` without the number of a dose or a series that begins it ("#2
/// given", "dose 2 given": the second MMR, the third shot of a series).
fn dose_number(gap: &str) -> &str {
    let rest = gap.strip_prefix('#').or_else(|| {
        gap.get(..5)
            .filter(|w| w.eq_ignore_ascii_case("dose "))
            .map(|_| &gap[5..])
    });
    match rest {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => r
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start(),
        _ => gap,
    }
}

/// Whether the gap between a name and a date is the care they are
/// written with, as a recall list or a tracking sheet lines them up
/// ("Ann Lee last pap 06/11/2023", "Ann Lee - colonoscopy done 3/4/2026"):
/// perhaps a comma or a dash, perhaps a word such as "last", a care
/// phrase (perhaps after one word of where: "ear recheck") that names no
/// thing, then only a blank or "on", "from", "due",
/// "done", "dated", "given" and the like before the date (a dose's
/// number may come first: "MMR #2 given"). A staff rota lines up the same words
/// ("Tom Reed - echo 12/08/2026"): unless the date is years `past`, the
/// line must say the care was had or is due (a word such as "last" or
/// "next" before it, "done" or "due" after it).
fn care_between(t: &Text<'_>, from: usize, start: usize, past: bool) -> bool {
    let gap = &t.text[from..start];
    if gap.contains(['\n', '.', ';', '?', '!']) {
        return false;
    }
    let lead = gap.len() - gap.trim_start_matches([' ', ',', '-', ':']).len();
    let rest = &gap[lead..];
    let qualifier = CARE_QUALIFIERS
        .iter()
        .find(|q| {
            rest.get(..q.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(q))
        })
        .map_or(0, |q| q.len());
    let at = from + lead + qualifier;
    // Perhaps one word of where or what before the care ("ear recheck",
    // "knee MRI").
    let word = t.text[at..start]
        .bytes()
        .take_while(u8::is_ascii_lowercase)
        .count();
    let then = (word > 0 && t.text[at + word..].starts_with(' ')).then_some(at + word + 1);
    [Class::Clinical, Class::Visit].into_iter().any(|c| {
        let hits = t.hits.of(c);
        hits[hits.partition_point(|h| h.start < at)..]
            .iter()
            .take_while(|h| h.start == at || Some(h.start) == then)
            .any(|h| {
                let end = phrase_end(t, h);
                end <= start
                    && !names_a_thing(t.text, end, t.hi)
                    && match dose_number(t.text[end..start].trim_matches([' ', ',', '-', ':']))
                        .to_ascii_lowercase()
                        .trim_end_matches(" on")
                    {
                        "" | "on" => past || qualifier > 0,
                        "from" | "due" | "done" | "dated" | "given" | "administered"
                        | "completed" | "performed" | "received" => true,
                        _ => false,
                    }
            })
    })
}

/// Whether `gap`, between a date and a care word after it, says the date
/// is the care's: "after", "following", "due to", "because of", "s/p",
/// "for", "with" ("called 12/04 with chest tightness"), perhaps then an
/// article or a possessive ("after her", "for a"), and one word; perhaps
/// after the hour ("12/04 2am with").
fn told_by(gap: &str) -> bool {
    const BY: [&str; 8] = [
        "after ",
        "following ",
        "due to ",
        "because of ",
        "s/p ",
        "status post ",
        "for ",
        "with ",
    ];
    const THEN: [&str; 7] = ["a ", "an ", "the ", "her ", "his ", "their ", "my "];
    let g = gap.trim_start_matches([' ', ',']).to_ascii_lowercase();
    // Perhaps the hour first ("called 12/04 2am with chest tightness").
    let g = after_an_hour(&g).unwrap_or(&g);
    BY.iter().filter_map(|b| g.strip_prefix(b)).any(|rest| {
        let rest = THEN
            .iter()
            .find_map(|w| rest.strip_prefix(w))
            .unwrap_or(rest);
        // Perhaps one word that qualifies the care ("after hip ORIF", "due
        // to severe back pain").
        rest.is_empty()
            || rest
                .strip_suffix(' ')
                .is_some_and(|w| w.len() <= 12 && w.bytes().all(|c| c.is_ascii_lowercase()))
    })
}

/// What follows an hour at the start of `g` (lower case), perhaps after
/// "at": "2am ", "at 2:15 pm ", "0300 ", "at 14:30 ".
fn after_an_hour(g: &str) -> Option<&str> {
    let g = g.strip_prefix("at ").unwrap_or(g);
    let digits = g.bytes().take_while(u8::is_ascii_digit).count();
    let mut rest = &g[digits..];
    let clock = match digits {
        1 | 2 => {
            if let Some(r) = rest.strip_prefix(':') {
                let m = r.bytes().take_while(u8::is_ascii_digit).count();
                if m != 2 {
                    return None;
                }
                rest = &r[2..];
            }
            let r = rest.strip_prefix(' ').unwrap_or(rest);
            match ["am", "pm", "a.m.", "p.m."]
                .iter()
                .find_map(|m| r.strip_prefix(m))
            {
                Some(r) => {
                    rest = r;
                    true
                }
                None => rest.len() < g.len() - digits,
            }
        }
        // The 24-hour clock of a chart's entry ("0300").
        4 => true,
        _ => false,
    };
    (clock && rest.starts_with(' ')).then(|| &rest[1..])
}

/// Whether "scheduled" is followed, after the date and in its sentence,
/// by what is scheduled, and that is not care ("scheduled 12/15/2026 for
/// the walkthrough"; not "... for her DEXA", "... for the colonoscopy").
fn scheduled_for_a_thing(t: &Text<'_>, word: &str, end: usize) -> bool {
    if !word.eq_ignore_ascii_case("scheduled") {
        return false;
    }
    let rest = &t.text[end..ceil_boundary(t.text, (end + 60).min(t.hi))];
    let rest = rest
        .find(['.', ';', '?', '!', '\n'])
        .map_or(rest, |e| &rest[..e]);
    let Some(at) = [" for the ", " for a ", " for an ", " for our "]
        .iter()
        .find_map(|p| rest.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)))
    else {
        return false;
    };
    let (lo, hi) = (end + at.len(), end + rest.len());
    [
        Class::Visit,
        Class::Clinical,
        Class::ServiceWeak,
        Class::Service,
    ]
    .into_iter()
    .all(|c| care_word(t, c, lo, hi).is_none())
}

/// Whether `word` is "came in" or "come in" with no care around it: anyone
/// comes in ("came in 11/30 with a broken chair"); a patient comes in with
/// a complaint.
fn came_in_for_no_care(t: &Text<'_>, word: &str, lo: usize, hi: usize) -> bool {
    (word.eq_ignore_ascii_case("came in") || word.eq_ignore_ascii_case("come in"))
        && [Class::Clinical, Class::Visit]
            .into_iter()
            .all(|c| care_word(t, c, lo, hi).is_none())
}

/// A clinical word or a named kind of visit in `lo..start`, before a
/// date at `start`, whose gap to the date passes `gap_ok`, with the role
/// kind it gives; not one that names a thing ("MRI suite"), though its
/// write-up is the care's ("MRI report for").
fn care_before<'h>(
    t: &Text<'h>,
    lo: usize,
    start: usize,
    gap_ok: impl Fn(&str) -> bool,
) -> Option<(&'static str, &'h Hit)> {
    let lo = lo.max(t.lo);
    care_hits(t, lo, start).find(|(_, h)| {
        let gap = &t.text[h.end..start];
        h.start >= lo
            && gap_ok(gap)
            && (written_up(gap.trim_start_matches(' ')).is_some()
                || !names_a_thing(t.text, phrase_end(t, h), t.hi))
    })
}

/// The clinical words, then the named kinds of visit, that end in
/// `lo..=start`, each with the role kind it gives.
fn care_hits<'h>(
    t: &Text<'h>,
    lo: usize,
    start: usize,
) -> impl Iterator<Item = (&'static str, &'h Hit)> {
    let hits = t.hits;
    [(Class::Clinical, "clinical"), (Class::Visit, "dos")]
        .into_iter()
        .flat_map(move |(class, kind)| {
            let of = hits.of(class);
            of[of.partition_point(|h| h.end < lo)..]
                .iter()
                .take_while(move |h| h.end <= start)
                .map(move |h| (kind, h))
        })
}

/// The care word right after a name written as its owner ("Ann Lee's
/// biopsy", "Mr. Quist's INR"), unless the care names a thing ("Ann's
/// x-ray machine").
fn possessive_care<'t>(t: &Text<'t>, name: &Name) -> Option<&'t str> {
    let owner = t.text[..name.end].ends_with("'s") || t.text[..name.end].ends_with("’s");
    if !owner || !t.text[name.end..].starts_with(' ') {
        return None;
    }
    let at = name.end + 1;
    [Class::Clinical, Class::Visit]
        .into_iter()
        .find_map(|class| {
            let hits = t.hits.of(class);
            hits[hits.partition_point(|h| h.start < at)..]
                .first()
                .filter(|h| h.start == at && !names_a_thing(t.text, phrase_end(t, h), t.hi))
                .map(|h| h.word(t.text))
        })
}

/// How many whole years before this year `date` is (0 for this year or a
/// later one; a two-digit year is taken as the nearest past century).
fn years_past(t: &Text<'_>, date: &Date) -> u32 {
    let this_year = t.year;
    let Some(year) = date.year else {
        return 0;
    };
    let year = match u32::from(year) {
        y if y >= 100 => y,
        y if 2000 + y <= this_year => 2000 + y,
        y => 1900 + y,
    };
    this_year.saturating_sub(year)
}

/// The first word of `class` that ends in `lo..=hi` and is about care,
/// not a thing: a word followed by a noun of equipment, places, paperwork
/// or office life ("ultrasound machine", "lab certificate", "pain
/// management", "flu season") names that thing.
fn care_word<'h>(t: &Text<'h>, class: Class, lo: usize, hi: usize) -> Option<&'h Hit> {
    // The window stays in the current text: another text's words are not
    // about this one's name and date.
    let (lo, hi) = (lo.max(t.lo), hi.min(t.hi));
    let hits = t.hits.of(class);
    let first = hits.partition_point(|h| h.end < lo);
    hits[first..]
        .iter()
        .take_while(|h| h.start <= hi)
        .filter(|h| h.end >= lo && h.end <= hi)
        .find(|h| h.label.is_some() || !names_a_thing(t.text, phrase_end(t, h), t.hi))
}

/// Whether the word `w` of `class` (a slice of the text) begins a phrase
/// that names a thing ("discharge summary macros").
fn names_a_thing_at(t: &Text<'_>, class: Class, w: &str) -> bool {
    let Some(r) = span_in(t.text, w) else {
        return false;
    };
    let hits = t.hits.of(class);
    hits[hits.partition_point(|h| h.start < r.start)..]
        .iter()
        .take_while(|h| h.start == r.start)
        .any(|h| names_a_thing(t.text, phrase_end(t, h), t.hi))
}

/// Where the longest care phrase that starts with `h` ends: "flu" is a
/// word of "flu shot", and "flu shot clinic" names a thing.
fn phrase_end(t: &Text<'_>, h: &Hit) -> usize {
    [
        Class::Clinical,
        Class::Visit,
        Class::ServiceWeak,
        Class::Service,
    ]
    .into_iter()
    .flat_map(|c| {
        let hits = t.hits.of(c);
        hits[hits.partition_point(|o| o.start < h.start)..]
            .iter()
            .take_while(|o| o.start == h.start)
            .map(|o| o.end)
    })
    .fold(h.end, usize::max)
}

/// What weighed in a score: the words found, explained only for a score
/// that is reported.
#[derive(Default)]
struct Why<'t> {
    label: Option<&'t str>,
    /// The person's age written after the name.
    age: Option<&'t str>,
    /// Care the name owns or is told of ("Ann Lee's biopsy", "Ann Lee
    /// had surgery").
    owns: Option<&'t str>,
    visit: Option<&'t str>,
    care: Option<&'t str>,
    event: Option<&'t str>,
}

impl Why<'_> {
    fn render(&self, name: &Name, role: &Role<'_>) -> String {
        let mut why = format!("name ({}) near a date", name.why);
        if let Some(w) = role.word {
            why.push_str(&format!(
                "; {} context \"{}\"",
                role.kind,
                w.to_ascii_lowercase()
            ));
        }
        let said = [
            (self.label, "; labelled \"", "\""),
            (self.age, "; age \"", "\""),
            (self.owns, "; the name's \"", "\""),
            (self.visit, "; visit \"", "\""),
            (self.care, "; care \"", "\""),
            (self.event, "; but \"", "\" nearby"),
        ];
        for (w, before, after) in said {
            if let Some(w) = w {
                why.push_str(before);
                why.push_str(&w.to_ascii_lowercase());
                why.push_str(after);
            }
        }
        why
    }
}

/// The score of `name` with the date at `start..end`, and what weighed.
fn weigh<'t>(
    t: &Text<'t>,
    role: &Role<'t>,
    name: &Name,
    start: usize,
    end: usize,
) -> (f32, Why<'t>) {
    let mut confidence = role.weight + 0.4 * name.score;
    let mut why = Why::default();
    // Who the person is.
    if let Some(w) = t.context(Class::Patient, name.start, name.end, 24, 0) {
        if name.score < 0.6 {
            // A patient label vouches for a name the lists do not have.
            confidence += 0.4 * (0.6 - name.score);
        }
        confidence += if role.weight < 0.35 { 0.35 } else { 0.1 };
        why.label = Some(w);
    } else if role.for_name
        && name.vouchable()
        && let Some(w) = for_before(t.text, name.start)
    {
        // The care was written for this name: it is the patient's, as a
        // label would say, if it can be vouched for (a list knows a part
        // of it, or it is a name no list has and no word of English).
        confidence += 0.4 * (0.6 - name.score).max(0.0) + 0.1;
        why.label = Some(w);
    } else if let Some(at) = role.subject
        && name.vouchable()
        && name.end <= at
        && at - name.end <= 1
        && let Some(w) = role.word
    {
        // The care is told of this name ("Ann Lee had surgery"): its
        // person is the patient, if the name can be vouched for.
        confidence += 0.4 * (0.6 - name.score).max(0.0) + 0.1;
        why.owns = Some(w);
    } else if let Some(w) = possessive_care(t, name) {
        // The name owns the care ("Mr. Quist's INR was 4.2"): its
        // person is the patient; and the care vouches for a name no list
        // has ("Keziah Mbatha's INR").
        confidence += 0.1;
        if name.unlisted {
            confidence += 0.4 * (0.6 - name.score).max(0.0);
        }
        why.owns = Some(w);
    } else if let Some(e) = age_after(t.text, name.end) {
        // An age after the name, as a chart writes its patient.
        confidence += if role.weight < 0.35 { 0.25 } else { 0.1 };
        why.age = Some(t.text[name.end..e].trim_matches([' ', ',', '(', ')']));
    } else if let Some(w) = t.context(Class::Person, name.start, name.end, 24, 0) {
        confidence += if role.weight < 0.35 { 0.25 } else { 0.1 };
        why.label = Some(w);
    } else if role.weight < 0.35
        && let Some(w) = t.context(Class::NameLabel, name.start, name.end, 12, 0)
    {
        confidence += 0.1;
        why.label = Some(w);
    }
    // An appointment of a named kind of visit is a patient's.
    let (lo, hi) = (start.min(name.start), end.max(name.end));
    if role.weight < 0.35
        && role.weight > 0.0
        && let Some(h) = care_word(t, Class::Visit, lo.saturating_sub(80).max(t.lo), hi + 80)
        && role.word != Some(h.word(t.text))
    {
        confidence += 0.2;
        why.visit = Some(h.word(t.text));
    }
    // A name written as one with a date years past, care named around
    // them twice over ("Ann Lee, 1975-06-12, came in with a rash"): a
    // second care word the role did not use.
    if role.adjacent
        && why.visit.is_none()
        && let Some(h) = care_word(t, Class::Clinical, lo.saturating_sub(80).max(t.lo), hi + 80)
        && role.word != Some(h.word(t.text))
    {
        confidence += 0.1;
        why.care = Some(h.word(t.text));
    }
    // Office life and commerce near the name or the date. A birth date
    // beside a birthday or congratulations is a celebration's (a staff
    // member's birthday, a colleague's newborn), not a record's.
    if let Some(w) = office_life(t, lo, hi, role.word) {
        let starts = |p: &str| w.get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p));
        let celebration = role.kind == "dob" && (starts("birthday") || starts("congrat"));
        confidence -= if celebration { 0.5 } else { 0.35 };
        why.event = Some(w);
    }
    (confidence, why)
}

/// A word of office life and commerce within `EVENT_WINDOW` of
/// `lo..hi`, other than one inside the word that gave the date its role
/// (the "birthday" of "my birthday is") or inside a kind of visit (the
/// "repair" of "hernia repair").
fn office_life<'t>(t: &Text<'t>, lo: usize, hi: usize, role_word: Option<&str>) -> Option<&'t str> {
    let inside = role_word.and_then(|w| span_in(t.text, w));
    t.around_where(Class::Event, lo, hi, EVENT_WINDOW, EVENT_WINDOW, |h| {
        !inside
            .as_ref()
            .is_some_and(|r| r.start <= h.start && h.end <= r.end)
            && !part_of_a_visit(t, h)
            && !cares_order(t, h)
    })
}

/// Whether `h` is an order of care, a repair of the body or a course of
/// a drug ("CPAP order", "rotator cuff repair", "amoxicillin course"):
/// the word right after a care word is the care's paperwork, its
/// procedure or its dosing. So is a standing order (a
/// protocol for a test repeated, "Standing order: INR every 2 weeks").
fn cares_order(t: &Text<'_>, h: &Hit) -> bool {
    let word = h.word(t.text);
    if !["order", "orders", "repair", "course"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        return false;
    }
    let standing = t.text[..h.start]
        .strip_suffix(' ')
        .and_then(|b| b.get(b.len().checked_sub(8)?..))
        .is_some_and(|w| w.eq_ignore_ascii_case("standing"));
    if standing && !word.eq_ignore_ascii_case("repair") {
        return true;
    }
    let Some(before) = h
        .start
        .checked_sub(1)
        .filter(|&b| t.text.as_bytes()[b] == b' ')
    else {
        return false;
    };
    [Class::Clinical, Class::Visit].into_iter().any(|c| {
        let hits = t.hits.of(c);
        hits[hits.partition_point(|x| x.end < before)..]
            .first()
            .is_some_and(|x| x.end == before && x.label.is_none())
    })
}

/// Whether `h` lies inside a kind of visit's words.
fn part_of_a_visit(t: &Text<'_>, h: &Hit) -> bool {
    let visits = t.hits.of(Class::Visit);
    visits[visits.partition_point(|v| v.end < h.end)..]
        .iter()
        .take_while(|v| v.end <= h.end + 40)
        .any(|v| v.start <= h.start && h.end <= v.end)
}

fn masked_date(d: &Date) -> &'static str {
    match (d.year, d.day) {
        (Some(_), None) => "**/****",
        (Some(y), _) if y >= 100 => "**/**/****",
        (Some(_), _) => "**/**/**",
        (None, _) => "**/**",
    }
}
