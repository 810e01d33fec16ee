//! FHIR R4 resources in JSON: a Patient's `name` (`family`, `given`),
//! `birthDate` and `identifier`s (by system or type: SSN, MRN, MBI, member
//! ID); Coverage's `subscriberId`; every `coding` whose system is
//! ICD-10(-CM); an Encounter's `period.start`. Bundles are walked entry by
//! entry. The documents come from [`super::json_documents`], wherever they
//! start in a part (an API response pasted into a body).

use serde_json::Value;

use super::{Format, Kind, Record};

/// The record of one JSON document that holds FHIR resources (a bundle
/// or a stand-alone resource), if any field was found.
pub fn record(v: &Value) -> Option<Record> {
    let mut r = Record::new(Format::FhirJson);
    walk(v, "", &mut r);
    (!r.fields.is_empty()).then_some(r)
}

/// Whether a JSON document holds a FHIR resource anywhere in it.
pub fn holds_resource(v: &Value) -> bool {
    fn within(v: &Value, depth: usize) -> bool {
        depth < 64
            && match v {
                Value::Object(m) => {
                    m.contains_key("resourceType") || m.values().any(|c| within(c, depth + 1))
                }
                Value::Array(a) => a.iter().take(10_000).any(|c| within(c, depth + 1)),
                _ => false,
            }
    }
    within(v, 0)
}

fn walk(v: &Value, resource: &str, r: &mut Record) {
    match v {
        Value::Object(map) => {
            let rt = map
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or(resource);
            let rt = rt.to_string();
            for (k, child) in map {
                match (rt.as_str(), k.as_str()) {
                    ("Patient" | "RelatedPerson" | "Person", "name") => names(child, &rt, r),
                    ("Patient" | "Person", "birthDate") => {
                        if let Some(s) = child.as_str() {
                            r.push(Kind::BirthDate, s, format!("{rt}.birthDate"), (0, 0));
                        }
                    }
                    (_, "identifier") => identifiers(child, &rt, r),
                    ("Coverage", "subscriberId") => {
                        if let Some(s) = child.as_str() {
                            r.push(Kind::MemberId, s, "Coverage.subscriberId", (0, 0));
                        }
                    }
                    ("Encounter", "period") => {
                        if let Some(s) = child.get("start").and_then(Value::as_str) {
                            r.push(Kind::ServiceDate, s, "Encounter.period.start", (0, 0));
                        }
                    }
                    (_, "coding") => codings(child, &rt, r),
                    _ => walk(child, &rt, r),
                }
            }
        }
        Value::Array(items) => {
            for i in items.iter().take(10_000) {
                walk(i, resource, r);
            }
        }
        _ => {}
    }
}

fn names(v: &Value, rt: &str, r: &mut Record) {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for n in list.into_iter().take(1) {
        if let Some(f) = n.get("family").and_then(Value::as_str) {
            r.push(Kind::Family, f, format!("{rt}.name.family"), (0, 0));
        }
        let given: Vec<&str> = n
            .get("given")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        r.push(
            Kind::Given,
            &given.join(" "),
            format!("{rt}.name.given"),
            (0, 0),
        );
    }
}

fn identifiers(v: &Value, rt: &str, r: &mut Record) {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for id in list {
        let Some(value) = id.get("value").and_then(Value::as_str) else {
            continue;
        };
        let system = id.get("system").and_then(Value::as_str).unwrap_or("");
        let type_code = id
            .pointer("/type/coding/0/code")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = if system.contains("us-ssn") || type_code == "SS" {
            Kind::Ssn
        } else if system.contains("us-mbi") || type_code == "MC" {
            Kind::Mbi
        } else if type_code == "MB" || rt == "Coverage" {
            Kind::MemberId
        } else if rt == "Patient" {
            Kind::Mrn
        } else {
            continue;
        };
        r.push(kind, value, format!("{rt}.identifier"), (0, 0));
    }
}

fn codings(v: &Value, rt: &str, r: &mut Record) {
    let Some(list) = v.as_array() else { return };
    for c in list {
        let system = c.get("system").and_then(Value::as_str).unwrap_or("");
        if let Some(code) = c.get("code").and_then(Value::as_str)
            && system.to_ascii_lowercase().contains("icd-10")
        {
            r.push(Kind::Diagnosis, code, format!("{rt}.code"), (0, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_pasted_into_a_body() {
        let body = r#"The API returned this: {"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"135-14-4832"},{"type":{"coding":[{"code":"MR"}]},"value":"A77"}],"name":[{"family":"Doe","given":["Jane","Q"]}],"birthDate":"1965-03-04"}},{"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]}}}]} thanks"#;
        let r = super::super::records(body);
        assert_eq!(r.len(), 1);
        let kinds: Vec<(Kind, &str)> = r[0]
            .fields
            .iter()
            .map(|f| (f.kind, f.value.as_str()))
            .collect();
        for want in [
            (Kind::Ssn, "135-14-4832"),
            (Kind::Mrn, "A77"),
            (Kind::Family, "Doe"),
            (Kind::Given, "Jane Q"),
            (Kind::BirthDate, "1965-03-04"),
            (Kind::Diagnosis, "E11.9"),
        ] {
            assert!(kinds.contains(&want), "{want:?} in {kinds:?}");
        }
    }
}
