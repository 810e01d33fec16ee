//! Context words for every detector in one Aho-Corasick automaton, matched
//! once per text (ASCII case-insensitive, whole words only).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// What a context word is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Social Security number.
    Ssn,
    /// Clinical diagnosis.
    Diagnosis,
    /// Date of birth.
    Birth,
    /// Date of service (visit, admission...).
    Service,
    /// Words that often, not always, mean a date of service ("appointment").
    ServiceWeak,
    /// A patient is being talked about (label or word).
    Patient,
    /// A person in a health plan's or a care setting's role: member,
    /// insured, subscriber, guarantor, beneficiary, client, resident.
    Person,
    /// A generic `Name:` label: says a name follows, not whose.
    NameLabel,
    /// What kind of visit an appointment is (follow-up, new patient,
    /// physical, post-op...): evidence the date is a patient's.
    Visit,
    /// Words of clinical content: symptoms, conditions, medications, tests
    /// and their results, procedures done to a person. Near a name and a
    /// date they say the date is part of someone's care.
    Clinical,
    /// Words of office life, events and commerce (birthday, meeting,
    /// webinar, vendor, order, hire...): a name next to a date there is
    /// not a patient's.
    Event,
    /// Medical record number.
    Mrn,
    /// Provider identifier.
    Npi,
    /// Medicare.
    Medicare,
    /// DEA registration.
    Dea,
    /// Health-plan member or subscriber.
    Member,
    /// Words that say a number is something else: invoice, order, part...
    NotPhi,
    /// A custom rule's context word, by rule index.
    Custom(u16),
    /// A custom rule's keyword (itself a finding), by rule index.
    CustomKeyword(u16),
}

/// A context word found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Start offset.
    pub start: usize,
    /// End offset.
    pub end: usize,
    /// What it is evidence of.
    pub class: Class,
    /// For a table cell, where its column's label is: the hit itself sits
    /// at the cell (zero width), the words that make it are in the header.
    pub label: Option<(u32, u32)>,
}

impl Hit {
    /// The words that make this hit.
    pub fn word<'t>(&self, text: &'t str) -> &'t str {
        match self.label {
            Some((s, e)) => &text[s as usize..e as usize],
            None => &text[self.start..self.end],
        }
    }
}

