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
    let role = date_role(t, &date, start, end);
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
    if role.adjacent
        && !(name.end <= start
            && (apposed_with(t.text, name.end..start, role.word)
                || age_after(t.text, name.end)
                    .is_some_and(|e| e <= start && apposed(&t.text[e..start]))))
    {
        return None;
    }
    found(t, &date, &role, &name, start, end)
}

/// The closest name on either side of the date that is not a provider's.
/// A name after the date must be on its line, or labelled ("Patient:") on
/// a following one: unlabelled lines after a date are as likely a
/// signature as anything about the date.
fn closest_name(t: &Text<'_>, start: usize, end: usize) -> Option<Name> {
    let lo = floor_boundary(t.text, start.saturating_sub(NAME_BEFORE).max(t.lo));
    let hi = ceil_boundary(t.text, (end + NAME_AFTER).min(t.hi));
    names::find(t.text, lo, hi)
        .into_iter()
        .filter(|n| !n.provider)
        .filter(|n| !n.greeting || (n.end <= start && speaks_to_the_reader(&t.text[n.end..start])))
        .filter(|n| {
            n.end <= start
                || (n.start >= end
                    && (!t.text[end..n.start].contains('\n')
                        || t.context(Class::Patient, n.start, n.end, 24, 0).is_some()))
        })
        .min_by_key(|n| {
            if n.end <= start {
                start - n.end
            } else {
                n.start - end
            }
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
        value: format!(
            "{}|{:04}-{:02}-{:02}",
            name_text.to_lowercase(),
            date.year,
            date.month,
            date.day
        ),
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

fn date_role<'t>(t: &Text<'t>, date: &Date, start: usize, end: usize) -> Role<'t> {
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
            && years_past(date) >= 2
            && birthplace_after(&t.text[end..t.hi])
            && [Class::Clinical, Class::Visit]
                .into_iter()
                .all(|c| care_word(t, c, lo, hi).is_none());
        return role(if story { 0.1 } else { 0.6 }, "dob", w);
    }
    // Service words count only before the date ("seen on 3/4/2025",
    // "date of service: ..."): after it they start another sentence.
    if let Some(w) = t.context(Class::Service, start, end, 60, 0) {
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
        if (years_past(date) >= 2 || h.class == Class::Visit)
            && follows_a_word(&t.text[floor_boundary(t.text, start.saturating_sub(4))..start])
        {
            // (Care given to a name between them, "Flu shot given to Ann
            // Lee on 10/22/2026", is that name's, apposed or not.)
            let for_name = h.end <= start && care_for_a_name(&t.text[h.end..start]);
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
    Role {
        weight: 0.0,
        kind: "date",
        word: None,
        adjacent: false,
        for_name: false,
        subject: None,
    }
}

/// A day's schedule under its date: the lines after the date's line that
/// begin with a time, then a name, then a named kind of visit ("8:30  Ann
/// Lee - annual physical", "9:00 AM | Lee, Ann | f/u diabetes"). Two such
/// lines or more (an agenda has a line or two with a speaker and seldom a
/// kind of visit on each) make the date theirs; the first is returned,
/// with the role of the date. Under a heading that names care ("Surgery
/// list 12/03/2026:") a numbered or bulleted list is as good as times.
fn schedule_entry<'t>(t: &Text<'t>, start: usize, end: usize) -> Option<(Name, Role<'t>)> {
    const LINES: usize = 12;
    const REACH: usize = 1200;
    let b = t.text.as_bytes();
    let stop = ceil_boundary(t.text, (end + REACH).min(t.hi));
    // The date heads the schedule: little follows it on its line, and no
    // field separators (a table row's date is not a heading).
    let rest = memchr::memchr(b'\n', &b[end..stop])?;
    if rest > 40 || b[end..end + rest].iter().any(|c| b",;\t|".contains(c)) {
        return None;
    }
    let mut at = end + rest + 1;
    // Whether the date's line names care, looked up at the first list
    // item (most dates have none under them).
    let mut lists_care = None;
    let mut heading_names_care = || {
        *lists_care.get_or_insert_with(|| {
            let heading = memchr::memrchr(b'\n', &b[t.lo..start]).map_or(t.lo, |i| t.lo + i + 1);
            [Class::ServiceWeak, Class::Visit, Class::Clinical]
                .into_iter()
                .any(|c| care_word(t, c, heading, end + rest).is_some())
        })
    };
    let mut first: Option<(Name, Role<'t>)> = None;
    let mut entries = 0;
    for _ in 0..LINES {
        if at >= stop {
            break;
        }
        let line_end = memchr::memchr(b'\n', &b[at..stop]).map_or(stop, |i| at + i);
        let line = &t.text[at..line_end];
        let slot = clock_time(line).or_else(|| list_item(line).filter(|_| heading_names_care()));
        // A schedule begins under its date: one look per date elsewhere.
        if slot.is_none() && entries == 0 && !line.trim().is_empty() {
            return None;
        }
        if let Some(after) = slot.map(|n| at + n)
            && let Some(name) = names::find(t.text, after, line_end)
                .into_iter()
                .find(|n| !n.provider && n.start <= after + 3)
            && let Some(visit) = care_word(t, Class::Visit, name.end, line_end)
        {
            entries += 1;
            if first.is_none() {
                let role = Role {
                    weight: 0.35,
                    kind: "schedule",
                    word: Some(visit.word(t.text)),
                    adjacent: false,
                    for_name: false,
                    subject: None,
                };
                first = Some((name, role));
            }
        }
        at = line_end + 1;
    }
    first.filter(|_| entries >= 2)
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

/// Whether `after` (the text after a date of birth) names a place: ", in"
/// or "in", then a capitalised word.
fn birthplace_after(after: &str) -> bool {
    let rest = after.trim_start_matches([',', ' ']);
    rest.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("in "))
        && rest[3..].chars().next().is_some_and(char::is_uppercase)
}

/// Whether `word`, a slice of `text`, is the verb "visit": "visited", or
/// "visit" after a word that makes it one ("will visit", "to visit").
/// The noun ("her visit on", "office visit") is a patient's.
fn visit_as_a_verb(text: &str, word: &str) -> bool {
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

/// If `line` begins with a clock time ("8:30", "09:15 AM", "2:45p.m."),
/// the offset after it and the blanks or separators that follow.
fn clock_time(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'*' | b'-'))
        .count();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let h = digits(i);
    if !(1..=2).contains(&h) || b.get(i + h) != Some(&b':') || digits(i + h + 1) != 2 {
        return None;
    }
    i += h + 3;
    let rest = line[i..].trim_start_matches(' ');
    let meridiem = ["am", "pm", "a.m.", "p.m.", "a", "p"]
        .iter()
        .find(|m| {
            rest.len() >= m.len()
                && rest.as_bytes()[..m.len()].eq_ignore_ascii_case(m.as_bytes())
                && !rest
                    .as_bytes()
                    .get(m.len())
                    .is_some_and(u8::is_ascii_alphabetic)
        })
        .map_or(0, |m| m.len());
    if meridiem > 0 {
        i = line.len() - rest.len() + meridiem;
    }
    let sep = line[i..]
        .bytes()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'-' | b'|' | b',' | b':'))
        .count();
    // A time then a word with no separator is not a slot ("8:30am-ish").
    (sep > 0).then_some(i + sep)
}

