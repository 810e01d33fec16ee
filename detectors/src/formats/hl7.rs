//! HL7 version 2: segments separated by CR (or LF, once pasted into a
//! mail), fields by the character after `MSH`, components and repetitions
//! by the encoding characters in MSH-2 — whatever they are. One record per
//! message (from one `MSH` to the next): the patient (PID), the visit
//! (PV1), the guarantor (GT1), insurance (IN1) and diagnoses (DG1).

use super::{Kind, Record};

/// The separators of one message.
#[derive(Debug, Clone, Copy)]
struct Seps {
    field: char,
    component: char,
    repetition: char,
}

/// Every HL7 v2 message in `text`.
pub fn records(text: &str) -> Vec<super::Record> {
    let mut out = Vec::new();
    let mut current: Option<(Record, Seps)> = None;
    let mut pos = 0;
    for line in text.split_inclusive(['\r', '\n']) {
        let start = pos;
        pos += line.len();
        let seg = line.trim_end_matches(['\r', '\n']);
        // A quoted or indented paste ("> PID|...") is still a segment.
        let lead = seg.len() - seg.trim_start_matches(['>', ' ', '\t']).len();
        let seg = &seg[lead..];
        let at = start + lead;
        if let Some(seps) = msh(seg) {
            if let Some((r, _)) = current.take() {
                out.push(r);
            }
            current = Some((Record::new(super::Format::Hl7v2), seps));
            continue;
        }
        let Some((rec, seps)) = current.as_mut() else {
            continue;
        };
        // A segment is a three-byte name and the field separator; a line
        // whose third byte is inside a character is none.
        let (Some(name), Some(rest)) = (seg.get(..3), seg.get(3..)) else {
            continue;
        };
        if !rest.starts_with(seps.field) {
            continue;
        }
        segment(rec, *seps, name, seg, at);
    }
    if let Some((r, _)) = current {
        out.push(r);
    }
    out.retain(|r| !r.fields.is_empty());
    out
}

/// The separators, if `seg` is an MSH segment.
fn msh(seg: &str) -> Option<Seps> {
    let rest = seg.strip_prefix("MSH")?;
    let mut chars = rest.chars();
    let field = chars.next()?;
    if field.is_alphanumeric() || field.is_whitespace() {
        return None;
    }
    let component = chars.next()?;
    let repetition = chars.next()?;
    if component.is_alphanumeric() || component == field {
        return None;
    }
    Some(Seps {
        field,
        component,
        repetition,
    })
}

/// The byte offset of field `i` of `seg` (0 = the segment name) and its text.
fn field(seg: &str, seps: Seps, i: usize) -> Option<(usize, &str)> {
    let mut off = 0;
    for (k, f) in seg.split(seps.field).enumerate() {
        if k == i {
            return Some((off, f));
        }
        off += f.len() + seps.field.len_utf8();
    }
    None
}

fn components(f: &str, seps: Seps) -> Vec<&str> {
    f.split(seps.component).collect()
}

