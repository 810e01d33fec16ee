//! PHI detection for phigate: raw message bytes in, findings out.
//!
//! The [`Engine`] is built once from [`Settings`] and shared. For each
//! message it extracts every text ([`extract`]: headers, MIME parts, HTML,
//! tables, text attachments, file names), normalises each ([`normalize`]),
//! then reads each text twice in total: one Aho-Corasick pass finds every
//! context word of every detector ([`context`]), one multi-pattern regex
//! pass finds every structured candidate ([`patterns`]). The detectors
//! ([`detect`]) score candidates against the context around them; a
//! category is reported when its best score reaches its threshold.
//!
//! ```
//! use phigate_detectors::{Engine, Settings};
//! let engine = Engine::new(Settings::default()).unwrap();
//! let report = engine.scan(b"Subject: claim\r\n\r\nPatient SSN: 135-14-4832\r\n");
//! assert!(report.phi);
//! assert_eq!(report.categories[0].as_str(), "ssn");
//! assert_eq!(report.findings[0].preview, "***-**-4832");
//! ```
#![deny(missing_docs)]

pub mod context;
pub mod detect;
pub mod extract;
mod finding;
pub mod formats;
pub mod normalize;
pub mod patterns;
mod stretch;

use std::collections::HashMap;

pub use detect::custom::{RuleError, RuleSpec};
pub use finding::{Category, Finding, Location, MatchedValue, Report};

use context::{Class, Context};
use detect::{Match, Text, custom::Rule};
use extract::{Extracted, Limits, Profile, Source};
use patterns::{Kind, Patterns};

/// Text out of a PDF, done outside this crate (out of process, with
/// limits: PDF readers are large and attackable). `Err` says why not,
/// in words without content.
pub trait PdfText: Send + Sync {
    /// The text of `pdf`, or why it could not be had by `deadline`.
    fn text(&self, pdf: &[u8], deadline: Option<std::time::Instant>) -> Result<String, String>;
}

/// How the engine is set up.
#[derive(Clone)]
pub struct Settings {
    /// Threshold per category name; others use `default_threshold`.
    pub thresholds: HashMap<String, f32>,
    /// Threshold for categories not listed.
    pub default_threshold: f32,
    /// Administrators' rules.
    pub custom: Vec<RuleSpec>,
    /// Extraction limits.
    pub limits: Limits,
    /// Reads PDF text; without one, PDFs are uninspectable.
    pub pdf: Option<std::sync::Arc<dyn PdfText>>,
    /// Report scores below every threshold too, with their explanations
    /// (`phigate scan` shows them for tuning). Off in the gateway: the
    /// detectors then stop before explaining what cannot count.
    pub explain_below_threshold: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("thresholds", &self.thresholds)
            .field("default_threshold", &self.default_threshold)
            .field("custom", &self.custom)
            .field("limits", &self.limits)
            .field("pdf", &self.pdf.is_some())
            .field("explain_below_threshold", &self.explain_below_threshold)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            thresholds: HashMap::new(),
            default_threshold: 0.5,
            custom: Vec::new(),
            limits: Limits::default(),
            pdf: None,
            explain_below_threshold: false,
        }
    }
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom rule is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The keyword automaton could not be built (too many keywords).
    #[error("context word automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// The compiled detectors.