/// If `line` begins with a list item's number or bullet ("1.", "2)",
/// "-", "*", "•"), the offset after it and the blanks that follow.
fn list_item(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[indent..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let marker =
        if (1..=2).contains(&digits) && matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) {
            digits + 1
        } else if rest.starts_with(['-', '*']) {
            1
        } else if rest.starts_with('•') {
            '•'.len_utf8()
        } else {
            return None;
        };
    let blanks = rest[marker..]
        .bytes()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    (blanks > 0).then_some(indent + marker + blanks)
}

/// What may stand between a name and a date written as one.
const APPOSITION: [char; 4] = [' ', ',', '(', '-'];

/// Whether `gap` joins a name and a date as one: at most three blanks,
/// commas, opening parentheses or dashes.
fn apposed(gap: &str) -> bool {
    gap.len() <= 3 && gap.chars().all(|c| APPOSITION.contains(&c))
}

/// Whether the name that opens `rest` is written as an owner ("Jenna
/// Holt's laptop"): its capitalised words, then "'s".
fn possessive_then_a_thing(rest: &str) -> bool {
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
fn age_after(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let lead = rest.len() - rest.trim_start_matches([' ', ',', '(']).len();
    if lead > 3 {
        return None;
    }
    let rest = &rest[lead..];
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
        })?;
    let end = at + lead + digits + len;
    let close = text[end..].starts_with([')', ',']);
    Some(end + usize::from(close))
}

/// Whether `text[gap]` joins a name and a date as one, alone or around
/// the kind of visit that gave the date its role, a slice of `text`
/// ("Bao Tran Nguyen - spirometry 12/09/2026").
fn apposed_with(text: &str, gap: std::ops::Range<usize>, word: Option<&str>) -> bool {
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
fn follows_a_word(before: &str) -> bool {
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
/// "), or one that gives the person the care ("Ann Lee has her ", "Ann Lee
/// underwent ", "Ann Lee is booked for a "), or one told of it as hers
/// ("tell Ann Lee her ", "remind Ann Lee his "). Plans and schedules on their
/// own ("will review", "is out") are as often office life; what is booked
/// for a name is care only when a care word follows.
fn names_a_subject(text: &str) -> Option<usize> {
    const VERBS: [&str; 33] = [
        " is booked for ",
        " is booked for a ",
        " is booked for an ",
        " is booked for her ",
        " is booked for his ",
        " was booked for ",
        " was booked for a ",
        " was booked for an ",
        " is scheduled for ",
        " is scheduled for a ",
        " is scheduled for an ",
        " is scheduled for her ",
        " is scheduled for his ",
        " is due for ",
        " is due for a ",
        " is due for an ",
        " is due for her ",
        " is due for his ",
        " was seen for ",
        " was ",
        " has been ",
        " had ",
        " had her ",
        " had his ",
        " had a ",
        " had an ",
        " has her ",
        " has his ",
        " underwent ",
        " is having ",
        " was having ",
        " her ",
        " his ",
    ];
    VERBS.iter().find_map(|v| {
        let at = text.len().checked_sub(v.len())?;
        (text.ends_with(v) && {
            let mut words = text[..at].rsplit(' ');
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
        })
        .then_some(at)
    })
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
fn after_any<'s>(text: &'s str, heads: &[&str]) -> Option<&'s str> {
    heads.iter().find_map(|w| {
        text.get(..w.len())
            .filter(|head| head.eq_ignore_ascii_case(w))
            .map(|_| &text[w.len()..])
    })
}

/// Whether `gap`, the text between a care word and a date, joins the
/// care to a name in the same sentence ("[results] for Ann Lee, ", "[flu
/// shot] given to Ann Lee on "): the care is that person's.
fn care_for_a_name(gap: &str) -> bool {
    let gap = gap.trim_start_matches(' ');
    let gap = measured(gap).unwrap_or(gap);
    let gap = written_up(gap).unwrap_or(gap);
    let (given, gap) = after_any(gap, &GIVEN).map_or((false, gap), |g| (true, g));
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

/// `gap` after a value measured by the care before it ("[INR] 3.8 for",
/// "[A1c] 7.2% for", "[BP] 150/90 for"): a number, perhaps with a point,
/// a slash or a percent sign, then a blank.
fn measured(gap: &str) -> Option<&str> {
    let end = gap
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '/' | '%')))
        .unwrap_or(gap.len());
    (gap.starts_with(|c: char| c.is_ascii_digit()) && gap[end..].starts_with(' '))
        .then(|| &gap[end + 1..])
}

