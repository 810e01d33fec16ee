//! JSON that is not FHIR: an EHR's or a portal's API payload pasted into a
//! ticket, a report exported as `.json`. Its keys name its fields the way a
//! table's header names its columns (`"firstName"`, `"last_name"`,
//! `"dob"`, `"mrn"`), so each object is read as a record of the fields its
//! keys name.
//!
//! A name and a date of birth side by side are as often an employee's as a
//! patient's, so an object's name, dates and record numbers count only
//! when the object is shown to be about a patient: a key of its own or of
//! an object around it says so (`"patient"`, `"member"`, `"subscriber"`,
//! `"mrn"`, `"diagnosis"`...). Values that prove themselves (an SSN that
//! passes SSA rules, an MBI's format) count in any object.

use serde_json::{Map, Value};

use super::{Format, Kind, Record};

/// Keys (lower case, without `_`, `-`, `.` or blanks) and what they hold.
const KEYS: &[(Kind, &[&str])] = &[
    (
        Kind::Given,
        &[
            "first",
            "firstname",
            "fname",
            "given",
            "givenname",
            "forename",
            "patientfirstname",
            "ptfirstname",
        ],
    ),
    (
        Kind::Family,
        &[
            "last",
            "lastname",
            "lname",
            "family",
            "familyname",
            "surname",
            "patientlastname",
            "ptlastname",
            "patientname",
            "ptname",
            "fullname",
        ],
    ),
    (
        Kind::BirthDate,
        &[
            "dob",
            "dateofbirth",
            "birthdate",
            "birthdt",
            "patientdob",
            "ptdob",
        ],
    ),
    (
        Kind::ServiceDate,
        &[
            "dos",
            "dateofservice",
            "servicedate",
            "visitdate",
            "admitdate",
            "admissiondate",
            "encounterdate",
            "appointmentdate",
            "apptdate",
            "dischargedate",
        ],
    ),
    (Kind::Ssn, &["ssn", "socialsecuritynumber", "socsecno"]),
    (
        Kind::Mrn,
        &[
            "mrn",
            "medicalrecordnumber",
            "chartnumber",
            "chartno",
            "patientid",
            "patientaccount",
            "patientaccountnumber",
        ],
    ),
    (
        Kind::MemberId,
        &["memberid", "subscriberid", "policynumber", "insuranceid"],
    ),
    (
        Kind::Mbi,
        &["mbi", "medicareid", "medicarebeneficiaryidentifier"],
    ),
    (Kind::Npi, &["npi"]),
    (
        Kind::Diagnosis,
        &["icd10", "icd10cm", "icd", "diagnosiscode", "dxcode", "dx"],
    ),
];

/// Keys that say an object is about a patient (its own keys, or the key
/// it is the value of, or one around that).
const PATIENT: &[&str] = &[
    "patient",
    "pt",
    "patients",
    "member",
    "subscriber",
    "beneficiary",
    "insured",
    "guarantor",
    "diagnosis",
    "diagnoses",
    "encounter",
    "encounters",
    "visit",
    "admission",
    "insurance",
    "mrn",
    "medicalrecordnumber",
    "icd10",
    "dx",
    "memberid",
];

/// Every record of one JSON document (one per object that names a
/// field), added to `out`.
pub fn records(v: &Value, out: &mut Vec<Record>) {
    walk(v, false, out, 0);
}

/// A key as the lists spell it.
fn plain(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn walk(v: &Value, patient: bool, out: &mut Vec<Record>, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(map) => {
            let patient = patient || map.keys().any(|k| PATIENT.contains(&plain(k).as_str()));
            if let Some(r) = record(map, patient) {
                out.push(r);
            }
            for (k, child) in map {
                let about = patient || PATIENT.contains(&plain(k).as_str());
                if child.is_object() || child.is_array() {
                    walk(child, about, out, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for i in items.iter().take(10_000) {
                walk(i, patient, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The fields an object's keys name; a person's name, dates and record
/// numbers only in an object about a patient.
fn record(map: &Map<String, Value>, patient: bool) -> Option<Record> {
    let mut r = Record::new(Format::Json);
    for (k, v) in map {
        let key = plain(k);
        let Some(&(kind, _)) = KEYS.iter().find(|(_, keys)| keys.contains(&key.as_str())) else {
            continue;
        };
        let proves_itself = matches!(kind, Kind::Ssn | Kind::Mbi);
        if !patient && !proves_itself {
            continue;
        }
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        let value = match kind {
            Kind::BirthDate | Kind::ServiceDate => iso_date(&value).unwrap_or(value),
            _ => value,
        };
        r.push(kind, &value, k.as_str(), (0, 0));
    }
    (!r.fields.is_empty()).then_some(r)
}

/// A date written `M/D/YYYY` (or with dashes or dots) as `YYYY-MM-DD`, the
/// form structured fields are read in; a day over 12 first is day-first.
fn iso_date(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.trim().split(['/', '-', '.']).collect();
    let [a, b, y] = parts[..] else {
        return None;
    };
    if y.len() != 4 || a.len() > 2 || b.len() > 2 {
        return None;
    }
    let (a, b, y): (u8, u8, u16) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    let (m, d) = if a > 12 { (b, a) } else { (a, b) };
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::scan_text;

    #[test]
    fn a_patient_export_is_a_record_and_a_staff_list_is_not() {
        let phi = [
            r#"{"patient":{"first":"Chinonso","last":"Eze","dob":"1965-03-04"}}"#,
            r#"[{"firstName":"Chinonso","lastName":"Eze","DOB":"03/04/1965","mrn":"A44812"}]"#,
            r#"The API returned {"member_id":"W22918833","first_name":"Ana","last_name":"Rios","date_of_birth":"19710814"}"#,
            r#"{"employee":{"first":"Chinonso","last":"Eze","ssn":"135-14-4832"}}"#,
        ];
        for text in phi {
            let r = scan_text(text);
            assert!(r.phi, "{text}: {:#?}", r.findings);
            assert!(r.findings.iter().any(|f| f.why.contains("JSON")), "{text}");
        }
        let clean = [
            r#"{"employee":{"first":"Chinonso","last":"Eze","dob":"1965-03-04","badge":"B2291"}}"#,
            r#"{"vendor":{"name":"Acme","accountNumber":"448812","invoiceDate":"2026-03-04"}}"#,
            r#"{"patient":{"first":"Test","last":"Patient","ssn":"000-00-0000"}}"#,
            "function f() { return {a: 1}; }",
        ];
        for text in clean {
            let r = scan_text(text);
            assert!(!r.phi, "{text}: {:#?}", r.findings);
        }
    }

    #[test]
    fn dates_in_the_forms_exports_use() {
        assert_eq!(iso_date("03/04/1965").as_deref(), Some("1965-03-04"));
        assert_eq!(iso_date("25.12.1965").as_deref(), Some("1965-12-25"));
        assert_eq!(iso_date("1965-03-04"), None);
        assert_eq!(iso_date("13/13/1965"), None);
    }
}