pub struct Engine {
    settings: Settings,
    parser: mail_parser::MessageParser,
    context: Context,
    patterns: Patterns,
    rules: Vec<Rule>,
    /// Search context words in the whole text, not only near digits
    /// (tests compare the two).
    context_everywhere: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Compiles the detectors and custom rules.
    pub fn new(settings: Settings) -> Result<Engine, BuildError> {
        let rules = settings
            .custom
            .iter()
            .cloned()
            .map(Rule::new)
            .collect::<Result<Vec<_>, _>>()?;
        let mut custom_words = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            custom_words.push((Class::Custom(i as u16), r.spec().context.clone()));
            custom_words.push((Class::CustomKeyword(i as u16), r.spec().keywords.clone()));
        }
        let context = Context::new(&custom_words)?;
        detect::names::warm_up();
        let _ = detect::icd10::is_code("A000");
        Ok(Engine {
            settings,
            parser: extract::parser(),
            context,
            patterns: Patterns::new(),
            rules,
            context_everywhere: false,
        })
    }

    /// The context words the built-in detectors can use: every one of
    /// them weighs a candidate, and every candidate has a digit; the
    /// widest window any detector looks in is [`CONTEXT_BEFORE`] bytes
    /// before a candidate and [`CONTEXT_AFTER`] after (a name up to 110
    /// bytes before a date, then office words up to 80 before the name).
    /// So only the stretches around digits are searched.
    fn context_near_digits(&self, text: &str, hits: &mut context::Hits) {
        const CONTEXT_BEFORE: usize = 256;
        const CONTEXT_AFTER: usize = 192;
        for span in stretch::around_digits(text, CONTEXT_BEFORE, CONTEXT_AFTER) {
            self.context.hits_in(text, span, hits);
        }
    }

    /// A table's column labels as context of each of its cells: the
    /// classes of a label's context words, as hits at the start of every
    /// cell in its column (a custom keyword in a label is found once, in
    /// the header row itself).
    fn column_hits(&self, text: &str, range: std::ops::Range<usize>, out: &mut context::Hits) {
        let Some(table) = extract::table::Table::read(&text[range.clone()]) else {
            return;
        };
        // Per column, each class its label gives and the words that give it
        // (their place in the header row, so an explanation quotes the
        // context word, never the rest of the header cell).
        let mut columns: Vec<Vec<(context::Class, (u32, u32))>> = Vec::new();
        let mut words = Vec::new();
        for (col, r) in table.headers.iter().enumerate() {
            // `label` only turns `_` and `-` into spaces: offsets hold.
            let label = table.label(col);
            words.clear();
            self.context.hits_in(&label, 0..label.len(), &mut words);
            let mut classes: Vec<(context::Class, (u32, u32))> = Vec::new();
            for h in &words {
                if !matches!(h.class, context::Class::CustomKeyword(_))
                    && !classes.iter().any(|(c, _)| *c == h.class)
                {
                    let at = range.start + r.start;
                    classes.push((h.class, ((at + h.start) as u32, (at + h.end) as u32)));
                }
            }
            columns.push(classes);
        }
        if columns.iter().all(Vec::is_empty) {
            return;
        }
        table.cells(|col, at| {
            if let Some(classes) = columns.get(col) {
                let at = range.start + at;
                out.extend(classes.iter().map(|&(class, word)| context::Hit {
                    start: at,
                    end: at,
                    class,
                    label: Some(word),
                }));
            }
        });
    }

    /// The lowest score worth reporting: the lowest built-in threshold,
    /// or 0 when scores below threshold are wanted too.
    fn floor(&self) -> f32 {
        if self.settings.explain_below_threshold {
            return 0.0;
        }
        [
            Category::Ssn,
            Category::Icd10cm,
            Category::NameDate,
            Category::Mrn,
            Category::Npi,
            Category::Mbi,
            Category::Dea,
            Category::MemberId,
        ]
        .iter()
        .map(|c| self.threshold(c))
        .fold(f32::INFINITY, f32::min)
    }

    /// The threshold of a category.
    pub fn threshold(&self, c: &Category) -> f32 {
        self.settings
            .thresholds
            .get(c.as_str())
            .copied()
            .unwrap_or(self.settings.default_threshold)
    }

    /// Scans a raw RFC 5322 message.
    pub fn scan(&self, raw: &[u8]) -> Report {
        self.scan_until(raw, None)
    }

    /// Scans a raw message, stopping at `deadline`: whatever was not read
    /// by then is reported uninspectable, so a scan never runs on after its
    /// time budget (the relay has answered by then).
    pub fn scan_until(&self, raw: &[u8], deadline: Option<std::time::Instant>) -> Report {
        let extracted = extract::extract_until(
            &self.parser,
            raw,
            &self.settings.limits,
            deadline,
            self.settings.pdf.as_deref(),
        );
        self.report(extracted, deadline)
    }

    /// Scans plain text as if it were a message body (for rule tests).
    pub fn scan_text(&self, text: &str) -> Report {
        let mut extracted = Extracted::default();
        extracted.push(
            Source::Part {
                path: "1".into(),
                filename: None,
            },
            text,
            Profile::Full,
            None,
        );
        self.report(extracted, None)
    }

    fn report(&self, mut extracted: Extracted, deadline: Option<std::time::Instant>) -> Report {
        let mut timed_out = extracted.timed_out;
        let mut matches: Vec<(usize, Match)> = Vec::new();
        if self.passes(&extracted, deadline, &mut matches).is_err() {
            extracted.uninspectable.push(extract::Uninspectable {
                path: "1".into(),
                filename: None,
                reason: "inspection time budget used up; the texts were not all scanned".into(),
            });
            timed_out = true;
        }
        let mut findings = Vec::with_capacity(matches.len() + extracted.uninspectable.len());
        for (si, m) in matches {
            let seg = &extracted.segments[si];
            // From the joined text back to the part's own offsets.
            let rel = |at: usize| seg.source_offset(at.saturating_sub(seg.range.start));
            let (start, end) = (rel(m.start), rel(m.end.max(m.start)));
            let location = match &seg.source {
                Source::Header(name) => Location::Header {
                    name: name.to_string(),
                },
                Source::Filename { path } => Location::Filename { path: path.clone() },
                Source::Part { path, filename } => Location::Part {
                    path: path.clone(),
                    filename: filename.clone(),
                    start,
                    end,
                },
            };
            let why = match seg.form {
                Some(form) => format!("{}; in {form}", m.why),
                None => m.why,
            };
            findings.push(Finding {
                category: m.category,
                rule: m.rule,
                confidence: m.confidence,
                location,
                preview: m.preview,
                why,
                value: MatchedValue::new(m.value),
            });
        }
        for u in &extracted.uninspectable {
            findings.push(Finding {
                category: Category::Uninspectable,
                rule: "uninspectable".into(),
                confidence: 1.0,
                location: Location::Part {
                    path: u.path.clone(),
                    filename: u.filename.clone(),
                    start: 0,
                    end: 0,
                },
                preview: String::new(),
                why: u.reason.clone(),
                value: MatchedValue::new(""),
            });
        }
        let mut categories: Vec<Category> = Vec::new();
        for f in &findings {
            if f.confidence >= self.threshold(&f.category) && !categories.contains(&f.category) {
                categories.push(f.category.clone());
            }
        }
        categories.sort();
        Report {
            phi: categories.iter().any(|c| *c != Category::Uninspectable),
            uninspectable: categories.contains(&Category::Uninspectable),
            categories,
            findings,
            timed_out,
        }
    }

    /// Every scored match in the message's texts, with the index of the
    /// text it is in. One pass of the context automaton and one of the
    /// pattern set over all texts joined; each candidate is then weighed
    /// within its own text. `Err` when the deadline passed first.
    fn passes(
        &self,
        ex: &Extracted,
        deadline: Option<std::time::Instant>,
        out: &mut Vec<(usize, Match)>,
    ) -> Result<(), ()> {
        let text = ex.text.as_str();
        let segs = &ex.segments;
        // Which text an offset is in (texts are in order, separated).
        let seg_of = |at: usize| {
            segs.partition_point(|s| s.range.end < at)
                .min(segs.len() - 1)
        };
        let late = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
        if segs.is_empty() {
            return Ok(());
        }
        // Every built-in finding contains a digit (numbers, codes, dates):
        // without one, only custom rules and formats can find anything.
        let digits = text.bytes().any(|b| b.is_ascii_digit());
        if digits || !self.rules.is_empty() {
            let mut hits = context::Hits::default();
            if self.rules.is_empty() && !self.context_everywhere {
                self.context_near_digits(text, &mut hits);
            } else {
                // Custom rules' keywords count anywhere.
                self.context.hits_in(text, 0..text.len(), &mut hits);
            }
            for seg in segs.iter().filter(|s| s.table) {
                self.column_hits(text, seg.range.clone(), &mut hits);
            }
            hits.finish();
            let subject = segs
                .iter()
                .find(|s| matches!(&s.source, Source::Header(h) if h == "Subject"))
                .and_then(|s| detect::names::subject_name(text, s.range.clone()));
            let mut t = Text {
                text,
                hits: &hits,
                lo: 0,
                hi: text.len(),
                floor: self.floor(),
                subject: subject.as_ref(),
                year: detect::this_year(),
            };
            let bound = |t: &mut Text<'_>, si: usize| {
                t.lo = segs[si].range.start;
                t.hi = segs[si].range.end;
            };
            if digits {
                for (n, c) in self.patterns.candidates(text).into_iter().enumerate() {
                    if n % 1024 == 1023 && late() {
                        return Err(());
                    }
                    let si = seg_of(c.start);
                    let seg = &segs[si];
                    if c.end > seg.range.end || c.start < seg.range.start {
                        continue;
                    }
                    bound(&mut t, si);
                    let m = match c.kind {
                        Kind::Ssn => detect::ssn::detect(&t, c.start, c.end),
                        Kind::Icd => detect::icd10::detect(&t, c.start, c.end),
                        Kind::Mbi => detect::ids::mbi(&t, c.start, c.end),
                        Kind::Dea => detect::ids::dea(&t, c.start, c.end),
                        Kind::Npi => detect::ids::npi(&t, c.start, c.end),
                        Kind::DateNumeric
                        | Kind::DateCompact
                        | Kind::DateMonthFirst
                        | Kind::DateDayFirst
                        | Kind::DateCompactMonth
                        | Kind::DateNoYear
                        | Kind::DateMonthYear
                        | Kind::DateNameNoYear => {
                            if seg.profile == Profile::Identifiers {
                                continue;
                            }
                            detect::name_date::detect(&t, c.kind, c.start, c.end)
                        }
                    };
                    out.extend(m.map(|m| (si, m)));
                }
                for class in [Class::Mrn, Class::Member] {
                    for hit in hits.of(class) {
                        let si = seg_of(hit.start);
                        bound(&mut t, si);
                        out.extend(detect::ids::labelled(&t, hit).map(|m| (si, m)));
                    }
                }
            }
            if !self.rules.is_empty() {
                for (si, _) in segs.iter().enumerate() {
                    bound(&mut t, si);
                    let mut found = Vec::new();
                    for (i, rule) in self.rules.iter().enumerate() {
                        rule.detect(&t, i as u16, &mut found);
                    }
                    out.extend(found.into_iter().map(|m| (si, m)));
                }
            }
        }
        // Clinical formats in a part (attached or pasted): their records,
        // with offsets relative to the part's text.
        for (si, seg) in segs.iter().enumerate() {
            if seg.profile == Profile::Full && matches!(seg.source, Source::Part { .. }) {
                let s = ex.text_of(seg);
                for rec in formats::records(s) {
                    for mut m in detect::structured::matches(&rec) {
                        m.start += seg.range.start;
                        m.end += seg.range.start;
                        out.push((si, m));
                    }
                }
            }
        }
        if late() { Err(()) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// The default engine, built once for all unit tests.
    pub fn engine() -> &'static Engine {
        static E: OnceLock<Engine> = OnceLock::new();
        E.get_or_init(|| Engine::new(Settings::default()).unwrap())
    }

    /// Scans `text` as a message body.
    pub fn scan_text(text: &str) -> Report {
        engine().scan_text(text)
    }

    /// Clinical prose names a person's care without a date label: a kind
    /// of visit, an appointment after the date, clinical words where the
    /// text speaks of a person. Office mail with the same words about
    /// machines, rooms, programs and staff stays clean.
    #[test]
    fn a_days_schedule_names_its_patients_and_an_agenda_does_not() {
        let phi = [
            "Schedule for Monday 03/09/2026\n8:30  Hannah Lindqvist  - annual physical\n\
             9:00  Oluwaseun Adeyemi - f/u diabetes\n9:30  Grace Kim - new patient",
            "Dr. Ortiz clinic, Tue 4/14/2026\n\n 9:00 AM | Lee, Ann | follow-up\n\
             9:20 AM | Moreno, Luis | post-op check\n 9:40 AM | Patel, Ravi | physical",
            "Tomorrow's add-ons (4/2/2026):\n10:15 Keisha Brown, well child\n10:45 Marcus Hill, injection",
            // A list under a heading that names care.
            "Surgery list for 12/03/2026:\n1. Baptiste, Rene - lap chole\n2. Lindqvist, Karin - knee arthroscopy\n\
             3. Oyelaran, Tunde - hernia repair",
            "Procedures Thursday 5/7/2026\n- Mia Torres: colonoscopy\n- Omar Haddad: EGD",
        ];
        let clean = [
            "Agenda - staff meeting 3/9/2026\n9:00 Welcome - Susan Ortiz\n\
             9:30 Flu vaccine update - Dr. Kim\n10:00 Budget review - Mark Feld",
            "Conference day 2, 4/15/2026\n9:00 Karen Hill - Telehealth in rural practices\n\
             10:00 Mark Davis - Ultrasound machine procurement\n11:00 Lunch",
            "Shift plan 3/16/2026\n7:00 Emily Stone - front desk\n8:00 Jose Ruiz - phones",
            "Webinar series (5/6/2026)\n12:00 Anna Bell - Telehealth billing basics\n\
             1:00 Tom Baker - Consult codes explained",
            // A list under a heading that does not name care.
            "Agenda 12/03/2026:\n1. Ann Lee - follow-up on the budget\n2. Bob Ray - follow-up on hiring",
            "Coverage list 12/24/2026\n- Emily Stone: physical therapist\n- Jose Ruiz: x-ray tech",
            "Flu clinic volunteers 10/3/2026:\n1. Ann Lee - injection station\n2. Bob Ray - check-in",
            // One slot is not a schedule.
            "Reminder 3/3/2026\n9:00 Jane Doe - physical therapy equipment demo",
        ];
        for r in assert_found_and_clean(&phi, &clean) {
            assert!(r.findings.iter().any(|f| f.rule == "name_date.schedule"));
        }
    }

    /// Scans each body as a message: every one of `phi` must be PHI, none
    /// of `clean`. Returns the reports of `phi`.
    fn assert_found_and_clean(phi: &[&str], clean: &[&str]) -> Vec<Report> {
        let scan =
            |body: &str| engine().scan(format!("Subject: note\r\n\r\n{body}\r\n").as_bytes());
        for body in clean {
            let r = scan(body);
            assert!(
                !r.phi,
                "false alarm: {body}: {:?}",
                r.findings.first().map(|f| &f.why)
            );
        }
        phi.iter()
            .map(|body| {
                let r = scan(body);
                assert!(r.phi, "missed: {body}");
                r
            })
            .collect()
    }

    #[test]
    fn care_in_prose_is_a_patients_date_and_office_mail_is_not() {
        let phi = [
            "Jean-Luc Moreau's physical is on Tuesday, June 2, 2026 at 10:30.",
            "Wanted to let you know Darnell Washington no-showed his 3/18/2026 appointment.",
            "Lab called: critical potassium on Dolores Fuentes, drawn 4/1/26.",
            "Ngozi Eze, 02/02/1985, allergic to penicillin, please update her file.",
            "Reason for call: Yusuf Demir reports chest pain since 4/15/2026.",
            "Quick question on Leila Haddad - her ultrasound from 2/24/2026 shows a cyst.",
            "Tomas Ruiz's mom called - he was vomiting all night, last dose given 4/10/2026.",
            "Lucy Nakamura was vaccinated on 3/1/2026, lot number 4471A.",
            "Can someone call back Ms. Hoang (Linh Hoang) re her 4/22/2026 colposcopy?",
            // A name and its date as one, with care around them.
            "RE: prior auth - Roberto Salazar 08/30/1958, MRI lumbar spine denied, appeal attached.",
            "Amara Nwosu (04/11/1979) - biopsy came back benign, ok to release.",
            // A full name as the subject of what happened.
            "Hi team, Chloe Martin was diagnosed with strep on 02/02/2026; school note needed.",
        ];
        let clean = [
            "Karen Lopez is out with the flu until 4/30/2026; Tom will cover the front desk.",
            "The new ultrasound machine arrives 5/4/2026; Dave Miller will handle the installation.",
            "Please renew the CLIA lab certificate before 7/1/2026 - Susan Park.",
            "The x-ray room will be closed 4/18/2026 for the annual inspection; ask Gary Fox.",
            "The MRI suite contract with Siemens was signed by Paul Adams on 1/15/2026.",
            "Heather Wu: pain management CME credits due 12/31/2026.",
            "Steve Rogers, our IT contractor, will patch the x-ray workstation on 4/16/2026.",
            "Dr. Kim and Sophie Turner will review the lab's quality metrics on 4/28/2026.",
            "On 5/1/2026 Jill Adams from Siemens will show us the new ultrasound software.",
            "Inventory count 3/31/2026 by Greg Lane: 40 flu vaccine doses, 12 allergy test kits.",
            "Lease signed 4/1/2026 by Mark Ruiz for the new pediatric wellness center.",
            "Peter Hall was named lab manager on 2/20/2026 after the analyzer upgrade.",
            "Board minutes - Susan Ortiz 3/4/2026: approved the new MRI machine lease.",
            "Training: Emily Stone, 03/11/2026, completed the lab safety training module.",
            "Nadia Karimi was interviewed on 3/9/2026 for the medical assistant position.",
            "Jane Doe, 04/01/2026, flu shot clinic volunteer sign-up sheet attached.",
            "Sarah Connor had the lab coats picked up for laundering on 3/3/2026.",
            "Janet Ruiz was thrilled with the new EKG cart that arrived 1/20/2026.",
            "Daniel Kim (01/05/2026) signed the prescription pad inventory log.",
            "Lisa Ray has been lab certified since 3/1/2020.",
        ];
        assert_found_and_clean(&phi, &clean);
    }

    /// A table's header labels every row, however far below it: each
    /// cell gets its column label's context, and the finding names it.
    #[test]
    fn column_labels_reach_every_row() {
        let mut csv = String::from("Patient_Name,Date_of_Birth,MRN,note\r\n");
        for i in 0..400 {
            csv.push_str(&format!(
                "\"Lee, Ann\",3/{}/1965,A{:06},none\r\n",
                1 + i % 28,
                100_000 + i
            ));
        }
        let raw = format!("Subject: export\r\nContent-Type: text/csv\r\n\r\n{csv}");
        let r = engine().scan(raw.as_bytes());
        let count = |c: Category| r.findings.iter().filter(|f| f.category == c).count();
        assert_eq!(count(Category::NameDate), 400, "{:?}", r.categories);
        assert_eq!(count(Category::Mrn), 400);
        let last = r
            .findings
            .iter()
            .rfind(|f| f.category == Category::NameDate)
            .unwrap();
        assert!(
            last.why.contains("dob context \"date_of_birth\""),
            "{}",
            last.why
        );
        // The same rows under an order's labels are not a patient's.
        let orders = raw
            .replace(
                "Patient_Name,Date_of_Birth,MRN",
                "Sales_Rep,Order_Date,Order_No",
            )
            .replace(",A", ",PO");
        let r = engine().scan(orders.as_bytes());
        assert!(!r.phi, "{:?}", r.findings.first());
        // A service date in an equipment log is the technician's work.
        let log = "Subject: log\r\nContent-Type: text/csv\r\n\r\n\
                   Technician,Service Date,Equipment\r\nDave Miller,04/02/2026,Autoclave\r\n";
        let r = engine().scan(log.as_bytes());
        assert!(!r.phi, "{:?}", r.findings.first());
    }

    /// Context words searched only near digits give the same findings, to
    /// the explanation, as context words searched everywhere: on the
    /// development corpus, and on texts whose context words sit at the
    /// edge of the windows.
    #[test]
    fn context_near_digits_changes_nothing() {
        let explain = || Settings {
            explain_below_threshold: true,
            ..Settings::default()
        };
        let near = Engine::new(explain()).unwrap();
        let mut everywhere = Engine::new(explain()).unwrap();
        everywhere.context_everywhere = true;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev");
        let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        // Each context word at every distance up to past the widest window.
        for gap in (0..300).step_by(6) {
            let pad = "lorem ipsum ".repeat(gap / 12) + &"x".repeat(gap % 12);
            for body in [
                format!("Dx {pad} E11.9"),
                format!("SSN {pad} 123456789"),
                format!("Patient {pad} Ann Lee born 3/4/1965"),
                format!("meeting {pad} Pt Ann Lee seen 3/4/1965"),
                format!("Pt Ann Lee {pad} DOB 3/4/1965 then a party {pad}"),
                format!("Mary Poppins, follow-up {pad} appointment 3/4/2026"),
                format!("DOB 3/4/1965 {pad} Ann Lee"),
                format!("Pt Ann Lee DOB 3/4/1965 {pad} birthday party"),
                format!("appointment 3/4/2026 Ann Lee {pad} post-op check"),
                format!("E11.9 {pad} diagnosis"),
            ] {
                inputs.push(format!("Subject: t\r\n\r\n{body}\r\n").into_bytes());
            }
        }
        let show = |r: &Report| format!("{:?} {:?}", r.categories, r.findings);
        for raw in &inputs {
            assert_eq!(show(&near.scan(raw)), show(&everywhere.scan(raw)));
        }
    }

    /// A window around a name and a date stops at the end of their part: a
    /// care word at the start of the next part does not vouch for them,
    /// nor, lying past the end, break the look at the word after it (a
    /// fuzzer's find: an internal error, so the message was withheld as
    /// uninspectable).
    #[test]
    fn care_words_in_the_next_part_do_not_count() {
        let message = |parts: &[&str]| {
            let mut raw = String::from(
                "Subject: x\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            );
            for p in parts {
                raw += &format!("--b\r\nContent-Type: text/plain\r\n\r\n{p}\r\n");
            }
            raw + "--b--\r\n"
        };
        let show = |r: &Report| format!("{:?} {:?}", r.categories, r.findings);
        for first in ["Selin Aksoy, 1975-06-12 rash", "Selin Aksoy, 1975-06-12"] {
            let alone = engine().scan(message(&[first]).as_bytes());
            for next in [
                "Thanks!",
                "follow-up",
                "physical exam",
                "rash",
                "MRI clinic",
            ] {
                let r = engine().scan(message(&[first, next]).as_bytes());
                assert_eq!(show(&r), show(&alone), "{first} / {next}");
            }
        }
    }
}