/// What follows the paperwork of care at the start of `gap` ("results
/// for", "report for"): the care word and its write-up are one thing.
fn written_up(gap: &str) -> Option<&str> {
    after_any(
        gap,
        &[
            "results ", "report ", "records ", "notes ", "order ", "form ",
        ],
    )
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

/// The word that joins care to a name at `start`, right before it
/// ("results for Ann Lee", "given to Ann Lee").
fn for_before(text: &str, start: usize) -> Option<&str> {
    JOINS.iter().chain([&GIVEN_TO]).find_map(|j| {
        let at = start.checked_sub(j.len())?;
        text.get(at..start)
            .filter(|w| w.eq_ignore_ascii_case(j))
            .map(|w| &w[..j.len() - 1])
    })
}

/// How many whole years before this year `date` is (0 for this year or a
/// later one; a two-digit year is taken as the nearest past century).
fn years_past(date: &Date) -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Whole years since 1970 (the average Gregorian year).
    let this_year = 1970 + (now / 31_556_952) as u32;
    let year = match u32::from(date.year) {
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

/// Whether the word after `at` is a noun that makes the words before it
/// a thing's name.
fn names_a_thing(text: &str, at: usize, hi: usize) -> bool {
    const THINGS: &[&str] = &[
        "machine",
        "machines",
        "room",
        "rooms",
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
        "company",
        "services",
        "service",
        "awareness",
        "month",
        "week",
        "day",
        "pen",
        "pens",
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
fn names_possessive(text: &str) -> bool {
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
fn speaks_of_a_person(text: &str, lo: usize, hi: usize) -> bool {
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
fn speaks_to_the_reader(text: &str) -> bool {
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
        if let Some(w) = self.label {
            why.push_str(&format!("; labelled \"{}\"", w.to_ascii_lowercase()));
        }
        if let Some(w) = self.age {
            why.push_str(&format!("; age \"{}\"", w.to_ascii_lowercase()));
        }
        if let Some(w) = self.owns {
            why.push_str(&format!("; the name's \"{}\"", w.to_ascii_lowercase()));
        }
        if let Some(w) = self.visit {
            why.push_str(&format!("; visit \"{}\"", w.to_ascii_lowercase()));
        }
        if let Some(w) = self.care {
            why.push_str(&format!("; care \"{}\"", w.to_ascii_lowercase()));
        }
        if let Some(w) = self.event {
            why.push_str(&format!("; but \"{}\" nearby", w.to_ascii_lowercase()));
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
    // beside a birthday is a celebration's, not a record's.
    if let Some(w) = office_life(t, lo, hi, role.word) {
        let celebration = role.kind == "dob"
            && w.get(..8)
                .is_some_and(|b| b.eq_ignore_ascii_case("birthday"));
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

/// Where `word`, a slice of `text` (as the context words are), lies in
/// it; `None` for any other string.
fn span_in(text: &str, word: &str) -> Option<std::ops::Range<usize>> {
    let at = (word.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + word.len() <= text.len()).then_some(at..at + word.len())
}

/// Whether `h` is an order of care or a repair of the body ("CPAP
/// order", "rotator cuff repair"): the word right after a care word is
/// the care's paperwork or its procedure.
fn cares_order(t: &Text<'_>, h: &Hit) -> bool {
    let word = h.word(t.text);
    if !["order", "orders", "repair"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        return false;
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

/// Whether the date sits on a line that is about the mail itself: a
/// reply attribution ("On Tue, Mar 3, 2026 ... wrote:") or a header line
/// of a quoted or forwarded message ("Sent:", "Date:"). A "Date:" line is
/// a header only beside another header line ("From:", "To:", "Subject:"):
/// a form's "Date:" field heads a visit note as often.
fn mail_header_line(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let line_start = memchr::memrchr(b'\n', &b[..at]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i);
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
    let after = (line_end < b.len()).then(|| {
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

fn masked_date(d: &Date) -> &'static str {
    if d.year >= 100 {
        "**/**/****"
    } else {
        "**/**/**"
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use crate::tests::scan_text;

    const CASES: &[(&str, bool)] = &[
        // A longer care word after the date, sharing its start with a
        // shorter one.
        (
            "Severe reaction to the 12/02/2026 allergy shot for Kaito Mori - epi given, observed 1 hr.",
            true,
        ),
        (
            "Damaged shipment on 12/02/2026 for Kaito Mori - boxes crushed, carrier notified.",
            false,
        ),
        // Care named right after its date, for a name.
        (
            "Aetna denied the 11/12/2026 claim for Desmond Achebe - says the knee MRI needed prior auth.",
            true,
        ),
        (
            "Aetna denied the 11/12/2026 credentialing packet for Desmond Achebe - the CV needs a signature.",
            false,
        ),
        (
            "Filed the 12/05/2026 claim for Jenna Holt's laptop with the insurer; water damage.",
            false,
        ),
        // An age after the name; a courtesy title after "for".
        (
            "- Ayaan Mehta, 15 mo, 12/04/2026: MMR, varicella, Hep A given",
            true,
        ),
        (
            "- Ayaan Mehta, 12/04/2026: won the raffle, gift card at the desk",
            false,
        ),
        ("Ayaan Mehta (42F) 12/04/2026 booked for a physical", true),
        (
            "Ayaan Mehta (42 employees) 12/04/2026 booked the hall",
            false,
        ),
        (
            "Pathology on the skin biopsy for Mr. Oyelowo (12/01/2026) came back basal cell.",
            true,
        ),
        (
            "Certificate for Mr. Oyelowo (12/01/2026 session) came back from the printer.",
            false,
        ),
        // A kind of visit between a name and its date, in a list's line;
        // a no-show; a referral for a name.
        (
            "Bao Tran Nguyen - spirometry 12/09/2026 - hold albuterol 4h prior.",
            true,
        ),
        (
            "Bao Tran Nguyen - supply run 12/09/2026 - gloves, paper, toner.",
            false,
        ),
        (
            "No-show: Yusuf Demir, 12/02/2026 3:40pm, diabetic foot check.",
            true,
        ),
        (
            "No-show: Yusuf Demir, 12/02/2026 3:40pm, interview for the billing job.",
            false,
        ),
        (
            "Ortho accepted the referral for Marguerite Fontaine (right hip OA), first avail 01/12/2027.",
            true,
        ),
        (
            "Thanks to Marguerite Fontaine for the referral of our new RN, who starts 01/12/2027!",
            false,
        ),
        // A care word that is the name's own is no care.
        (
            "Fun fact from Oliver Mole (our courier, starting 12/07/2026): he knows every clinic.",
            false,
        ),
        (
            "Fun fact: Oliver Mole (seen for a mole, 12/07/2026) is doing well.",
            true,
        ),
        // A clinician's own words for a visit.
        (
            "We saw Ms. Dolores Whitfield on 2/9/2025 for her hip.",
            true,
        ),
        (
            "I saw Kenneth Abara on Feb. 9th, 2025; labs to follow.",
            true,
        ),
        // The same verb at an event is not a visit.
        ("I saw Kenneth Abara at the conference on 2/9/2025.", false),
        ("Patient: Mrs. John Stewart\nDOB: 1962-10-19", true),
        ("Records for Johnnie Jacoby DOB 8/11/92", true),
        (
            "Patient Esteban Landreth, date of birth August 12, 2003",
            true,
        ),
        ("Nathaniel J. More had an office visit on 08/16/2025.", true),
        (
            "patient: Whitney Gutierrez; date of service: 2/19/24; dx: N39.0",
            true,
        ),
        ("Name: Anthony Riley\nDOB: August 2, 1966", true),
        ("Patient: Zephyrine Okonkwo-Baptiste\nDOB: 4 Mar 1965", true),
        ("Pt Xavi Quell, born 19650304", true),
        ("Stephanie Duncan was seen on 3/10/46", true),
        // Names and dates without birth/service/patient context.
        (
            "Norma Austin has invited you to Vendor review on September 03, 2025 at 03:00 PM.",
            false,
        ),
        (
            "From: Maria Cobb <mcobb@white.org>\nSent: Tuesday, August 12, 2025 09:23 AM\nTo: Mary Ellis",
            false,
        ),
        (
            "region: Utah; rep: Georgina Ness; date: March 19, 2024; units: 189",
            false,
        ),
        (
            "Flu shot clinic is on June 11, 2025 from 9 to 3. We expect about 120 patients.",
            false,
        ),
        (
            "Planned maintenance windows: 8 Apr 2024, September 22, 2024 and 4/20/25",
            false,
        ),
        (
            "Please welcome Woodrow Braxton, Phytotherapist, ext. 663",
            false,
        ),
        (
            "Please order exam table paper. Delivery by 8 Jun 2024.\n\n\nRebecca Young\nHorticultural consultant",
            false,
        ),
        (
            "Date of service: 2025-07-11\nPatient: Metts, Roberto\nThe claim is pending.",
            true,
        ),
        (
            "Edwards, Johnson and Owens Newsletter - February 13, 2024\n\nVisit letter where foot",
            false,
        ),
        // Every form of name and date practice mail uses.
        ("Patient JOHN SMITH, DOB Jan. 3rd, 2025", true),
        ("patient john smith dob 3 January 2025", true),
        ("Pt: Doe, Jane M. born the 14th of May 1978", true),
        ("DOB 2025-01-03 for Nguyen Thi Lan", true),
        ("Patient: O'Neil-Baptiste, Siobhan, D.O.B. 01/03/25", true),
        ("Patient Jos\u{e9} de la Cruz Jr. DOB 03.01.2025", true),
        (
            "Tuesday, March 3, 2026: Mohammed Al-Rashid was seen in clinic",
            true,
        ),
        // Hard negatives: reply attributions, forwarded headers, staff
        // news, invitations, providers.
        (
            "Thanks!\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jane Doe <jane@x.example> wrote:\n> see you at the visit",
            false,
        ),
        (
            "-----Original Message-----\nFrom: Jane Doe\nSent: Tuesday, March 3, 2026 9:14 AM\nSubject: appointment slots",
            false,
        ),
        (
            "---------- Forwarded message ---------\nFrom: Jane Doe <jane@x.example>\n\
             Date: 03/04/2026\nSubject: follow-up appointment\nTo: desk@clinic.example",
            false,
        ),
        // A form's "Date:" field is not a forwarded header.
        (
            "Visit note\nDate: 03/04/2026\nPatient: Ferhat Yilmaz\nReason: follow-up for hypertension",
            true,
        ),
        (
            "Happy birthday to Maria Lopez! Cake on March 3, 2026 in the break room.",
            false,
        ),
        (
            "Please welcome our new receptionist, Ann Lee, who starts on March 3, 2026.",
            false,
        ),
        (
            "Dr. Anna Patel is out on March 3, 2026; please move her appointments.",
            false,
        ),
        // A name written as one with an old date, and care named twice.
        (
            "Selin Aksoy, 1975-06-12, came in with a rash on both arms.",
            true,
        ),
        // A writer's own date of birth, and a colleague's birthday.
        (
            "Hi, this is Noor Rahimi, my birthday is 3/14/1985. I need to move my pap smear.",
            true,
        ),
        (
            "Her birthday is 3/14/1985, so we have cake for Noor Rahimi at 3 after the flu clinic.",
            false,
        ),
        // A date of birth in the languages practice mail also comes in.
        (
            "Le escribo por mi padre, Ximena Robles Ortiz, fecha de nacimiento 12/05/1944.",
            true,
        ),
        ("Patientin: Greta Vogel, Geburtsdatum 03.04.1951", true),
        // A form's name fields, a newborn's chart name, a vaccine given.
        (
            "First name: Thandiwe\nLast name: Mokoena\nDate of birth: 1988-07-21",
            true,
        ),
        (
            "Baby Girl Okafor, born 11/30/2026 at 3:14 am, 7 lb 2 oz",
            true,
        ),
        ("Imm record - Sofia Rossi (2019-03-15): MMR #2 given", true),
        ("Employee last name: Mokoena\nStart date: 01/05/2027", false),
        // The writer's own care; a named visit on a recent date written
        // as one with the name; a drug and a lab value.
        (
            "This is Tom Whitaker. I had my colonoscopy on 11/02/2026 and still have cramping.",
            true,
        ),
        (
            "Transport for Eleanor Whitcombe 12/07/2026 to dialysis, pickup 6:15 am.",
            true,
        ),
        (
            "Urgent: Wen Li, 04/05/1949, INR 4.8 today. Hold warfarin.",
            true,
        ),
        (
            "This is Tom Whitaker from Olympus. The colonoscope we repaired on 11/02/2026 ships today.",
            false,
        ),
        (
            "Shuttle for Eleanor Whitcombe 12/07/2026 to the airport, pickup 6:15 am.",
            false,
        ),
        // A visit someone makes is not care; the noun is.
        (
            "Hi team, Gloria Fuentes from Walgreens will visit 5/5/2026 to discuss the vaccine program.",
            false,
        ),
        (
            "Evander Holloway, 81, the building's owner, visited on 11/28/2026 to look at the roof.",
            false,
        ),
        (
            "Gloria Fuentes has a visit 5/5/2026 at 3 with Dr. Lin.",
            true,
        ),
        // A date written year first with its month's name.
        ("Pt: Rosa Ibarra  DOB 1962-Apr-03", true),
        ("Invoice 1962 for Rosa Ibarra, due 2026-Dec-03", false),
        (
            "La reunión con Ximena Robles Ortiz es el 12/05/2026 a las 10.",
            false,
        ),
        // A given name as its initial.
        ("J. Okafor, DOB 4/3/1962, called about his MRI.", true),
        ("Approved by J. Okafor on 4/3/2026.", false),
        // A kind of visit's results are someone's.
        (
            "RE: Maren Holt 8/19/1972 - mammogram results normal, letter mailed.",
            true,
        ),
        // Office life: a birthday's "born", staff out for their own
        // appointment, a talk presented, equipment serviced.
        (
            "Happy birthday to Luis Pereira, born 6/12/1990? Cake at 3!",
            false,
        ),
        (
            "Team, Rosa Delgado will be out 12/14/2026 for a dental appointment.",
            false,
        ),
        (
            "Wei Zhang presented the new EHR templates on 11/30/2026; slides attached.",
            false,
        ),
        (
            "Igor Sokolov (Philips) will service the ultrasound on 11/19/2026 from 8 to noon.",
            false,
        ),
        (
            "Webinar: coding updates with Jane Doe on March 3, 2026, register by Friday",
            false,
        ),
        // Mail to the patient, who is named only by the greeting: the
        // date is the reader's where the text speaks to the reader.
        (
            "Hi Maria,\n\nThis is a reminder of your appointment on Thursday, December 10, 2026.",
            true,
        ),
        (
            "Hi Tomasz,\n\nYour A1c from 11/24/2026 came back at 8.2.",
            true,
        ),
        // The greeting's twins: no care, care not the reader's, no greeting.
        (
            "Hi Maria,\n\nThis is a reminder of our staff meeting on Thursday, December 10, 2026.",
            false,
        ),
        (
            "Hi Tomasz,\n\nYour badge from 11/24/2026 was deactivated when the system updated.",
            false,
        ),
        (
            "Hi Maria,\n\nThe lab results from 11/24/2026 for the water test came back clean.",
            false,
        ),
        ("The visit, Maria, your appointment on 12/10/2026.", false),
        // A courtesy title speaks of a person as "her" does.
        (
            "Mrs. Ingrid Halvorsen has attended 6 of 8 physical therapy sessions since October 2, 2026.",
            true,
        ),
        (
            "Physical therapist Ingrid Halvorsen will talk about knee pain on October 2, 2026 at the library seminar.",
            false,
        ),
        // Care written for a named person, before the date; the same
        // words for a thing or with nothing of care.
        ("Pathology for Beatriz Whitcombe 11/18/2026", true),
        ("MRI results for KENNETH ABARA, 3/4/1961, attached", true),
        ("Slides for Beatriz Whitcombe 11/18/2026", false),
        (
            "Pathology department for Beatriz Whitcombe 11/18/2026",
            false,
        ),
        (
            "Pathology is short-staffed. For Beatriz Whitcombe 11/18/2026",
            false,
        ),
        // A verb of injury in the past, told of a person.
        ("Ava Thompson sprained her ankle on 12/1/2026.", true),
        // Care told to the reader ("your") is a person's, as "her" is.
        (
            "Hello Fernanda,\n\nYour pap smear from 11/10/2026 was normal.",
            true,
        ),
        (
            "Good morning Ngozi,\n\nYour ultrasound on 12/08/2026 is confirmed.",
            true,
        ),
        (
            "Hi Rajesh,\n\nDr. Ambrose sent your lisinopril refill to Walgreens today, 12/02/2026.",
            true,
        ),
        // ...but a care phrase that names a thing is a thing's, however
        // its first word reads alone ("flu" of "flu shot clinic").
        (
            "Hi Maria,\n\nYour flu shot clinic flyer is ready to print; the clinic is on 10/3/2026 in the lobby.",
            false,
        ),
        (
            "Hi Fernanda,\n\nYour CPR certification expires 12/31/2026. Please sign up for the renewal class.",
            false,
        ),
        (
            "Thank you, Ngozi Okafor, for covering prenatal intake calls at the desk on 12/08/2026.",
            false,
        ),
        // A lower-case name under a label or after "for": one listed part
        // is enough there, and a lower-case middle initial is an initial.
        ("Patient: daniela r. qorvath, seen 11/02/2026", true),
        (
            "Please send the MRI report for tomasz qelwinski 10/30/2026",
            true,
        ),
        (
            "Lunch order for maria and the front desk on 11/02/2026",
            false,
        ),
        ("we will page qorvath for the 11/02/2026 staff lunch", false),
        // A surname with its particle after a listed given name.
        ("Siobhan Mac Giollarnáth had an MRI on 11/04/2026.", true),
        ("Bridget Ó Raghallaigh had an x-ray 11/04/2026.", true),
        (
            "Mac Giollarnáth Catering had the lunch order on 11/04/2026.",
            false,
        ),
        // Care written for a name after the date.
        (
            "Could you pull the colonoscopy report from 10/14/2025 for Dariusz Qelwinski?",
            true,
        ),
        ("Flu shots for Staff Meeting 10/3/2026", false),
        (
            "The ultrasound machine from 10/14/2025 for Dariusz's office is back.",
            false,
        ),
        ("Pathology for Beatriz Oyelaran 11/18/2026", true),
        // A name that owns the care; a possessive ends the name.
        ("Mr. Abernathy-Quist's INR was 4.2 on 11/30/2026.", true),
        (
            "Mr. Abernathy-Quist's truck will block the lot on 11/30/2026.",
            false,
        ),
        // Lab tests are care.
        ("Hana Gutierrez's TSH came back at 8.9 on 11/28/2026.", true),
        (
            "Hana Gutierrez's TSH analyzer is due for calibration on 11/28/2026.",
            false,
        ),
        // Care given to a name: "has her", "underwent".
        (
            "Reminder: Lucinda Ferrante has her root canal Tuesday 12/08/2026 at 10:30.",
            true,
        ),
        (
            "Reminder: Lucinda Ferrante has her interview Tuesday 12/08/2026 at 10:30.",
            false,
        ),
        ("Martin Lowe underwent a lumbar fusion on 09/14/2026.", true),
        // A listed given name and a surname no list has, with care.
        (
            "Voicemail from Eero Jaaskelainen 12/01/2026 2:14pm re: MRI results, please call back.",
            true,
        ),
        (
            "Voicemail from Eero Jaaskelainen 12/01/2026 2:14pm re: copier lease, please call back.",
            false,
        ),
        // A value the care measured, between the care and its name.
        (
            "INR 3.8 for Dumisani Khumalo today (12/04/2026); hold tonight's dose.",
            true,
        ),
        (
            "Uptime 3.8 for Dumisani Khumalo today (12/04/2026); hold tonight's backup.",
            false,
        ),
        // A shot of something named, a well-child check, a patient roomed.
        (
            "B12 shot given to Ximena Quispe Mamani 12/03/2026, next due 01/03/2027.",
            true,
        ),
        (
            "Laptop given to Ximena Quispe Mamani 12/03/2026, next refresh due 01/03/2027.",
            false,
        ),
        (
            "4 yr WCC for Yusuf Haddad-Mansour moved to 12/15/2026, needs his boosters.",
            true,
        ),
        (
            "Annual review for Yusuf Haddad-Mansour moved to 12/15/2026, needs his goals form.",
            false,
        ),
        (
            "Roomed Kristjan Sepp at 9:05 on 12/04/2026, c/o dizziness x3 days.",
            true,
        ),
        (
            "Kristjan Sepp restocked room 4 at 9:05 on 12/04/2026, gloves and paper.",
            false,
        ),
        // Equipment a name ordered is a thing, not care.
        (
            "Karen Mbekweni ordered the MRI coil on 12/01/2026; it arrives next week.",
            false,
        ),
        (
            "Karen Miller ordered the ultrasound probe covers on 12/01/2026.",
            false,
        ),
        // Care told to a name as theirs.
        (
            "Please tell Ngaire Whitcombe her colonoscopy on 12/14/2026 needs the prep started.",
            true,
        ),
        (
            "Please tell Ngaire Whitcombe her parking permit on 12/14/2026 needs the form started.",
            false,
        ),
        (
            "Martin Lowe underwent a background check on 09/14/2026.",
            false,
        ),
        ("Gwen Parrish had a cavity filled on 11/02/2026.", true),
        (
            "Gwen Parrish had a great time at the 11/02/2026 offsite.",
            false,
        ),
        // A dose written for a name; a unit only after its number.
        (
            "PA approved for Ingrid Tveit: Humira 40mg q2wk, effective 11/15/2026.",
            true,
        ),
        (
            "PO approved for Ingrid Tveit: 40 toner cartridges, effective 11/15/2026.",
            false,
        ),
        (
            "Marcus Greene has anxiety and insomnia since 10/02/2026, started sertraline 50 mg.",
            true,
        ),
        (
            "Marcus Greene has his MG convertible in the shop until 10/02/2026.",
            false,
        ),
        // A part of the body is care; with a hyphen it describes a thing.
        (
            "Dagny Holm's knee ROM improved to 110 degrees on 11/30/2026.",
            true,
        ),
        ("Dagny Holm's knee-high boots arrived on 11/30/2026.", false),
        (
            "Dana Whitfield ran the data extraction on 11/30/2026 for the audit.",
            false,
        ),
        // A form is care's paperwork, as a report is.
        (
            "School physical form for Marisol Delacroix-Ng signed 10/14/2026, no restrictions.",
            true,
        ),
        (
            "Parking permit form for Marisol Delacroix-Ng signed 10/14/2026, space 12.",
            false,
        ),
        // What is scheduled, named and not care.
        (
            "Ms. Helga Sorensen is scheduled 01/12/2027 for the office move.",
            false,
        ),
        (
            "Ms. Helga Sorensen is scheduled 01/12/2027 for her mammogram.",
            true,
        ),
        // A biography's birthplace; the same with care is a record.
        (
            "Oskar Lindqvist, born June 4, 1958 in Gothenburg, founded the imaging supplier we use.",
            false,
        ),
        (
            "Oskar Lindqvist, born June 4, 1958 in Gothenburg, was admitted with chest pain.",
            true,
        ),
        // Care written for a name, where the text then speaks of the person.
        (
            "Rapid strep for Lucinda Xelhuatl, collected 12/02/2026, came back positive. She was told to stay home.",
            true,
        ),
        (
            "Name badge for Lucinda Xelhuatl, printed 12/02/2026, came back misspelled. She was told to wait.",
            false,
        ),
        // A stay in hospital is a date of service.
        (
            "Records of Harold Quimby's hospitalization 10/03/2026 arrived from Mercy.",
            true,
        ),
        (
            "Records of Harold Quimby's property survey 10/03/2026 arrived from the county.",
            false,
        ),
        // An order of care is care's paperwork, not commerce.
        (
            "Sleep study results for Harold Quimby from 11/21/2026: AHI 28. CPAP order faxed to the DME company.",
            true,
        ),
        (
            "Survey results for Harold Quimby from 11/21/2026: 28 replies. Paper order faxed to the company.",
            false,
        ),
        // Care given to a name; an order sent to one is commerce.
        (
            "Tdap administered to Ignacio Berrocal-Vidal on 09/30/2026, right deltoid.",
            true,
        ),
        (
            "Vaccine order sent to Ignacio Berrocal-Vidal on 09/30/2026, 40 doses.",
            false,
        ),
        // Care vouches for a name no list has; never for words of English.
        (
            "Ngozika Eberechi's INR was 4.1 on 12/01/2026; hold warfarin tonight.",
            true,
        ),
        (
            "Ngozika Eberechi's badge was reissued on 12/01/2026; shred the old one.",
            false,
        ),
        (
            "A1c results for Brightwater Pathology, sent 11/28/2026, were uploaded.",
            false,
        ),
        (
            "MRI report on Wirihana Tamatea (scan 11/17/2026): L5-S1 disc bulge.",
            true,
        ),
        (
            "Invoice on Wirihana Tamatea (sent 11/17/2026): five units of shelving.",
            false,
        ),
        (
            "Counseling session with Ezinne Obiora 11/24/2026, PHQ-9 = 14.",
            true,
        ),
        (
            "Budget session with Ezinne Obiora 11/24/2026, Q4 = 14k.",
            false,
        ),
        // A kind of visit booked for a name.
        (
            "Wiktoria Szczepaniak-Oyelaran is booked for colonoscopy 12/14/2026 at 7:30.",
            true,
        ),
        (
            "Wiktoria Szczepaniak-Oyelaran is booked for the boardroom 12/14/2026 at 7:30.",
            false,
        ),
        // A trip to the ER is a date of service; a repair of the body is
        // care, not maintenance.
        (
            "Priscilla Oyelowo-Hart went to the ER on 11/26/2026 with chest pain.",
            true,
        ),
        (
            "Priscilla Oyelowo-Hart went to the DMV on 11/26/2026 with her title.",
            false,
        ),
        (
            "Gwendolyn Ashworth, s/p ACL repair, last office visit 09/02/2026, doing well.",
            true,
        ),
        (
            "Gwendolyn Ashworth, roof repair, last office visit 09/02/2026 by the contractor.",
            false,
        ),
        // Anyone comes in; a patient comes in with a complaint.
        (
            "Gregory Whitcombe came in 11/30/2026 with a broken chair, temp fix placed, return for new one.",
            false,
        ),
        (
            "Gregory Whitcombe came in 10/05/2026 with a cracked tooth, temp filling placed.",
            true,
        ),
        // A surgery center is a place.
        (
            "Dr. Adeyemi wants to see Marianne Halvorsen back after her 12/01/2026 tour of the surgery center, for the donor wall.",
            false,
        ),
        (
            "Dr. Adeyemi wants to see Marianne Halvorsen back after her 12/01/2026 cataract surgery, post-op day 7.",
            true,
        ),
        // Spanish dates and care, as US practices write them.
        (
            "Paciente: Guadalupe Cuevas, fecha de nacimiento: 3 de mayo de 1980",
            true,
        ),
        (
            "La señora Marisela Ochoa llamó, tiene cita el 9 de diciembre de 2026 para su ultrasonido pero tiene fiebre.",
            true,
        ),
        (
            "La señora Marisela Ochoa llamó, tiene junta el 9 de diciembre de 2026 para su contrato pero tiene otra reunión.",
            false,
        ),
        (
            "Lorem ipsum dolor sit amet, Marisela Ochoa, 9 de diciembre de 2026, consectetur adipiscing.",
            false,
        ),
    ];

    #[test]
    fn table() {
        for (text, fires) in CASES {
            let r = scan_text(text);
            assert_eq!(
                r.categories.iter().any(|c| c.as_str() == "name_date"),
                *fires,
                "{text}: {:#?}",
                r.findings
            );
        }
    }

    /// A reply about the person its Subject names: the care in it is that
    /// person's, when it speaks of a person and no other name is near.
    #[test]
    fn a_thread_about_a_person_named_in_its_subject() {
        let scan = |subject: &str, body: &str| {
            let raw = format!("Subject: {subject}\r\nContent-Type: text/plain\r\n\r\n{body}\r\n");
            crate::tests::engine()
                .scan(raw.as_bytes())
                .categories
                .iter()
                .any(|c| c.as_str() == "name_date")
        };
        let care = "Her MRI from Nov 3, 2026 shows a small meniscal tear. Ortho consult ordered.";
        assert!(scan("Re: Lucinda Ferrante", care));
        assert!(scan("FW: RE: FERRANTE, LUCINDA", care));
        // A name no list has, and no word of English.
        assert!(scan("Re: Ngozika Eberechi", care));
        assert!(!scan("Re: Brightwater Pathology", care));
        // Not when the Subject says more than a name, or the body has no
        // care, or speaks of no person.
        assert!(!scan("Re: Lucinda Ferrante's desk move", care));
        assert!(!scan(
            "Re: Lucinda Ferrante",
            "Her reference check from Nov 3, 2026 came back fine."
        ));
        assert!(!scan(
            "Re: Lucinda Ferrante",
            "The MRI from Nov 3, 2026 was recalibrated by the vendor."
        ));
        assert!(!scan(
            "Re: Lucinda Ferrante",
            "Her MRI training on Nov 3, 2026 is at the vendor's office."
        ));
    }

    /// Found by fuzzing: a care word that begins before the window it
    /// ends in.
    #[test]
    fn a_care_word_across_the_window_edge_is_safe() {
        for pad in 60..100 {
            let text = format!("Ann Lee headache{} 03/04/2026", " ".repeat(pad));
            let _ = scan_text(&text);
        }
    }

    #[test]
    fn preview_hides_the_name_and_the_date() {
        let r = scan_text("Patient: Mrs. John Stewart\nDOB: 1962-10-19");
        let f = r
            .findings
            .iter()
            .find(|f| f.category.as_str() == "name_date")
            .unwrap();
        assert_eq!(f.preview, "M**. J*** S****** + **/**/****");
        assert!(!f.why.contains("Stewart"));
    }
}