fn segment(rec: &mut Record, seps: Seps, name: &str, seg: &str, at: usize) {
    let get = |i: usize| field(seg, seps, i);
    let span = |off: usize, f: &str| (at + off, at + off + f.len());
    match name {
        "PID" => {
            if let Some((off, f)) = get(3) {
                for rep in f.split(seps.repetition) {
                    let c = components(rep, seps);
                    let kind = match c.get(4).copied().unwrap_or("") {
                        "SS" => Kind::Ssn,
                        "MB" | "MI" | "SN" => Kind::MemberId,
                        "MC" => Kind::Mbi,
                        _ => Kind::Mrn,
                    };
                    rec.push(kind, c[0], "PID-3", span(off, f));
                }
            }
            if let Some((off, f)) = get(5) {
                let rep = f.split(seps.repetition).next().unwrap_or("");
                let c = components(rep, seps);
                rec.push(Kind::Family, c[0], "PID-5", span(off, f));
                let given = c[1..].iter().take(2).copied().collect::<Vec<_>>().join(" ");
                rec.push(Kind::Given, &given, "PID-5", span(off, f));
            }
            if let Some((off, f)) = get(7) {
                rec.push(
                    Kind::BirthDate,
                    components(f, seps)[0],
                    "PID-7",
                    span(off, f),
                );
            }
            if let Some((off, f)) = get(18) {
                rec.push(Kind::Mrn, components(f, seps)[0], "PID-18", span(off, f));
            }
            if let Some((off, f)) = get(19) {
                rec.push(Kind::Ssn, f, "PID-19", span(off, f));
            }
        }
        "PV1" => {
            if let Some((off, f)) = get(19) {
                rec.push(Kind::Mrn, components(f, seps)[0], "PV1-19", span(off, f));
            }
            if let Some((off, f)) = get(44) {
                rec.push(
                    Kind::ServiceDate,
                    components(f, seps)[0],
                    "PV1-44",
                    span(off, f),
                );
            }
            for i in [7, 8, 9, 17] {
                if let Some((off, f)) = get(i) {
                    rec.push(
                        Kind::Npi,
                        components(f, seps)[0],
                        format!("PV1-{i}"),
                        span(off, f),
                    );
                }
            }
        }
        "IN1" => {
            for i in [36, 49] {
                if let Some((off, f)) = get(i) {
                    rec.push(
                        Kind::MemberId,
                        components(f, seps)[0],
                        format!("IN1-{i}"),
                        span(off, f),
                    );
                }
            }
        }
        "GT1" => {
            if let Some((off, f)) = get(12) {
                rec.push(Kind::Ssn, f, "GT1-12", span(off, f));
            }
        }
        "DG1" => {
            if let Some((off, f)) = get(3) {
                rec.push(
                    Kind::Diagnosis,
                    components(f, seps)[0],
                    "DG1-3",
                    span(off, f),
                );
            }
            if let Some((off, f)) = get(5) {
                rec.push(
                    Kind::ServiceDate,
                    components(f, seps)[0],
                    "DG1-5",
                    span(off, f),
                );
            }
        }
        "PR1" => {
            if let Some((off, f)) = get(5) {
                rec.push(
                    Kind::ServiceDate,
                    components(f, seps)[0],
                    "PR1-5",
                    span(off, f),
                );
            }
        }
        "OBR" => {
            if let Some((off, f)) = get(7) {
                rec.push(
                    Kind::ServiceDate,
                    components(f, seps)[0],
                    "OBR-7",
                    span(off, f),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_any_encoding_characters() {
        let msg = "MSH|#~\\&|EPIC|X|LAB|Y|202603031015||ADT#A04|1|P|2.5.1\rPID|1||12345#5#M11#HOSP#MR~987-65-4320####SS||DOE#JANE#Q||19650304|F||||||||||A998|135-14-4832\rDG1|1||E119#DIABETES#I10\r";
        let r = records(msg);
        assert_eq!(r.len(), 1);
        let f = |k: Kind| -> Vec<&str> {
            r[0].fields
                .iter()
                .filter(|x| x.kind == k)
                .map(|x| x.value.as_str())
                .collect()
        };
        assert_eq!(f(Kind::Family), vec!["DOE"]);
        assert_eq!(f(Kind::Given), vec!["JANE Q"]);
        assert_eq!(f(Kind::BirthDate), vec!["19650304"]);
        assert_eq!(f(Kind::Ssn), vec!["987-65-4320", "135-14-4832"]);
        assert_eq!(f(Kind::Mrn), vec!["12345", "A998"]);
        assert_eq!(f(Kind::Diagnosis), vec!["E119"]);
        let pid7 = r[0].fields.iter().find(|x| x.name == "PID-7").unwrap();
        assert_eq!(&msg[pid7.span.0..pid7.span.1], "19650304");
    }

    /// Found by fuzzing: after an MSH, a line whose third byte is inside
    /// a multi-byte character was sliced there.
    #[test]
    fn a_line_cut_inside_a_character_is_no_segment() {
        for line in ["óõœÍGF", "abé|x", "ab\u{fffd}", "PIDé"] {
            let text = format!("MSH|^~\\&|A|B\r{line}\rPID|1||555||ROE^RICHARD||19700101\r");
            let r = records(&text);
            assert_eq!(r.len(), 1, "{line}");
        }
    }

    #[test]
    fn pasted_with_line_feeds_and_quotes() {
        let body = "see below\n> MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.3\n> PID|1||555||ROE^RICHARD||19700101\nthanks";
        let r = records(body);
        assert_eq!(r.len(), 1);
        assert!(r[0].fields.iter().any(|f| f.kind == Kind::BirthDate));
        assert!(records("MSH is a chemistry abbreviation").is_empty());
    }
}
