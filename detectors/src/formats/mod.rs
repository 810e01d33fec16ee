//! Clinical interchange formats, read for what they are: HL7 v2 messages,
//! FHIR resources (JSON and XML), C-CDA documents and X12 transactions are
//! parsed into records of typed fields (a patient's name, birth date, SSN,
//! record number, diagnosis codes...), and so is other JSON, by its keys,
//! wherever they appear: an attachment of any type, or pasted into a
//! message body. iCalendar events and vCards
//! become labelled text, since their words (an appointment's summary, a
//! contact's note) still need reading as prose.
//!
//! A record's fields are validated and combined by
//! [`crate::detect::structured`]: a name and a birth date in the same PID
//! segment are PHI with certainty; an SSN field must still pass SSA rules,
//! a diagnosis code must be in the code set.

pub mod calendar;
pub mod fhir;
pub mod hl7;
pub mod json;
pub mod x12;
pub mod xml;

/// Which format a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HL7 version 2 (pipe-delimited segments).
    Hl7v2,
    /// FHIR R4 resource in JSON.
    FhirJson,
    /// FHIR R4 resource in XML.
    FhirXml,
    /// HL7 C-CDA / CCD document.
    Cda,
    /// ASC X12 transaction (837, 835, 270, 271).
    X12,
    /// Other JSON (an API payload, an export), read by its keys.
    Json,
}

impl Format {
    /// The format's name, for explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Hl7v2 => "HL7 v2",
            Format::FhirJson => "FHIR JSON",
            Format::FhirXml => "FHIR XML",
            Format::Cda => "C-CDA",
            Format::X12 => "X12",
            Format::Json => "JSON",
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A person's family name.
    Family,
    /// A person's given name(s).
    Given,
    /// A date of birth.
    BirthDate,
    /// A date of service (admission, visit, procedure).
    ServiceDate,
    /// A Social Security number.
    Ssn,
    /// A medical record or patient account number.
    Mrn,
    /// A health-plan member or subscriber ID.
    MemberId,
    /// A Medicare Beneficiary Identifier.
    Mbi,
    /// A National Provider Identifier.
    Npi,
    /// A diagnosis code (ICD-10-CM when the code set says so).
    Diagnosis,
}

/// One field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// What it holds.
    pub kind: Kind,
    /// Its value as written.
    pub value: String,
    /// Where in the format: `PID-7`, `NM1*IL`, `Patient.birthDate`.
    pub name: String,
    /// Byte range in the text, when known (0..0 otherwise).
    pub span: (usize, usize),
}

/// The fields about one person (a patient, a subscriber) in one message,
/// resource, document or transaction loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Where it came from.
    pub format: Format,
    /// Its fields, in order.
    pub fields: Vec<Field>,
}

impl Record {
    fn new(format: Format) -> Record {
        Record {
            format,
            fields: Vec::new(),
        }
    }

    fn push(&mut self, kind: Kind, value: &str, name: impl Into<String>, span: (usize, usize)) {
        let value = value.trim();
        if !value.is_empty() {
            self.fields.push(Field {
                kind,
                value: value.to_string(),
                name: name.into(),
                span,
            });
        }
    }
}

/// Every record of every format found in `text`. Cheap for text holding
/// none: each format is looked for by its marker first.
pub fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    if text.contains("MSH") {
        out.extend(hl7::records(text));
    }
    if text.contains("ISA") || text.contains("ST*") {
        out.extend(x12::records(text));
    }
    // JSON, FHIR or not, is parsed once: a document holding a FHIR
    // resource is read as FHIR, any other by its keys.
    if text.contains("\":") {
        for v in json_documents(text) {
            if fhir::holds_resource(&v) {
                out.extend(fhir::record(&v));
            } else {
                json::records(&v, &mut out);
            }
            if out.len() > 1000 {
                break;
            }
        }
    }
    if text.contains('<') && (text.contains("hl7.org/fhir") || text.contains("ClinicalDocument")) {
        out.extend(xml::records(text));
    }
    out
}

/// The JSON documents (objects, or arrays of them) in `text`, wherever
/// they start: at a `{` before a key, or a `[` before an object. A
/// document that does not parse costs a read up to where it breaks, so
/// a text that keeps looking like JSON and breaking (nested openers over
/// a long body, from a hostile sender) is given up on after
/// [`MAX_BROKEN`] of them, and at most [`MAX_DOCUMENTS`] are read.
pub fn json_documents(text: &str) -> Vec<serde_json::Value> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut broken = 0;
    let mut from = 0;
    while let Some(start) = memchr::memchr2(b'{', b'[', &b[from..]).map(|i| from + i) {
        from = start + 1;
        let next = b[start + 1..].iter().find(|c| !c.is_ascii_whitespace());
        let opens = match b[start] {
            b'{' => next == Some(&b'"'),
            _ => next == Some(&b'{'),
        };
        if !opens {
            continue;
        }
        let mut stream =
            serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(v)) => {
                from = start + stream.byte_offset().max(1);
                out.push(v);
                if out.len() >= MAX_DOCUMENTS {
                    break;
                }
            }
            _ => {
                broken += 1;
                if broken >= MAX_BROKEN {
                    break;
                }
            }
        }
    }
    out
}

/// How many JSON documents a part is read for.
const MAX_DOCUMENTS: usize = 100;
/// How many starts of JSON that do not parse a part is given.
const MAX_BROKEN: usize = 64;

/// A date written `YYYYMMDD[HHMM[SS]]` or `YYYY-MM-DD[Thh:mm...]`, as
/// (year, month, day).
pub fn structured_date(s: &str) -> Option<(u16, u8, u8)> {
    let s = s.trim();
    let digits: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .filter(char::is_ascii_digit)
        .collect();
    if digits.len() < 8 {
        return None;
    }
    let y: u16 = digits[0..4].parse().ok()?;
    let m: u8 = digits[4..6].parse().ok()?;
    let d: u8 = digits[6..8].parse().ok()?;
    ((1880..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_are_found_once_and_broken_ones_are_bounded() {
        let docs = json_documents(r#"see {"a":1} and [{"b":2}], not {x} or [1]"#);
        assert_eq!(docs.len(), 2, "{docs:?}");
        // Openers over a long body that never closes: given up on, fast.
        let hostile = format!("{}{}", "[{\"a\":".repeat(100), "1,".repeat(200_000));
        let t = std::time::Instant::now();
        assert!(json_documents(&hostile).is_empty());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn dates_in_structured_fields() {
        assert_eq!(structured_date("19650304"), Some((1965, 3, 4)));
        assert_eq!(structured_date("196503041230"), Some((1965, 3, 4)));
        assert_eq!(structured_date("1965-03-04"), Some((1965, 3, 4)));
        assert_eq!(structured_date("1965-03-04T10:00:00Z"), Some((1965, 3, 4)));
        assert_eq!(structured_date("1965"), None);
        assert_eq!(structured_date("19651304"), None);
    }
}
