//! ASC X12 health care transactions (837 claims, 835 remittances, 270/271
//! eligibility): segments end with the terminator the ISA segment sets
//! (usually `~`), elements are separated by the character after `ISA`
//! (usually `*`), components by ISA-16. A record per person loop: an `NM1`
//! for the subscriber (IL) or patient (QC) starts one, and the `DMG`, `REF`,
//! `DTP` and `HI` segments after it belong to it.

use super::{Kind, Record};

/// Every person loop in every X12 interchange in `text`.
pub fn records(text: &str) -> Vec<Record> {
    let Some((elem, comp, term, start)) = separators(text) else {
        return Vec::new();
    };
    let mut out: Vec<Record> = Vec::new();
    let mut current: Option<Record> = None;
    let mut pos = start;
    let body = &text[start..];
    for raw in body.split(term) {
        let at = pos;
        pos += raw.len() + term.len_utf8();
        let lead = raw.len() - raw.trim_start().len();
        let seg = raw.trim();
        let at = at + lead;
        let els: Vec<&str> = seg.split(elem).collect();
        let el = |i: usize| els.get(i).copied().unwrap_or("");
        let off = |i: usize| -> (usize, usize) {
            let before: usize = els.iter().take(i).map(|e| e.len() + elem.len_utf8()).sum();
            (at + before, at + before + el(i).len())
        };
        match els[0] {
            "NM1" => {
                let person = el(2) == "1";
                let qualifier = el(8);
                if matches!(el(1), "IL" | "QC" | "03") && person {
                    if let Some(r) = current.take() {
                        out.push(r);
                    }
                    let mut r = Record::new(super::Format::X12);
                    let who = format!("NM1*{}", el(1));
                    r.push(Kind::Family, el(3), who.clone(), off(3));
                    let given = [el(4), el(5)].join(" ");
                    r.push(Kind::Given, given.trim(), who.clone(), off(4));
                    match qualifier {
                        "MI" | "II" => r.push(Kind::MemberId, el(9), who, off(9)),
                        "34" => r.push(Kind::Ssn, el(9), who, off(9)),
                        _ => {}
                    }
                    current = Some(r);
                } else if qualifier == "XX" {
                    let r = current.get_or_insert_with(|| Record::new(super::Format::X12));
                    r.push(Kind::Npi, el(9), format!("NM1*{}", el(1)), off(9));
                }
            }
            "DMG" if el(1) == "D8" => {
                if let Some(r) = current.as_mut() {
                    r.push(Kind::BirthDate, el(2), "DMG*D8", off(2));
                }
            }
            "REF" => {
                if let Some(r) = current.as_mut() {
                    match el(1) {
                        "SY" => r.push(Kind::Ssn, el(2), "REF*SY", off(2)),
                        "1W" | "IG" | "SY1" | "6P" => {
                            r.push(Kind::MemberId, el(2), format!("REF*{}", el(1)), off(2))
                        }
                        "EA" => r.push(Kind::Mrn, el(2), "REF*EA", off(2)),
                        _ => {}
                    }
                }
            }
            "DTP" if matches!(el(1), "472" | "434" | "435" | "096" | "307" | "291") => {
                if let Some(r) = current.as_mut() {
                    let date = el(3).split('-').next().unwrap_or("");
                    r.push(Kind::ServiceDate, date, format!("DTP*{}", el(1)), off(3));
                }
            }
            "HI" => {
                if let Some(r) = current.as_mut() {
                    for i in 1..els.len() {
                        let parts: Vec<&str> = el(i).split(comp).collect();
                        // ABK/ABF/ABJ/ABN/APR: ICD-10-CM diagnosis qualifiers.
                        if parts.len() >= 2 && parts[0].starts_with('A') {
                            r.push(
                                Kind::Diagnosis,
                                parts[1],
                                format!("HI*{}", parts[0]),
                                off(i),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(r) = current {
        out.push(r);
    }
    out.retain(|r| !r.fields.is_empty());
    out
}

/// Element, component and segment separators, and where the interchange
/// starts: from the ISA segment when there is one, else the usual `*`,
/// `:` and `~` when the text holds an `ST*` transaction set.
fn separators(text: &str) -> Option<(char, char, char, usize)> {
    if let Some(i) = text.find("ISA") {
        let rest = &text[i + 3..];
        let elem = rest.chars().next()?;
        if elem.is_alphanumeric() {
            return None;
        }
        // ISA has 16 elements; the character after the 16th element
        // separator is the component separator, then the terminator.
        let mut seen = 0;
        for (k, ch) in rest.char_indices() {
            if ch == elem {
                seen += 1;
                if seen == 16 {
                    // The separator may be any character, wider than a
                    // byte too.
                    let mut tail = rest[k + ch.len_utf8()..].chars();
                    let comp = tail.next()?;
                    let term = tail.find(|c| !matches!(c, '\r' | '\n'))?;
                    return Some((elem, comp, term, i));
                }
            }
        }
        return None;
    }
    let st = text.find("ST*")?;
    text[st..].contains('~').then_some(('*', ':', '~', st))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_subscriber_loop() {
        let edi = "ISA*00*          *00*          *ZZ*SUB            *ZZ*REC            *260303*1015*^*00501*000000001*0*P*:~\nGS*HC*S*R*20260303*1015*1*X*005010X222A1~\nST*837*0001~\nNM1*85*2*LAKEVIEW*****XX*1234567893~\nNM1*IL*1*DOE*JANE****MI*XJH4488129~\nREF*SY*135144832~\nDMG*D8*19650304*F~\nHI*ABK:E119*ABF:I10~\nSE*8*0001~";
        let r = records(edi);
        assert_eq!(r.len(), 2, "{r:?}");
        let person = &r[1];
        let has = |k: Kind, v: &str| person.fields.iter().any(|f| f.kind == k && f.value == v);
        assert!(has(Kind::Family, "DOE") && has(Kind::Given, "JANE"));
        assert!(has(Kind::BirthDate, "19650304"));
        assert!(has(Kind::Ssn, "135144832"));
        assert!(has(Kind::MemberId, "XJH4488129"));
        assert!(has(Kind::Diagnosis, "E119") && has(Kind::Diagnosis, "I10"));
        assert!(r[0].fields.iter().any(|f| f.kind == Kind::Npi));
        let dmg = person
            .fields
            .iter()
            .find(|f| f.kind == Kind::BirthDate)
            .unwrap();
        assert_eq!(&edi[dmg.span.0..dmg.span.1], "19650304");
    }

    /// A separator wider than a byte (found by fuzzing: the slice after
    /// the 16th separator started inside it) reads, not panics.
    #[test]
    fn a_multibyte_element_separator() {
        let isa = format!("ISA{}~", "§".repeat(16) + ":");
        assert_eq!(separators(&isa), Some(('§', ':', '~', 0)));
        let _ = records(&format!("{isa}\nST{}837~", '§'));
    }
}