/// Built-in context words, `|`-separated per class (ASCII case-insensitive,
/// matched as whole words).
const BUILTIN: &[(Class, &str)] = &[
    (
        Class::Ssn,
        "ssn|ssn#|ssn no|ss#|ss #|ss no|ss number|s.s.n|s.s.n.|s.s. no|s.s. #|soc sec|soc. sec.|soc. sec. #|\
         social security|social security number|social security no|social sec|social|ssa|taxpayer id|tin",
    ),
    (
        Class::Diagnosis,
        "dx|dx:|ddx|dx code|diagnosis|diagnoses|diagnosed|diag|diagnosis code|icd|icd code|icd-10|icd10|icd-10-cm|\
         icd10cm|assessment|assessment and plan|a/p|impression|problem|problems|problem list|condition|conditions|\
         hx|history of|pmh|comorbidities|comorbidity|reason for referral|reason for visit|indication|indications|\
         chief complaint|billing code|claim|claims|clinical|differential|disorder|treated for|presents with|\
         suffers from|rule out|r/o",
    ),
    // Not "birthday": a colleague's birthday is not a patient's date of
    // birth. A writer giving their own is ("my birthday is 3/14/1985").
    (
        Class::Birth,
        "dob|d.o.b|d.o.b.|date of birth|birth date|birthdate|born|born on|yob|my birthday is|my birthday:|\
         my bday is|fecha de nacimiento|fecha de nac|f. de nac.|data de nascimento|date de naissance|\
         geburtsdatum|geb.|geboren|née le|né le|nacido el|nacida el",
    ),
    (
        Class::Service,
        "dos|d.o.s|date of service|service date|date of visit|visit date|seen on|seen|office visit|clinic visit|\
         admitted|admission|admit date|discharged|discharge|discharge date|encounter|encounter date|procedure date|\
         treated on|date of injury|doi|presented with|presented on|presented to the ed|presented to the er|\
         presented to clinic|presented to the clinic|presented to urgent care|hospitalized|hospitalised|\
         hospitalization|hospitalisation|hospital stay|ed visit|er visit|examined|\
         went to the er|went to the ed|went to the emergency room|went to urgent care|taken to the er|\
         taken to the ed|taken to the emergency room|brought to the er|brought to the ed|seen in the er|\
         seen in the ed|start of care|soc date|resumption of care|date of death|death date|time of death|\
         superbill|super bill|charge ticket",
    ),
    (
        Class::ServiceWeak,
        "visit|visits|visited|appointment|appointments|appt|appts|no-show|no show|no-showed|missed appointment|procedure|procedures|surgery|consult|consultation|checkup|\
         check-up|exam|test results|lab results|scan|scheduled|sleep study|dialysis|calendar event|seen|sees|come in|came in|\
         we saw|i saw|saw her|saw him|roomed|\
         cita|citas|su cita|cita médica|cita medica",
    ),
    (
        Class::Patient,
        "patient|patients|patient name|patient's|paciente|pt|pt.|pt:|pt name|pt's|re: patient|our patient|mutual patient",
    ),
    (
        Class::Person,
        "member|member name|beneficiary|insured|insured name|subscriber|subscriber name|guarantor|client|resident|\
         enrollee|dependent|claimant|policyholder|policy holder",
    ),
    (Class::NameLabel, "name|full name|name:"),
    (
        Class::Visit,
        "ultrasonido|radiografía|radiografia|mamografía|mamografia|vacuna|cirugía|cirugia|chequeo|\
         análisis de sangre|analisis de sangre|examen físico|examen fisico|\
         new patient|established patient|follow-up|follow up|f/u|post-op|postop|post op|pre-op|preop|annual physical|\
         physical|wellness|well child|well visit|exam room|check-up|checkup|consult|telehealth|injection|infusion|\
         vaccine|immunization|lab draw|blood draw|x-ray|xray|mri|ct scan|ultrasound|biopsy|prenatal|recheck|\
         sick visit|therapy session|counseling session|physical therapy|occupational therapy|speech therapy|dental cleaning|colonoscopy|mammogram|ekg|echo|stress test|\
         endoscopy|colposcopy|cystoscopy|bronchoscopy|sigmoidoscopy|arthroscopy|laparoscopy|angiogram|\
         catheterization|cardioversion|pap smear|pap|iud|iud insertion|dexa|bone density|spirometry|holter|\
         sleep study|dialysis|chemo|chemotherapy|radiation therapy|cast removal|suture removal|wound check|\
         prenatal visit|postpartum|newborn visit|skilled nursing|skilled nursing visit|nursing visit|\
         home health visit|wound vac|wound care|hospice|hospice care|depo|depo-provera|depo shot|well-child|well baby|hearing test|vision screening|allergy test|\
         nerve conduction|eeg|emg|pet scan|ct|cat scan|cholecystectomy|lap chole|appendectomy|tonsillectomy|\
         hysterectomy|hernia repair|knee replacement|hip replacement|tka|tha|cataract surgery|cataract|\
         carpal tunnel release|mastectomy|lumpectomy|c-section|cesarean|vasectomy|circumcision|debridement|\
         epidural|nerve block|joint injection|egd|arthroplasty|excision|i&d|incision and drainage|\
         mmr|tdap|dtap|hpv vaccine|hep b vaccine|hepatitis b vaccine|varicella vaccine|pneumococcal vaccine|\
         prevnar|pneumovax|shingrix|flu shot|flu vaccine|covid vaccine|covid booster|rsv vaccine|tb test|\
         b12 shot|b12 injection|allergy shot|allergy shots|cortisone shot|steroid shot|tetanus shot|\
         booster shot|testosterone shot|wcc|well child check|well-child check|\
         triage call|nurse triage|nurse visit|skin check|mole check|skin tag removal|cryotherapy|cryo|\
         anatomy scan|nst|non-stress test|cpap titration|dressing change|wound vac change|rehab|\
         cardiac rehab|pulmonary rehab|pft|pulmonary function test|audiogram|tympanogram|\
         allergy testing|patch testing|biopsy results|pap results|ob visit|ob appointment|\
         referral|referred|intake|intake appointment|intake visit|foot check|foot exam|diabetic foot check|eye exam|retinal exam",
    ),
    // Words a practice writes about a person's care and nothing else;
    // not words that are as common in office mail ("test", "positive",
    // "results", "shot", "sick", "fall", "cast"). Spanish care words too,
    // but not those that are as often something else ("dolor" of lorem
    // ipsum, "receta" a recipe, "consulta" a query).
    (
        Class::Clinical,
        "fiebre|dolor de pecho|dolor de cabeza|dolor de estómago|dolor de estomago|dolor de espalda|\
         vómito|vómitos|vomito|vomitos|diarrea|mareo|mareos|presión alta|presion alta|embarazo|embarazada|\
         receta médica|receta medica|medicamento|medicamentos|alergia|infección|infeccion|\
         chest pain|abdominal pain|back pain|pain|fever|cough|coughing|vomiting|nausea|diarrhea|dizziness|dizzy|\
         rash|bleeding|swelling|shortness of breath|headache|migraine|seizure|fracture|fractured|fractures|\
         sprain|sprained|dislocated|wound|ambulance|pcp|pen needles|test strips|lancets|glucometer|\
         glucose meter|cgm|dexcom|insulin pump|insulin pen|blood sugar|blood sugars|sugars|\
         urine sample|stool sample|urine specimen|breastfeeding|breast feeding|lactation|\
         sudafed|pseudoephedrine|benadryl|diphenhydramine|claritin|loratadine|zyrtec|cetirizine|\
         mucinex|advil|motrin|aleve|imodium|\
         infection|infected|flu|influenza|covid|pneumonia|uti|cyst|lesion|tumor|cancer|diabetes|diabetic|\
         hypertension|asthma|copd|depression|dementia|stroke|concussion|pregnant|pregnancy|miscarriage|allergic|\
         allergy|allergies|injury|injured|fell|had a fall|symptom|symptoms|medication|medications|meds|\
         prescription|prescribed|refill|rx|dose|dosage|insulin|antibiotic|antibiotics|penicillin|a1c|hba1c|cbc|\
         glucose|potassium|cholesterol|blood work|bloodwork|lab|labs|drawn|specimen|pathology|biopsy|benign|\
         malignant|imaging|mri|ultrasound|mammogram|x-ray|xray|ekg|ecg|stitches|sutures|vaccinated|immunized|\
         vaccination|prior auth|prior authorization|diagnosed|strep|strep throat|inr|\
         warfarin|coumadin|eliquis|apixaban|xarelto|rivaroxaban|metformin|lisinopril|losartan|amlodipine|\
         atorvastatin|simvastatin|levothyroxine|synthroid|prednisone|amoxicillin|azithromycin|doxycycline|\
         cephalexin|gabapentin|hydrocodone|oxycodone|tramadol|sertraline|escitalopram|fluoxetine|bupropion|\
         trazodone|albuterol|inhaler|k|k+|na|cr|plt|bun|glu|cl|phos|bp|\
         bp cuff|bp reading|bp readings|bp log|bp check|bp meds|bp medication|home bp|\
         magnesium level|hemoglobin a1c|nexplanon|birth control|contraception|echocardiogram|ppd|\
         quantiferon|hep b|syphilis|hpv|rsv|kidney infection|pyelonephritis|cystitis|diverticulitis|\
         appendicitis|ibs|crohn's|celiac|thyroid nodule|goiter|prediabetes|hyperlipidemia|afib|a-fib|\
         atrial fibrillation|chf|heart failure|emphysema|polysomnography|sonogram|iv fluids|gardasil|\
         varicella|rotavirus|sports physical|dot physical|pre-op clearance|surgical clearance|\
         staple removal|shave biopsy|punch biopsy|ingrown toenail|toenail removal|iud removal|\
         iud insertion|nexplanon removal|tubal ligation|ectopic pregnancy|glucose tolerance test|\
         amniocentesis|ostomy|colostomy|feeding tube|g-tube|nebulizer|crutches|chiropractic|\
         acupuncture|psychiatry|suboxone|methadone|naloxone|narcan|overdose|alcohol use|substance use|\
         smoking cessation|bariatric|lap band|gastric bypass|wegovy|mounjaro|zepbound|lantus|humalog|\
         novolog|jardiance|farxiga|plavix|lipitor|crestor|medrol|augmentin|z-pack|zpak|keflex|cipro|\
         bactrim|flagyl|diflucan|valtrex|tamiflu|paxlovid|zoloft|lexapro|prozac|wellbutrin|adderall|\
         ritalin|xanax|ativan|klonopin|ambien|percocet|vicodin|oxycontin|lyrica|flexeril|mobic|\
         meloxicam|ibuprofen|naproxen|tylenol|acetaminophen|omeprazole|pantoprazole|furosemide|semaglutide|ozempic|methotrexate|\
         tsh|free t4|cmp|bmp|lipid panel|psa|urinalysis|creatinine|egfr|hemoglobin|hgb|platelets|platelet count|\
         wbc|ferritin|troponin|d-dimer|bnp|hcg|lfts|liver panel|thyroid panel|urine culture|blood culture|\
         throat culture|vitamin d level|b12 level|iron panel|metabolic panel|blood count|\
         anxiety|panic attack|panic attacks|ptsd|adhd|bipolar|schizophrenia|psychosis|insomnia|suicidal|\
         suicidal ideation|self-harm|phq-9|phq9|gad-7|gad7|therapy note|psychotherapy|office note|office notes|progress note|progress notes|\
         clinic note|clinic notes|visit note|visit notes|chart notes|h&p|discharge summary|\
         knee|knees|shoulder|ankle|wrist|elbow|lumbar|cervical|spinal|rotator cuff|meniscus|meniscal|acl|\
         kidney stone|kidney stones|gallstone|gallstones|\
         tendon|ligament|tendonitis|tendinitis|bursitis|arthritis|osteoarthritis|sciatica|range of motion|\
         crown prep|crown seat|crown delivery|root canal|prophy|scaling and root planing|perio maintenance|bitewings|fluoride varnish|dentures|partial denture|amalgam|composite filling|mod composite|core buildup|pulpotomy|occlusal guard|tooth extraction|tooth #|teeth #|dental extraction|cavity|cavities|periodontal|wisdom teeth|\
         molar|molars|wisdom tooth|toothache|broken tooth|cracked tooth|temp filling|temporary filling|\
         premedicate|pre-med|deltoid|cpap|bipap|sleep apnea|osa|pa approved|pa approval|pa denied|pa request|pa submitted|pa pending|pa required|\
         wart|mole|skin tag|eczema|psoriasis|acne|dermatitis|cellulitis|abscess|ulcer|pressure ulcer|\
         fetal|fetal movement|gestation|gestational|weeks pregnant|wks pregnant|contractions|l&d|\
         labor and delivery|preeclampsia|palpitation|syncope|fainted|fainting|vertigo|anemia|anemic|edema|\
         neuropathy|hernia|gout|sinusitis|bronchitis|otitis|ear infection|pink eye|conjunctivitis|reflux|\
         gerd|colitis|constipation|hemorrhoid|kidney disease|ckd|esrd|renal|hepatitis|hiv|chlamydia|\
         gonorrhea|herpes|lupus|fibromyalgia|obesity|blood pressure|thyroid|hypothyroidism|\
         hyperthyroidism|statin|adverse reaction|allergic reaction|chest tightness|right hip|left hip|her fall|his fall|after a fall|\
         fall risk|falls risk|back strain|neck strain|muscle strain|dog bite|cat bite|animal bite|tick bite|spider bite|tetanus booster|tdap booster|orif|hip surgery|hip fracture|hip pain|broken hip|\
         mg|mcg|mg/dl|mmol/l|meq|tid|t.i.d.|b.i.d.|qid|q.i.d.|qhs|prn|q4h|q6h|q8h|q12h|qod|q2wk|q2w|q4w",
    ),
    (
        Class::Event,
        "team building|team-building|escape room|team outing|team lunch|offsite|off-site|happy hour|\
         staff retreat|all-hands|town hall|site visit|site visits|sales visit|rep visit|bowling|karaoke|birthday|birthdays|anniversary|celebrate|celebrates|celebrating|celebration|party|welcome|welcoming|\
         retirement|retiring|retire|webinar|training|meeting|meetings|conference|seminar|lunch|luncheon|demo|vendor|\
         rep|sales|quote|pricing|order|invoice|shipment|shipped|ships|delivery|hire|hired|hiring|starts|start date|\
         badge|pto|vacation|holiday|out of office|payroll|employee|staff|newsletter|spotlight|register|registration|\
         rsvp|invited|invitation|agenda|course|certification|certified|award|promotion|promoted|joins|joined|\
         congratulations|congrats|farewell|last day|speaker|presented by|hosted by|cake|potluck|parking|repaved|\
         toner|copier|printer|supplies|out with|out sick|called in sick|call out|sick leave|sick day|fmla|\
         leave of absence|cme|ceu|continuing education|inspection|contract|contractor|maintenance|repair|repairs|\
         installation|employees|attestation|technician|engineer|installer|serviced by|calibration|service the|\
         servicing|will be out|be out of|out of the office|donated|donation|donating|lease|landlord|\
         walkthrough|walk-through|gala|keynote|interview|interviews|candidate|applicant|job|job posting|\
         resume|on call|on-call|call schedule|call coverage|shift|shifts",
    ),
    (
        Class::Mrn,
        "mrn|mrn#|mr#|mr #|mr no|mr number|medical record|medical record number|medical record no|medical record #|\
         med rec|med rec #|record number|record #|chart|chart #|chart#|chart no|chart number|chart id|patient id|\
         patient #|patient no|patient number|pt id|pt #|emr|emr #|emr id|ehr id|hospital number|hosp #|patient account|\
         patient account number|pt acct|acct #|acct#|acct no|acct number|account #|account no|account number|\
         med rec no|medical record no.|mr no.|chart no.|encounter #|encounter number|visit #|visit number|fin #|\
         fin number|fin no|unit no|unit no.|unit number|csn|encounter id|visit id",
    ),
    (
        Class::Npi,
        "npi|npi#|national provider identifier|national provider id|provider npi",
    ),
    (
        Class::Medicare,
        "mbi|medicare|medicare number|medicare id|medicare #|medicare beneficiary identifier|beneficiary id|\
         beneficiary identifier|beneficiary number|hicn|hic|\
         medicare card",
    ),
    (
        Class::Dea,
        "dea|dea#|dea #|dea number|dea no|dea registration",
    ),
    (
        Class::Member,
        "member id|member #|member number|member no|subscriber id|subscriber #|subscriber number|policy #|\
         policy number|policy no|policy id|insurance id|health plan id|plan id|id #|id number|medicaid|medicaid id|\
         medicaid #|insurance",
    ),
    (
        Class::NotPhi,
        "invoice|invoice #|inv|order|order #|order number|po|po #|purchase order|ref|ref #|reference|tracking|\
         tracking #|ticket|case #|confirmation|part|part no|part no.|part #|sku|item|model|serial|serial #|qty|\
         quantity|phone|fax|tel|cell|mobile|ext|zip|isbn|version|build|error|err|code e|routing|bank|ach|wire|\
         checking|savings|payroll|vendor|supplier|utility|credit card|card ending|\
         password|passcode|passphrase|wi-fi password|wifi password|product key|license key|\
         activation code|promo code|coupon|coupon code|voucher|gift card|confirmation code|booking code",
    ),
];

