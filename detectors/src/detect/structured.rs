//! Findings from the records of clinical formats ([`crate::formats`]). The
//! structure is the context: a name and a birth date in the same patient
//! segment are a patient's, a value in PID-19 is meant to be an SSN. Each
//! value is still validated (SSA rules, the ICD-10-CM code set, the NPI
//! check digit, the MBI format), so a malformed or test value does not
//! fire on its field name alone.

use super::{Match, clamp};
use crate::finding::{Category, mask_initials, mask_keep_last};
use crate::formats::{Field, Kind, Record, structured_date};

/// Every finding in one record.
pub fn matches(rec: &Record) -> Vec<Match> {
    let fmt = rec.format.as_str();
    let mut out = Vec::new();
    let first = |k: Kind| rec.fields.iter().find(|f| f.kind == k);
    let family = first(Kind::Family);
    let given = first(Kind::Given);
    let name = match (given, family) {
        (Some(g), Some(f)) => Some((format!("{} {}", g.value, f.value), f)),
        (None, Some(f)) if f.value.chars().filter(|c| c.is_alphabetic()).count() >= 2 => {
            Some((f.value.clone(), f))
        }
        _ => None,
    };
    if let Some((full, name_field)) = &name {
        for (kind, rule, what) in [
            (Kind::BirthDate, "name_date.dob", "birth date"),
            (Kind::ServiceDate, "name_date.dos", "date of service"),
        ] {
            let Some(d) = rec
                .fields
                .iter()
                .filter(|f| f.kind == kind)
                .find(|f| date_of(f).is_some())
            else {
                continue;
            };
            let (y, m, dd) = date_of(d).expect("checked");
            out.push(Match {
                category: Category::NameDate,
                rule: rule.into(),
                confidence: clamp(if kind == Kind::BirthDate { 0.97 } else { 0.9 }),
                start: name_field.span.0.min(d.span.0),
                end: name_field.span.1.max(d.span.1),
                value: format!("{}|{y:04}-{m:02}-{dd:02}", full.to_lowercase()),
                preview: format!("{} + **/**/****", mask_initials(full)),
                why: format!(
                    "{fmt} patient name ({}) with a {what} ({})",
                    name_field.name, d.name
                ),
            });
            break;
        }
    }
    for f in &rec.fields {
        let m = match f.kind {
            Kind::Ssn => {
                let digits: String = f.value.chars().filter(char::is_ascii_digit).collect();
                let shape = f
                    .value
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
                (shape && super::ssn::valid(&digits)).then(|| Match {
                    category: Category::Ssn,
                    rule: "ssn.structured".into(),
                    confidence: 0.97,
                    start: f.span.0,
                    end: f.span.1,
                    preview: format!("***-**-{}", &digits[5..]),
                    value: digits,
                    why: format!("{fmt} {}: an SSN field, passing SSA rules", f.name),
                })
            }
            Kind::Diagnosis => {
                let code = f.value.trim().to_ascii_uppercase();
                super::icd10::is_code(&code).then(|| {
                    Match::masked(
                        Category::Icd10cm,
                        "icd10cm.structured",
                        0.95,
                        f.span.0,
                        f.span.1,
                        &code.replace('.', ""),
                        format!(
                            "{fmt} {}: a diagnosis code in the ICD-10-CM code set",
                            f.name
                        ),
                    )
                })
            }
            Kind::Npi => super::ids::npi_valid(f.value.trim()).then(|| {
                Match::masked(
                    Category::Npi,
                    "npi.structured",
                    0.95,
                    f.span.0,
                    f.span.1,
                    f.value.trim(),
                    format!(
                        "{fmt} {}: a provider identifier with a valid check digit",
                        f.name
                    ),
                )
            }),
            Kind::Mbi => {
                let plain: String = f
                    .value
                    .chars()
                    .filter(|c| *c != '-' && *c != ' ')
                    .collect::<String>()
                    .to_ascii_uppercase();
                super::ids::mbi_shape(&plain).then(|| {
                    Match::masked(
                        Category::Mbi,
                        "mbi.structured",
                        0.97,
                        f.span.0,
                        f.span.1,
                        &plain,
                        format!("{fmt} {}: a Medicare Beneficiary Identifier", f.name),
                    )
                })
            }
            Kind::Mrn | Kind::MemberId => {
                let v = f.value.trim();
                let ok = (3..=30).contains(&v.len())
                    && v.chars().any(|c| c.is_ascii_digit())
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-./".contains(c));
                ok.then(|| {
                    let (category, rule, what) = if f.kind == Kind::Mrn {
                        (
                            Category::Mrn,
                            "mrn.structured",
                            "a record or account number",
                        )
                    } else {
                        (Category::MemberId, "member_id.structured", "a member ID")
                    };
                    Match {
                        category,
                        rule: rule.into(),
                        confidence: 0.9,
                        start: f.span.0,
                        end: f.span.1,
                        value: v.to_string(),
                        preview: mask_keep_last(v, 2),
                        why: format!("{fmt} {}: {what} in a patient record", f.name),
                    }
                })
            }
            _ => None,
        };
        out.extend(m);
    }
    out
}

fn date_of(f: &Field) -> Option<(u16, u8, u8)> {
    structured_date(&f.value)
}

#[cfg(test)]
mod tests {
    use crate::tests::scan_text;

    #[test]
    fn an_hl7_message_pasted_in_a_body() {
        let r = scan_text(
            "The interface rejected this:\nMSH|^~\\&|A|B|C|D|202603031015||ADT^A04|1|P|2.5.1\nPID|1||4455667^^^H^MR||OKONKWO^ZEPHYRINE||19650304|F|||||||||||135-14-4832\nDG1|1||E119^DM2^I10\n",
        );
        let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
        for c in ["name_date", "ssn", "mrn", "icd10cm"] {
            assert!(cats.contains(&c), "{c}: {:#?}", r.findings);
        }
        let nd = r
            .findings
            .iter()
            .find(|f| f.rule == "name_date.dob")
            .unwrap();
        assert!(
            nd.why.contains("HL7 v2") && nd.why.contains("PID-7"),
            "{}",
            nd.why
        );
    }

    #[test]
    fn test_values_do_not_fire_on_their_field_alone() {
        let r = scan_text(
            "MSH|^~\\&|A|B|C|D|2026||ADT^A04|1|P|2.5.1\nPID|1||||TEST^PATIENT||||||||||||||000-00-0000\nDG1|1||NOTACODE\n",
        );
        assert!(!r.phi, "{:#?}", r.findings);
    }
}
