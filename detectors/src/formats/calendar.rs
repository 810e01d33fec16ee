//! iCalendar events and vCards as labelled text. An event's summary and
//! description are words someone wrote ("Follow-up: Jane Doe", "Vendor
//! demo"), so they are read as prose — but next to the event's date, which
//! they otherwise never are: `Calendar event on 2026-03-04: SUMMARY`. A
//! vCard's name and birthday become `Name: ...` / `Birth date: ...`.

/// Unfolded content lines (RFC 5545 3.1: a line starting with a blank
/// continues the one before).
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if (line.starts_with(' ') || line.starts_with('\t')) && !out.is_empty() {
            out.last_mut().expect("not empty").push_str(&line[1..]);
        } else {
            out.push(line.trim_end_matches('\r').to_string());
        }
    }
    out
}

/// `NAME;PARAMS:value` as (upper-case name, params, unescaped value).
fn property(line: &str) -> Option<(String, &str, String)> {
    let colon = line.find(':')?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    let value = value
        .replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";");
    Some((name.to_ascii_uppercase(), params, value))
}

/// `CN=Jane Doe` from a parameter list.
fn common_name(params: &str) -> Option<String> {
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("CN")
            .then(|| v.trim_matches('"').to_string())
    })
}

fn iso_date(v: &str) -> Option<String> {
    let (y, m, d) = super::structured_date(v)?;
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Each VEVENT of an iCalendar text as labelled text; `None` when there is none.
pub fn ical_text(text: &str) -> Option<String> {
    if !text.contains("BEGIN:VEVENT") && !text.contains("BEGIN:VTODO") {
        return None;
    }
    let mut out = String::new();
    let mut date = None;
    let mut words: Vec<String> = Vec::new();
    for line in unfold(text) {
        let Some((name, params, value)) = property(&line) else {
            continue;
        };
        match name.as_str() {
            "BEGIN" if value.starts_with("VEVENT") || value.starts_with("VTODO") => {
                date = None;
                words.clear();
            }
            "DTSTART" | "DUE" => date = iso_date(&value),
            "SUMMARY" | "DESCRIPTION" | "LOCATION" | "COMMENT" => words.push(value),
            // Attendees may include the patient (a telehealth visit); the
            // organizer is the practice.
            "ATTENDEE" => {
                if let Some(cn) = common_name(params) {
                    words.push(format!("attendee {cn}"));
                }
            }
            "END" if value.starts_with("VEVENT") || value.starts_with("VTODO") => {
                let on = date.take().unwrap_or_default();
                out.push_str(&format!("Calendar event on {on}: {}\n\n", words.join(". ")));
                words.clear();
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Each vCard as labelled text; `None` when there is none.
pub fn vcard_text(text: &str) -> Option<String> {
    if !text.contains("BEGIN:VCARD") {
        return None;
    }
    let mut out = String::new();
    let mut fields: Vec<String> = Vec::new();
    for line in unfold(text) {
        let Some((name, _, value)) = property(&line) else {
            continue;
        };
        match name.as_str() {
            "FN" => fields.push(format!("Name: {value}")),
            "N" if !fields.iter().any(|f| f.starts_with("Name:")) => {
                let p: Vec<&str> = value.split(';').collect();
                let given = p.get(1).copied().unwrap_or("");
                fields.push(format!("Name: {given} {}", p[0]));
            }
            "BDAY" => {
                let d = iso_date(&value).unwrap_or(value);
                fields.push(format!("Birth date: {d}"));
            }
            "NOTE" | "TITLE" | "ORG" => fields.push(value),
            "END" => {
                out.push_str(&fields.join("\n"));
                out.push_str("\n\n");
                fields.clear();
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_cards() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=America/Chicago:20260304T093000\r\nSUMMARY:Follow-up: Jane\r\n  Doe\r\nATTENDEE;CN=\"Ann Lee\":mailto:a@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            ical_text(ics).unwrap(),
            "Calendar event on 2026-03-04: Follow-up: Jane Doe. attendee Ann Lee\n\n"
        );
        let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nBDAY:1965-03-04\r\nEND:VCARD\r\n";
        assert_eq!(
            vcard_text(vcf).unwrap(),
            "Name: Jane Doe\nBirth date: 1965-03-04\n\n"
        );
        assert_eq!(ical_text("no calendar"), None);
    }
}