/// Every context hit of a text, grouped by class (each group in order of
/// start), so that looking for one class near a candidate walks only that
/// class's hits. Hits go to their class's group as they are found
/// ([`Extend`]), and [`Hits::finish`] puts each group in order.
#[derive(Debug, Default)]
pub struct Hits {
    /// The built-in classes' hits, by [`Class::slot`]: a table gives
    /// every cell its column's hits, so a push is on the hot path.
    builtin: [Vec<Hit>; CLASSES],
    /// Custom rules' classes present and their hits.
    custom: Vec<(Class, Vec<Hit>)>,
}

/// How many built-in classes there are.
const CLASSES: usize = 17;

impl Class {
    /// A built-in class's place in [`Hits`]; `None` for a custom rule's.
    fn slot(self) -> Option<usize> {
        Some(match self {
            Class::Ssn => 0,
            Class::Diagnosis => 1,
            Class::Birth => 2,
            Class::Service => 3,
            Class::ServiceWeak => 4,
            Class::Patient => 5,
            Class::Person => 6,
            Class::NameLabel => 7,
            Class::Visit => 8,
            Class::Clinical => 9,
            Class::Event => 10,
            Class::Mrn => 11,
            Class::Npi => 12,
            Class::Medicare => 13,
            Class::Dea => 14,
            Class::Member => 15,
            Class::NotPhi => 16,
            Class::Custom(_) | Class::CustomKeyword(_) => return None,
        })
    }
}

