//! XML clinical documents: FHIR R4 resources in XML (values in `value`
//! attributes: `<family value="..."/>`) and HL7 C-CDA documents
//! (`recordTarget/patientRole`: the patient's `name`, `birthTime`, `id`;
//! any coded value whose `codeSystem` is ICD-10-CM). Read with quick-xml,
//! tolerant of namespaces and of documents cut short.

use quick_xml::events::{BytesStart, Event};

use super::{Format, Kind, Record};

/// ICD-10-CM's OID, and ICD-10's.
const ICD10_OIDS: &[&str] = &["2.16.840.1.113883.6.90", "2.16.840.1.113883.6.3"];

/// The FHIR or C-CDA records in `text` (one per document).
pub fn records(text: &str) -> Vec<Record> {
    let start = text.find('<').unwrap_or(0);
    let format = if text.contains("ClinicalDocument") {
        Format::Cda
    } else {
        Format::FhirXml
    };
    let mut reader = quick_xml::Reader::from_str(&text[start..]);
    reader.config_mut().check_end_names = false;
    let mut r = Record::new(format);
    let mut path: Vec<String> = Vec::new();
    // Pending identifier system (FHIR: <identifier><system/><value/>).
    let mut id_system = String::new();
    let mut coding_system = String::new();
    let mut events = 0;
    loop {
        events += 1;
        if events > 200_000 {
            break;
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = local(&e);
                element(
                    format,
                    &path,
                    &name,
                    &e,
                    &mut r,
                    &mut id_system,
                    &mut coding_system,
                );
                path.push(name);
            }
            Ok(Event::Empty(e)) => {
                let name = local(&e);
                element(
                    format,
                    &path,
                    &name,
                    &e,
                    &mut r,
                    &mut id_system,
                    &mut coding_system,
                );
            }
            Ok(Event::Text(t)) if format == Format::Cda && in_patient(&path) => {
                let Ok(s) = t.unescape() else { continue };
                match path.last().map(String::as_str) {
                    Some("family") => {
                        r.push(Kind::Family, &s, "patientRole/patient/name/family", (0, 0))
                    }
                    Some("given") => {
                        r.push(Kind::Given, &s, "patientRole/patient/name/given", (0, 0))
                    }
                    _ => {}
                }
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if r.fields.is_empty() {
        Vec::new()
    } else {
        vec![r]
    }
}

fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn in_patient(path: &[String]) -> bool {
    path.iter().any(|p| p == "patientRole") && path.iter().any(|p| p == "patient")
}

#[allow(clippy::too_many_arguments)]
fn element(
    format: Format,
    path: &[String],
    name: &str,
    e: &BytesStart<'_>,
    r: &mut Record,
    id_system: &mut String,
    coding_system: &mut String,
) {
    let parent = path.last().map(String::as_str).unwrap_or("");
    match format {
        Format::FhirXml => {
            let Some(value) = attr(e, "value") else {
                return;
            };
            match (parent, name) {
                ("name", "family") => r.push(Kind::Family, &value, "name.family", (0, 0)),
                ("name", "given") => r.push(Kind::Given, &value, "name.given", (0, 0)),
                (_, "birthDate") => r.push(Kind::BirthDate, &value, "birthDate", (0, 0)),
                ("identifier", "system") => *id_system = value,
                ("identifier", "value") => {
                    let kind = if id_system.contains("us-ssn") {
                        Kind::Ssn
                    } else if id_system.contains("us-mbi") {
                        Kind::Mbi
                    } else {
                        Kind::Mrn
                    };
                    r.push(kind, &value, "identifier", (0, 0));
                }
                ("coding", "system") => *coding_system = value,
                ("coding", "code") if coding_system.to_ascii_lowercase().contains("icd-10") => {
                    r.push(Kind::Diagnosis, &value, "coding.code", (0, 0))
                }
                _ => {}
            }
        }
        _ => {
            if in_patient(path)
                && name == "birthTime"
                && let Some(v) = attr(e, "value")
            {
                r.push(Kind::BirthDate, &v, "patient/birthTime", (0, 0));
            }
            if parent == "patientRole"
                && name == "id"
                && let Some(v) = attr(e, "extension")
            {
                r.push(Kind::Mrn, &v, "patientRole/id", (0, 0));
            }
            if let Some(code) = attr(e, "code") {
                let system = attr(e, "codeSystem").unwrap_or_default();
                let system_name = attr(e, "codeSystemName").unwrap_or_default();
                if ICD10_OIDS.contains(&system.as_str())
                    || system_name.to_ascii_uppercase().contains("ICD-10")
                    || system_name.to_ascii_uppercase().contains("ICD10")
                {
                    r.push(Kind::Diagnosis, &code, format!("{name}@code"), (0, 0));
                }
            }
            if name == "effectiveTime"
                && path.iter().any(|p| p == "encounter")
                && let Some(v) = attr(e, "value")
            {
                r.push(Kind::ServiceDate, &v, "encounter/effectiveTime", (0, 0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ccd_and_a_fhir_patient() {
        let ccd = r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id extension="998877" root="2.16"/><patient><name><given>Jane</given><family>Doe</family></name><birthTime value="19650304"/></patient></patientRole></recordTarget><component><observation><value code="E11.9" codeSystem="2.16.840.1.113883.6.90"/></observation></component></ClinicalDocument>"#;
        let r = records(ccd);
        let f: Vec<(Kind, &str)> = r[0]
            .fields
            .iter()
            .map(|f| (f.kind, f.value.as_str()))
            .collect();
        assert!(
            f.contains(&(Kind::Given, "Jane")) && f.contains(&(Kind::Family, "Doe")),
            "{f:?}"
        );
        assert!(f.contains(&(Kind::BirthDate, "19650304")));
        assert!(f.contains(&(Kind::Mrn, "998877")));
        assert!(f.contains(&(Kind::Diagnosis, "E11.9")));
        let fhir = r#"<Patient xmlns="http://hl7.org/fhir"><identifier><system value="http://hl7.org/fhir/sid/us-ssn"/><value value="135-14-4832"/></identifier><name><family value="Roe"/><given value="Ann"/></name><birthDate value="1970-01-02"/></Patient>"#;
        let r = records(fhir);
        let f: Vec<(Kind, &str)> = r[0]
            .fields
            .iter()
            .map(|f| (f.kind, f.value.as_str()))
            .collect();
        assert!(f.contains(&(Kind::Ssn, "135-14-4832")), "{f:?}");
        assert!(f.contains(&(Kind::BirthDate, "1970-01-02")));
    }
}