impl Hits {
    /// Groups `hits` by class, each group in order of start (the engine
    /// collects them with [`Extend`] as they are found).
    #[cfg(test)]
    pub fn new(hits: Vec<Hit>) -> Hits {
        let mut grouped = Hits::default();
        grouped.extend(hits);
        grouped.finish();
        grouped
    }

    /// Adds one hit to its class's group.
    pub fn push(&mut self, hit: Hit) {
        if let Some(i) = hit.class.slot() {
            return self.builtin[i].push(hit);
        }
        // A handful of custom classes per text: a linear look beats a map.
        match self.custom.iter_mut().find(|(c, _)| *c == hit.class) {
            Some((_, group)) => group.push(hit),
            None => self.custom.push((hit.class, vec![hit])),
        }
    }

    /// Puts each group in order of position.
    ///
    /// The automaton reports hits in order of their end, so a group is
    /// sorted already, or nearly (words sharing an end; a table's column
    /// hits after the text's own): a check, and a stable sort that merges
    /// the runs only where needed. (Sorting all hits by class and position,
    /// and later dealing them into classes in place, which scrambles
    /// the order, were a seventh of the time on a table.) The stable sort
    /// borrows up to half a group's size; a group past `STABLE_MAX` hits (a
    /// message at the text limit) is sorted in place instead.
    pub fn finish(&mut self) {
        const STABLE_MAX: usize = 1 << 16;
        let groups = self
            .builtin
            .iter_mut()
            .chain(self.custom.iter_mut().map(|(_, g)| g));
        for group in groups {
            if group.is_sorted_by_key(|h| (h.start, h.end)) {
                continue;
            }
            if group.len() <= STABLE_MAX {
                group.sort_by_key(|h| (h.start, h.end));
            } else {
                group.sort_unstable_by_key(|h| (h.start, h.end));
            }
        }
    }

    /// The hits of one class, in order of start.
    pub fn of(&self, class: Class) -> &[Hit] {
        match class.slot() {
            Some(i) => &self.builtin[i],
            None => self
                .custom
                .iter()
                .find(|(c, _)| *c == class)
                .map_or(&[], |(_, group)| group.as_slice()),
        }
    }
}

impl Extend<Hit> for Hits {
    fn extend<I: IntoIterator<Item = Hit>>(&mut self, hits: I) {
        for h in hits {
            self.push(h);
        }
    }
}

/// The compiled automaton.
#[derive(Debug)]
pub struct Context {
    ac: AhoCorasick,
    /// Pattern index -> classes (a word can be evidence of several things).
    classes: Vec<Vec<Class>>,
    /// Pattern index -> whether it ends in a word character (needs a boundary after).
    word_end: Vec<bool>,
    /// Pattern index -> whether it is a unit of a dose or a lab value,
    /// which counts only after its number ("40mg", "40 mg"; not "MG").
    unit: Vec<bool>,
    /// Pattern index -> whether it is a lab analyte's short form, which
    /// counts only right before a value ([`ANALYTES`]).
    analyte: Vec<bool>,
    /// Pattern index -> the words after it that make it an idiom of
    /// office life, not care ([`IDIOMS`]); empty for most.
    idiom: Vec<&'static [&'static str]>,
    /// Pattern index -> whether a hyphen after it makes another word
    /// ("knee-high", "shoulder-length").
    stem: Vec<bool>,
    /// Pattern index -> the classes its plural counts for, if it has one
    /// ("migraines", "rashes"): words of care, of four letters or more.
    plural: Vec<Vec<Class>>,
    /// Pattern index -> whether it is a drug-name stem, which ends a
    /// longer word rather than being one.
    drug: Vec<bool>,
    /// Pattern index -> whether a list has it as a word of its own too
    /// ("statin", the class, as well as the stem of "atorvastatin").
    whole: Vec<bool>,
    /// The pattern index of "pt", which in capitals before a word in
    /// lower case is physical therapy or part-time, not a patient.
    pt: Option<usize>,
}

/// Units of a dose or a lab value: care only after a number, with or
/// without a space.
const UNITS: &[&str] = &["mg", "mcg", "mg/dl", "mmol/l", "meq"];

/// Care words that, followed by one of these words, are an idiom of
/// everyday life rather than care: "fell behind on the invoices", "fell
/// short of", "a rash of complaints", "a stroke of luck", "fever pitch".
/// (A custom rule's keyword counts all the same.)
const IDIOMS: &[(&str, &[&str])] = &[
    ("fell", &["behind", "short", "apart", "flat", "silent"]),
    ("rash", &["of"]),
    ("stroke", &["of"]),
    ("fever", &["pitch"]),
];

/// Lab analytes written in their short forms, care only right before
/// their value ("Critical K 6.1", "Na 128", "Cr: 2.3", "BP 150/90"): alone,
/// a letter or two is anything (BP is an oil company). (Not "Ca": a state before its ZIP code.)
const ANALYTES: &[&str] = &[
    "k", "k+", "na", "cr", "plt", "bun", "glu", "cl", "phos", "bp",
];

/// Parts of the body: with a hyphen after them they describe a thing.
const STEMS: &[&str] = &["knee", "knees", "shoulder", "ankle", "wrist", "elbow"];

/// The classes whose words count in the plural too: a practice writes
/// "moles", "migraines" and "rashes" as often as the singular, and listing
/// both forms of every word is how one of them gets forgotten.
const PLURAL_CLASSES: &[Class] = &[
    Class::Diagnosis,
    Class::ServiceWeak,
    Class::Visit,
    Class::Clinical,
];

/// Endings of generic drug names (the naming stems of the USAN council,
/// lengthened where a shorter form ends English words or surnames in the
/// lists: "-thasone", not "-sone", which ends Bessone). A word of at least
/// three letters before one of them is a drug ("metoprolol", "sumatriptan",
/// "ciprofloxacin"): no list of brand and generic names keeps up with a
/// formulary, and a stem names a whole class of them.
const DRUG_STEMS: &[&str] = &[
    "olol",
    "pril",
    "sartan",
    "statin",
    "azole",
    "cillin",
    "mycin",
    "oxacin",
    "dipine",
    "triptan",
    "cycline",
    "oxetine",
    "azepam",
    "azolam",
    "tidine",
    "semide",
    "thiazide",
    "gliptin",
    "gliflozin",
    "glutide",
    "eparin",
    "xaban",
    "gatran",
    "umab",
    "imab",
    "tinib",
    "clovir",
    "nisone",
    "ethasone",
    "etasone",
    "icasone",
    "nisolone",
    "cinolone",
    "profen",
    "fenac",
    "ocaine",
    "acaine",
    "codone",
    "morphone",
    "azodone",
    "ridone",
    "setron",
    "lukast",
    "terol",
    "dronate",
    "atadine",
    "fenadine",
    "pramine",
    "triptyline",
    "afil",
    "zosin",
    "ulosin",
    "apine",
    "opram",
    "faxine",
    "pidem",
    "tropium",
    "peridol",
    "racetam",
    "trigine",
];

/// The classes of labels that offices abbreviate with periods ("Med. Rec.
/// No.", "Pt. ID", "Soc. Sec. #", "Acct. No."): each of their labels also
/// counts with a period after any of its short words.
const ABBREVIATED: &[Class] = &[
    Class::Ssn,
    Class::Mrn,
    Class::Npi,
    Class::Medicare,
    Class::Dea,
    Class::Member,
    Class::NotPhi,
];

/// A label's spellings with a period after some of its short words (two to
/// four letters, not the last: a period after the last word is outside the
/// label anyway). "med rec no" gives "med. rec no", "med rec. no" and
/// "med. rec. no".
fn with_periods(label: &str) -> Vec<String> {
    let words: Vec<&str> = label.split(' ').collect();
    let short: Vec<usize> = (0..words.len().saturating_sub(1))
        .filter(|&i| (2..=4).contains(&words[i].len()))
        .filter(|&i| words[i].bytes().all(|b| b.is_ascii_alphabetic()))
        .collect();
    (1u32..1 << short.len())
        .map(|mask| {
            let mut w = words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
            for (bit, &i) in short.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    w[i].push('.');
                }
            }
            w.join(" ")
        })
        .collect()
}

/// The longest drug name a stem is looked back from (a longer run of
/// letters is not a word: a token, an encoding).
const DRUG_MAX: usize = 32;

impl Context {
    /// Builds the automaton from the built-in words plus custom ones
    /// (`(class, words)` pairs).
    pub fn new(custom: &[(Class, Vec<String>)]) -> Result<Context, aho_corasick::BuildError> {
        let mut words: Vec<String> = Vec::new();
        let mut classes: Vec<Vec<Class>> = Vec::new();
        let mut add = |w: &str, c: Class| {
            let w = w.to_ascii_lowercase();
            match words.iter().position(|x| *x == w) {
                Some(i) => {
                    if !classes[i].contains(&c) {
                        classes[i].push(c)
                    }
                }
                None => {
                    words.push(w);
                    classes.push(vec![c]);
                }
            }
        };
        for (class, list) in BUILTIN {
            for w in list.split('|').map(str::trim).filter(|w| !w.is_empty()) {
                add(w, *class);
                if ABBREVIATED.contains(class) {
                    for v in with_periods(w) {
                        add(&v, *class);
                    }
                }
            }
        }
        for (class, list) in custom {
            for w in list {
                add(w, *class);
            }
        }
        for w in DRUG_STEMS {
            add(w, Class::Clinical);
        }
        let pt = words.iter().position(|w| w == "pt");
        let drug = words
            .iter()
            .map(|w| DRUG_STEMS.contains(&w.as_str()))
            .collect();
        let in_a_list = |w: &str| {
            let builtin = BUILTIN.iter().flat_map(|(_, list)| list.split('|'));
            builtin
                .map(str::trim)
                .chain(
                    custom
                        .iter()
                        .flat_map(|(_, l)| l.iter().map(String::as_str)),
                )
                .any(|x| x.eq_ignore_ascii_case(w))
        };
        let whole = words
            .iter()
            .map(|w| !DRUG_STEMS.contains(&w.as_str()) || in_a_list(w))
            .collect();
        let plural = words
            .iter()
            .zip(&classes)
            .map(|(w, cs)| {
                let plain = w.len() >= 4
                    && w.ends_with(|c: char| c.is_ascii_alphabetic())
                    && !w.ends_with('s')
                    && !UNITS.contains(&w.as_str())
                    && !words
                        .iter()
                        .any(|x| x.strip_prefix(w.as_str()) == Some("s"));
                if plain {
                    cs.iter()
                        .copied()
                        .filter(|c| PLURAL_CLASSES.contains(c))
                        .collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let word_end = words
            .iter()
            .map(|w| w.chars().last().is_some_and(|c| c.is_alphanumeric()))
            .collect();
        let unit = words.iter().map(|w| UNITS.contains(&w.as_str())).collect();
        let analyte = words
            .iter()
            .map(|w| ANALYTES.contains(&w.as_str()))
            .collect();
        let stem = words.iter().map(|w| STEMS.contains(&w.as_str())).collect();
        let idiom = words
            .iter()
            .map(|w| {
                IDIOMS
                    .iter()
                    .find(|(word, _)| word == w)
                    .map_or(&[][..], |(_, after)| *after)
            })
            .collect();
        // Standard semantics so that every overlapping match is reported:
        // "diagnosis codes" must still yield "diagnosis" when the longer
        // "diagnosis code" fails the whole-word check. (A leftmost-longest
        // search with leading words added back was measured: no faster,
        // the cost is per match, not per byte.)
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)?;
        Ok(Context {
            ac,
            classes,
            word_end,
            unit,
            analyte,
            idiom,
            stem,
            plural,
            drug,
            whole,
            pt,
        })
    }

    /// Every whole-word context hit in `text`, in order.
    pub fn hits(&self, text: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        self.hits_in(text, 0..text.len(), &mut out);
        out.sort_by_key(|h| (h.start, h.end));
        out
    }

    /// Every whole-word context hit in `text[span]` (whole words judged on
    /// the whole text), added to `out` in order of their end.
    pub fn hits_in(&self, text: &str, span: std::ops::Range<usize>, out: &mut impl Extend<Hit>) {
        let b = text.as_bytes();
        let input = aho_corasick::Input::new(text).span(span);
        // The last clinical hit's span: a drug named in full among the
        // words ends where its stem does, and counts once.
        let mut clinical = (usize::MAX, 0);
        let mut hit = |start: usize, end: usize, class: Class| {
            if class == Class::Clinical {
                if clinical == (start, end) {
                    return None;
                }
                clinical = (start, end);
            }
            Some(Hit {
                start,
                end,
                class,
                label: None,
            })
        };
        for m in self.ac.find_overlapping_iter(input) {
            let (s, e) = (m.start(), m.end());
            let p = m.pattern().as_usize();
            if self.drug[p] {
                if let Some(s) = drug_start(b, s, e) {
                    let e = e + plural_ending(&b[e..]).unwrap_or(0);
                    out.extend(hit(s, e, Class::Clinical));
                    continue;
                }
                if !self.whole[p] {
                    continue;
                }
            }
            let before_ok = if self.unit[p] {
                after_a_number(&b[..s])
            } else {
                s == 0 || !is_word(b[s - 1])
            };
            if self.analyte[p] && !before_a_value(&b[s..e], &b[e..]) {
                continue;
            }
            // "PT progress:", "PT eval", "PT staff": physical therapy or
            // part-time ("PT: Ann Lee", "Pt seen", "pt name" stay labels).
            if Some(p) == self.pt
                && &b[s..e] == b"PT"
                && b.get(e) == Some(&b' ')
                && b.get(e + 1).is_some_and(u8::is_ascii_lowercase)
            {
                continue;
            }
            let next = b.get(e).copied();
            let after_ok = match next {
                Some(b'-') if self.stem[p] => false,
                Some(c) => !self.word_end[p] || !is_word(c),
                None => true,
            };
            // (In an idiom only a custom rule's keyword counts.)
            let idiom = !self.idiom[p].is_empty() && next_word_in(&b[e..], self.idiom[p]);
            let counts =
                |c: &Class| !idiom || matches!(c, Class::Custom(_) | Class::CustomKeyword(_));
            if before_ok && after_ok {
                out.extend(
                    self.classes[p]
                        .iter()
                        .filter(|c| counts(c))
                        .filter_map(|&c| hit(s, e, c)),
                );
            } else if before_ok
                && !self.plural[p].is_empty()
                && let Some(n) = plural_ending(&b[e..])
            {
                out.extend(self.plural[p].iter().filter_map(|&c| hit(s, e + n, c)));
            }
        }
    }
}

/// Whether the word after the blanks at the start of `after` is one of
/// `words` (in lower case), in any case.
fn next_word_in(after: &[u8], words: &[&str]) -> bool {
    let blanks = after.iter().take_while(|&&c| c == b' ').count();
    let rest = &after[blanks..];
    let len = rest.iter().take_while(|&&c| is_word(c)).count();
    blanks > 0
        && words
            .iter()
            .any(|w| rest[..len].eq_ignore_ascii_case(w.as_bytes()))
}

/// The length of a plural ending at the start of `after` ("s" or "es",
/// then the end of the word), if there is one.
fn plural_ending(after: &[u8]) -> Option<usize> {
    let n = match after {
        [b's' | b'S', ..] => 1,
        [b'e' | b'E', b's' | b'S', ..] => 2,
        _ => return None,
    };
    (after.get(n).is_none_or(|&c| !is_word(c))).then_some(n)
}

/// Where the drug name that the stem at `s..e` ends begins: the stem must
/// end its word (perhaps in the plural) and follow at least three letters
/// that begin one.
fn drug_start(b: &[u8], s: usize, e: usize) -> Option<usize> {
    let ends = b.get(e).is_none_or(|&c| !is_word(c)) || plural_ending(&b[e..]).is_some();
    if !ends {
        return None;
    }
    let floor = s.saturating_sub(DRUG_MAX);
    let start = b[floor..s]
        .iter()
        .rposition(|c| !c.is_ascii_alphabetic())
        .map_or(floor, |i| floor + i + 1);
    let bounded = start == 0 || !is_word(b[start - 1]);
    (s - start >= 3 && bounded && (start > floor || floor == 0)).then_some(start)
}

/// Whether `after` begins with a lab value: a number, perhaps after a
/// blank, a colon or an equals sign ("K 6.1", "Na:128", "Cr = 2.3").
/// Potassium's single letter needs the value's decimal point ("K 6.1",
/// not "Locker K 6").
fn before_a_value(word: &[u8], after: &[u8]) -> bool {
    let mut rest = after;
    for skip in [&b" "[..], b":=", b" "] {
        if rest.first().is_some_and(|c| skip.contains(c)) {
            rest = &rest[1..];
        }
    }
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let decimal = digits > 0
        && rest.get(digits) == Some(&b'.')
        && rest.get(digits + 1).is_some_and(u8::is_ascii_digit);
    digits > 0 && (decimal || !word[0].eq_ignore_ascii_case(&b'k'))
}

/// Whether `before` ends in a digit, perhaps then one space.
fn after_a_number(before: &[u8]) -> bool {
    match before {
        [.., d, b' '] | [.., d] => d.is_ascii_digit(),
        [] => false,
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Looks for a hit of `class` ending within `before` bytes before `start`,
/// or starting within `after` bytes after `end`.
pub fn near(
    hits: &[Hit],
    class: Class,
    start: usize,
    end: usize,
    before: usize,
    after: usize,
) -> Option<&Hit> {
    let lo = start.saturating_sub(before);
    let hi = end + after;
    // Hits are in order of start; skip to the first that could qualify.
    let first = hits.partition_point(|h| h.end < lo);
    hits[first..]
        .iter()
        .take_while(|h| h.start <= hi)
        .filter(|h| h.class == class)
        .filter(|h| {
            (h.end <= start && h.end >= lo)
                || (h.start >= end && h.start <= hi)
                || (h.start <= start && h.end >= end)
        })
        .min_by_key(|h| {
            if h.end <= start {
                start - h.end
            } else {
                h.start.saturating_sub(end)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "PT" in capitals before a word in lower case is a kind of care or
    /// of work, not a patient label.
    #[test]
    fn pt_in_capitals_before_a_word_is_no_patient() {
        let c = Context::new(&[]).unwrap();
        let patient = |t: &str| c.hits(t).iter().any(|h| h.class == Class::Patient);
        assert!(!patient("PT progress: Ann Lee"));
        assert!(!patient("PT staff meeting"));
        assert!(patient("PT: Ann Lee"));
        assert!(patient("PT Ann Lee"));
        assert!(patient("pt seen today"));
        assert!(patient("Pt name: Ann Lee"));
    }

    /// A care word in an idiom of everyday life is no care; a custom
    /// rule's keyword that is the same word still counts.
    #[test]
    fn idioms_are_no_care() {
        let custom = [(Class::CustomKeyword(0), vec!["stroke".to_string()])];
        let c = Context::new(&custom).unwrap();
        let clinical = |t: &str| c.hits(t).iter().any(|h| h.class == Class::Clinical);
        let keyword = |t: &str| c.hits(t).iter().any(|h| h.class == Class::CustomKeyword(0));
        assert!(clinical("she fell on the ice"));
        assert!(clinical("fell  at home"));
        assert!(!clinical("we fell behind on billing"));
        assert!(!clinical("the plan fell  Short"));
        assert!(clinical("a rash on her arm"));
        assert!(!clinical("a rash of complaints"));
        assert!(clinical("stroke in 2019"));
        assert!(!clinical("a stroke of luck"));
        assert!(keyword("a stroke of luck"));
        assert!(!clinical("at fever pitch"));
        assert!(clinical("fever pitched at 102"));
    }

    /// A lab analyte's short form is care only before its value.
    #[test]
    fn analytes_count_before_their_value() {
        let c = Context::new(&[]).unwrap();
        let clinical = |t: &str| {
            c.hits(t)
                .iter()
                .filter(|h| h.class == Class::Clinical)
                .map(|h| t[h.start..h.end].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(clinical("Critical K 6.1 on Ann"), ["K"]);
        assert_eq!(clinical("Na:128, Cr = 2.3, K+ 5.9"), ["Na", "Cr", "K+"]);
        assert_eq!(clinical("BP 150/90, her BP cuff"), ["BP", "BP cuff"]);
        assert_eq!(
            clinical("BP shares dropped; the BP station"),
            Vec::<String>::new()
        );
        assert!(clinical("Plan K for the move; NA for now; see Cr. Lee").is_empty());
        assert!(clinical("Locker K 6 is free; K 12 class").is_empty());
        assert!(clinical("San Diego, CA 92101").is_empty());
    }

    /// Every built-in class has a place of its own in [`Hits`].
    #[test]
    fn built_in_classes_have_distinct_slots() {
        let mut seen = [false; CLASSES];
        for (class, _) in BUILTIN {
            let i = class.slot().expect("a built-in class");
            seen[i] = true;
            let same = BUILTIN.iter().filter(|(c, _)| c.slot() == Some(i));
            assert!(same.clone().all(|(c, _)| c == class), "{class:?}");
        }
        assert_eq!(Class::Custom(0).slot(), None);
        assert!(seen.iter().filter(|s| **s).count() >= 16);
    }

    #[test]
    fn whole_words_case_insensitive() {
        let c = Context::new(&[]).unwrap();
        let hits = c.hits("Pt DOB: 1/2/60. Dx: E11.9; adobe dxf; Diagnosis codes: x");
        assert!(
            hits.iter()
                .any(|h| h.class == Class::Diagnosis && h.end - h.start == "diagnosis".len())
        );
        let classes: Vec<Class> = hits.iter().map(|h| h.class).collect();
        assert!(classes.contains(&Class::Birth));
        assert!(classes.contains(&Class::Diagnosis));
        // "adobe" and "dxf" are not "dob" and "dx".
        assert_eq!(hits.iter().filter(|h| h.class == Class::Birth).count(), 1);
        let mut starts: Vec<usize> = hits
            .iter()
            .filter(|h| h.class == Class::Diagnosis)
            .map(|h| h.start)
            .collect();
        starts.dedup();
        assert_eq!(starts.len(), 2, "Dx and Diagnosis");
    }

    #[test]
    fn hits_are_grouped_by_class_in_order() {
        let classes = [Class::Ssn, Class::Event, Class::Custom(3), Class::Patient];
        // Small groups (the stable sort) and one past its bound (in place),
        // each as found: in order of end, then a run out of order.
        for n in [500usize, 300_000] {
            let mut hits = Vec::new();
            for i in 0..n {
                let start = (i * 7919) % 1000 + if i % 2 == 0 { 0 } else { i };
                hits.push(Hit {
                    start,
                    end: start + 1 + i % 3,
                    class: classes[(i * 31) % 4 * usize::from(n < 1000)],
                    label: None,
                });
            }
            let grouped = Hits::new(hits.clone());
            for c in classes {
                let mut want: Vec<Hit> = hits.iter().filter(|h| h.class == c).copied().collect();
                want.sort_by_key(|h| (h.start, h.end));
                let got = grouped.of(c);
                assert_eq!(got.len(), want.len());
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| (a.start, a.end) == (b.start, b.end))
                );
            }
            assert!(grouped.of(Class::Dea).is_empty());
        }
    }

    #[test]
    fn a_unit_counts_only_after_its_number() {
        let c = Context::new(&[]).unwrap();
        let units = |text: &str| -> Vec<String> {
            c.hits(text)
                .iter()
                .filter(|h| h.class == Class::Clinical)
                .map(|h| text[h.start..h.end].to_string())
                .collect()
        };
        assert_eq!(units("sertraline 50mg"), ["sertraline", "mg"]);
        assert_eq!(units("take 40 mg daily"), ["mg"]);
        assert!(units("his MG convertible").is_empty());
        assert!(units("Dx MG-7").is_empty());
        assert_eq!(units("left knee"), ["knee"]);
        assert!(units("knee-high boots").is_empty());
    }

    fn clinical(c: &Context, text: &str) -> Vec<String> {
        c.hits(text)
            .iter()
            .filter(|h| h.class == Class::Clinical)
            .map(|h| text[h.start..h.end].to_string())
            .collect()
    }

    #[test]
    fn labels_count_abbreviated_with_periods() {
        assert_eq!(
            with_periods("med rec no"),
            ["med. rec no", "med rec. no", "med. rec. no"]
        );
        assert!(with_periods("medical record").is_empty());
        let c = Context::new(&[]).unwrap();
        for (text, class) in [
            ("Med. Rec. No.: 00482913", Class::Mrn),
            ("Pt. ID 4471", Class::Mrn),
            ("Acct. # 4471", Class::Mrn),
            ("Ref. # 4471", Class::NotPhi),
        ] {
            assert!(
                c.hits(text).iter().any(|h| h.class == class),
                "{text}: {:?}",
                c.hits(text)
            );
        }
    }

    #[test]
    fn care_words_count_in_the_plural() {
        let c = Context::new(&[]).unwrap();
        assert_eq!(clinical(&c, "migraines daily"), ["migraines"]);
        assert_eq!(clinical(&c, "two Rashes, one cyst"), ["Rashes", "cyst"]);
        assert_eq!(clinical(&c, "labs drawn"), ["labs", "drawn"]);
        // Not a longer word, nor a short one's (mg, uti).
        assert!(clinical(&c, "painstaking utis 5 mgs").is_empty());
        let visits: Vec<Hit> = c.hits("two physicals and consults");
        assert_eq!(visits.iter().filter(|h| h.class == Class::Visit).count(), 2);
    }

    #[test]
    fn a_drug_stem_ends_a_drug_name() {
        let c = Context::new(&[]).unwrap();
        assert_eq!(
            clinical(&c, "Metoprolol 25, SUMATRIPTAN prn, ciprofloxacin."),
            ["Metoprolol", "SUMATRIPTAN", "prn", "ciprofloxacin"]
        );
        assert_eq!(clinical(&c, "both rosuvastatins"), ["rosuvastatins"]);
        // A stem alone, inside a word, after too few letters, in a token
        // or an encoding, or after a letter run too long to be a word.
        for text in [
            "olol",
            "the afil",
            "xolol",
            "abc_metoprolol",
            "metoprolols2",
            "Smith-McCaine",
            &format!("{}olol", "a".repeat(40)),
        ] {
            assert!(clinical(&c, text).is_empty(), "{text}");
        }
        // A hyphen or a space begins a word.
        assert_eq!(clinical(&c, "x-lisinopril"), ["lisinopril"]);
        // A stem a list has as a word of its own counts alone too: the
        // class of drugs, not only the end of one's name.
        assert_eq!(clinical(&c, "the new statin"), ["statin"]);
        assert_eq!(
            clinical(&c, "on statins, atorvastatin"),
            ["statins", "atorvastatin"]
        );
    }

    #[test]
    fn near_finds_the_closest_in_the_window() {
        let c = Context::new(&[]).unwrap();
        let text = "SSN: 123-45-6789";
        let hits = c.hits(text);
        assert!(near(&hits, Class::Ssn, 5, 16, 10, 0).is_some());
        assert!(near(&hits, Class::Ssn, 5, 16, 0, 10).is_none());
    }
}
