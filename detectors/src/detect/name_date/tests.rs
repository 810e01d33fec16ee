use crate::tests::scan_text;

thread_local! {
    /// Set by a test to run every rule of `date_role`, without the look
    /// for a word within reach that lets most dates skip them.
    static EVERY_RULE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread's test asked for every rule.
pub(super) fn every_rule() -> bool {
    EVERY_RULE.with(std::cell::Cell::get)
}

/// The look for a word within reach changes no finding, to the
/// explanation: on the development corpus and on texts with a word of
/// each class at every distance up to past the reach.
#[test]
fn skipping_dates_with_no_word_near_changes_nothing() {
    let engine = crate::Engine::new(crate::Settings {
        explain_below_threshold: true,
        ..crate::Settings::default()
    })
    .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    for gap in (0..130).step_by(3) {
        let pad = "lorem ipsum ".repeat(gap / 12) + &"x".repeat(gap % 12);
        for body in [
            format!("Ann Lee DOB {pad} 3/4/1965"),
            format!("Ann Lee 3/4/1965 {pad} rash and fever"),
            format!("rash {pad} for Ann Lee 11/30/2026"),
            format!("Ann Lee seen {pad} 11/30/2026"),
            format!("Ann Lee 11/30/2026 {pad} follow-up"),
            format!("appointment {pad} Ann Lee 11/30/2026"),
            format!("the 11/30/2026 {pad} claim for Ann Lee"),
            format!("birthday {pad} 3/4/1965 Ann Lee"),
            format!("Ann Lee colonoscopy {pad} 11/30/2026"),
            format!("Ann Lee, 11/30/2026: {pad} fever, cough"),
            format!("11/30/2026: Ann Lee, {pad} fever, cough"),
            format!("Ann Lee last {pad} pap 11/30/2023"),
        ] {
            inputs.push(format!("Subject: t\r\n\r\n{body}\r\n").into_bytes());
        }
    }
    let show = |r: &crate::Report| format!("{:?} {:?}", r.categories, r.findings);
    for raw in &inputs {
        let quick = show(&engine.scan(raw));
        EVERY_RULE.with(|f| f.set(true));
        let full = show(&engine.scan(raw));
        EVERY_RULE.with(|f| f.set(false));
        assert_eq!(quick, full, "{}", String::from_utf8_lossy(raw));
    }
}

const CASES: &[(&str, bool)] = &[
    // A chart's notes are care; a template or macros for them, and a
    // service word in a thing's name, are office work.
    (
        "Can you fax the last two office notes on Nadia Obuya (12/14/1944) to Dr. Patel's office?",
        true,
    ),
    (
        "Nadia Obuya (12/14/1984) wrote the office notes template for the new EHR.",
        false,
    ),
    (
        "Nadia Obuya built the discharge summary macros 12/14/2026.",
        false,
    ),
    (
        "Nadia Obuya fixed the admission form templates 12/01/2026.",
        false,
    ),
    (
        "Discharge summary for Nadia Obuya, admitted 11/27/2026 for pneumonia.",
        true,
    ),
    // A month and a day with no year, where care or birth says it is a
    // date; a share, a score or a staff day stays clean.
    ("Tomas Okafor seen 12/4 for a rash.", true),
    ("Tomas Okafor DOB 3/4, asking about her labs.", true),
    (
        "Hi team, Mr. Okafor (Tomas) came by asking about his biopsy results from 11/24.",
        true,
    ),
    ("Tomas Okafor ran 2/3 of the vaccine drive shifts.", false),
    (
        "Refill denied for Tomas Okafor (last seen 06/2024) - needs an appointment before we renew the Adderall.",
        true,
    ),
    (
        "Access denied for Tomas Okafor (last login 06/2024) - needs a new password before we renew the EHR license.",
        false,
    ),
    (
        "Tomas Okafor, card on file exp 06/2027, for the lab coat order.",
        false,
    ),
    ("Tomas Okafor, the ultrasound tech, is off 12/4.", false),
    (
        "Tomas Okafor's mammogram lecture 12/4 at noon for the nursing students.",
        false,
    ),
    (
        "Give Tomas Okafor 1/2 tab of his lisinopril tonight.",
        false,
    ),
    (
        "Give Tomas Okafor 1/2 tab of his lisinopril from 12/4.",
        true,
    ),
    (
        "Tomas Okafor: 3/4 of the BP cuffs need new batteries.",
        false,
    ),
    (
        "Tomas Okafor scored 9/10 on the quiz about asthma care.",
        false,
    ),
    // Care told of a name ("was treated for"); an age after the name and
    // care between it and the date; a drug's course is care, not a class.
    (
        "Per the ER note, Tomas Okafor was treated for a dog bite to the left hand 12/02/2026, tetanus booster given.",
        true,
    ),
    (
        "Per the HR note, Tomas Okafor was thanked for covering the front desk 12/02/2026, gift card given.",
        false,
    ),
    (
        "Reminder for Thursday: Nadia Obuya, 5 yo, ear recheck 12/10/2026 9:40 after amoxicillin course.",
        true,
    ),
    (
        "Reminder for Thursday: Nadia Obuya, 5 years with the practice, lunch 12/10/2026 at 12:40 in the break room.",
        false,
    ),
    // A month by its name and a day, no year: a date where care says so.
    (
        "Reminder: Tomas Okafor has his colonoscopy on December 9th at 8am.",
        true,
    ),
    ("Tomas Okafor (DOB March 4) called about his refill.", true),
    ("Tomas Okafor was seen Dec 3 for a rash on his arms.", true),
    (
        "Reminder: Tomas Okafor has his team lunch on December 9th at noon.",
        false,
    ),
    ("Tomas Okafor is out Dec 3 for a family wedding.", false),
    (
        "Tomas Okafor's birthday is March 4 - cake in the break room!",
        false,
    ),
    // A chart's line after a comma as after a colon; a dental chart's
    // words are care.
    (
        "Dental: Marcus Bell, 12/03/2026, #30 MOD composite, next visit crown seat.",
        true,
    ),
    (
        "Marcus Bell 12/03/2026 - prophy and bitewings, recall in 6 months.",
        true,
    ),
    (
        "Ann Lee, 12/03/2026, fever and cough x3 days, rapid strep neg.",
        true,
    ),
    (
        "Facilities: Marcus Bell, 12/03/2026, room 30 paint touch-up, next visit carpet.",
        false,
    ),
    (
        "Marcus Bell is out 12/03/2026 for a deep cleaning of the break room carpets.",
        false,
    ),
    (
        "Priya Shah, 12/07/2026, flu shot clinic and vaccine drive.",
        false,
    ),
    // Who is on call, or works a shift, is staff.
    (
        "Maria Okafor was sent to L&D Dec 3 with contractions.",
        true,
    ),
    ("Tomas Okafor is on call for L&D 12/03/2026.", false),
    (
        "Tomas Okafor works the night shift on the oncology floor 12/03/2026.",
        false,
    ),
    // A fall is care; falling behind is not. A date of death is a
    // record's date.
    (
        "Rosalind Tebbit called, she fell on 12/3 and her wrist is still swollen.",
        true,
    ),
    (
        "Rosalind Tebbit called, she fell behind on 12/3 invoices and wants an extension.",
        false,
    ),
    (
        "Walter Brennan's date of death, 11/30/2026, is on the certificate the family sent.",
        true,
    ),
    (
        "Walter Brennan's date of hire, 11/30/2026, is on the certificate the office sent.",
        false,
    ),
    // A primary care provider, diabetic supplies: care.
    (
        "Wanda Kowalski (11/5/1947): daughter wants to switch her PCP to Dr. Greene, ok?",
        true,
    ),
    (
        "Reggie Okafor brought in his sharps container 12/3; we gave him a new one and his pen needles.",
        true,
    ),
    (
        "Wanda Kowalski (11/5/1947): daughter wants to switch her plan to Verizon, ok?",
        false,
    ),
    ("Please welcome Ann Lee, PCP, who joins us 1/5/2027.", false),
    // A site visit is a building's, an ED visit a patient's.
    (
        "Hospital follow-up needed: Arjun Mehta, ED visit 12/2 for syncope.",
        true,
    ),
    (
        "Building follow-up needed: Arjun Mehta, site visit 12/2 for the roof.",
        false,
    ),
    // A dose on a day ("the 12/1 dose"), not a share of one.
    (
        "Forwarding for Rafael Mendes. He says the 12/1 dose of amoxicillin gave him hives.",
        true,
    ),
    (
        "Forwarding for Rafael Mendes. He says the 12/1 batch of brochures gave him trouble.",
        false,
    ),
    // An age in words after a name, as a chart writes it.
    (
        "Maya Thompson (age 4) has a speech therapy eval on 12/9/2026.",
        true,
    ),
    ("Maya Thompson (age 4) has a recital on 12/9/2026.", false),
    // A superbill is a visit's.
    (
        "Superbill for Ethan Caldwell 12/2: 99213, 87880 (rapid strep).",
        true,
    ),
    (
        "Receipt for Ethan Caldwell 12/2: lunch, parking (garage B).",
        false,
    ),
    // Blood sugars, and medicines bought over the counter, are care.
    (
        "Can Dr. Shah see Lakshmi Iyer tomorrow? Her sugars have been running in the 300s since 12/1.",
        true,
    ),
    (
        "Marisa Conti, 2/14/1988, asking whether she can take Sudafed while breastfeeding.",
        true,
    ),
    (
        "Can Dr. Shah see Lakshmi Iyer tomorrow? Her sales have been running in the 300s since 12/1.",
        false,
    ),
    (
        "Marisa Conti, 2/14/1988, asking whether she can take Friday off while the kids are home.",
        false,
    ),
    // What a name has, needs or gets, when it is care, is the name's.
    ("Ann Lee has a colonoscopy on 12/9/2026.", true),
    (
        "Maya Thompson has a speech therapy eval on 12/9/2026.",
        true,
    ),
    ("Ann Lee needs her flu shot before 12/9/2026.", true),
    ("Ann Lee is getting an MRI on 12/9.", true),
    ("Ann Lee has a meeting on 12/9/2026.", false),
    ("Ann Lee needs a parking pass before 12/9/2026.", false),
    ("Ann Lee is getting an award on 12/9.", false),
    // A given name in parentheses after the name: a preferred name, or
    // the given name of a title and a surname. "Bill" is a given name
    // when a surname follows.
    (
        "Bill Thompson (William) 2/2/1950 - BP recheck, meds adjusted.",
        true,
    ),
    (
        "Mrs. Oyelaran (Folasade, 3/30/58) called about her mammogram results.",
        true,
    ),
    (
        "Mrs. Oyelaran (Folasade, 3/30/58) called about her parking pass.",
        false,
    ),
    (
        "Bill Thompson (William) 2/2/1950 - retirement party, cake ordered.",
        false,
    ),
    ("Bill Date 12/01/2026 - statement, balance due.", false),
    // A name labelled as the patient's, further after the date than an
    // unlabelled one may be: an HTML schedule's header row between.
    (
        "Schedule for 12/07/2026\n\n \t Time \t Patient \t Reason\n\n \t \nTime: 9:00 \t \nPatient: Greta Lindqvist \t \nReason: Annual physical\n",
        true,
    ),
    (
        "Schedule for 12/07/2026\n\n \t Time \t Staff \t Task\n\n \t \nTime: 9:00 \t \nStaff: Greta Lindqvist \t \nTask: Annual review\n",
        false,
    ),
    // A dose given on a date is the care's date, its number or not.
    (
        "Vaccine record for Anaya Desai: MMR #2 given 12/02/2026, lot K8891, left arm.",
        true,
    ),
    (
        "Anaya Desai - Shingrix dose 2 administered on 12/02/2026.",
        true,
    ),
    (
        "Gift record for Anaya Desai: donation #2 given 12/02/2026, receipt K8891, annual fund.",
        false,
    ),
    // Taken by ambulance is care; the ambulance bay is a place.
    (
        "Ruth Abernathy's daughter called: Ruth was taken to St. Luke's by ambulance last night (12/3).",
        true,
    ),
    (
        "Ruth Abernathy, our EMS liaison, toured the ambulance bay on 12/3 with the board.",
        false,
    ),
    // A class of drugs is care as much as a drug's name.
    (
        "Ms. Siobhan O'Callaghan, 3 January 1966, called about side effects from the new statin.",
        true,
    ),
    (
        "Ms. Siobhan O'Callaghan, 3 January 2026, called about side effects of the new phone system.",
        false,
    ),
    // Care the date is told by, after it: "after", "due to", "for",
    // "with", perhaps after the hour.
    ("Tomas Okafor booked 12/09/2026 for knee pain.", true),
    (
        "Overnight: Tomas Okafor called 12/04 2am with chest tightness, told to go to the ER.",
        true,
    ),
    ("Tomas Okafor seen 12/04/2026 at 3:15 pm with a rash.", true),
    (
        "Overnight: Tomas Okafor called 12/04 2am with a question about the schedule.",
        false,
    ),
    (
        "Tomas Okafor met 12/04/2026 with the lab staff about the new analyzer.",
        false,
    ),
    (
        "Tomas Okafor joined 12/01/2026 with the surgery scheduling group.",
        false,
    ),
    (
        "SNF transfer: Tomas Okafor, 88, to Maplewood Rehab 12/04/2026 after hip ORIF, on Eliquis, DNR on file.",
        true,
    ),
    (
        "Tomas Okafor will cover 12/09/2026 for the vaccine drive.",
        false,
    ),
    (
        "Tomas Okafor left 12/09/2026 after our annual flu shot clinic.",
        false,
    ),
    (
        "Tomas Okafor retires 12/09/2026 after thirty years in nursing.",
        false,
    ),
    (
        "Tomas Okafor closed the office 12/09/2026 due to a flu outbreak among staff.",
        false,
    ),
    // A home-health start of care is a date of service; "PT progress" is
    // physical therapy's, not a patient label.
    (
        "Home health: start of care 12/01/2026 for Nadia Obuya, wound vac to sacral ulcer.",
        true,
    ),
    (
        "Home office: start of lease 12/01/2026 for Nadia Obuya, new desk to suite 210.",
        false,
    ),
    (
        "PT progress: Nadia Obuya met 3x since 11/10/2026 for the rooftop deck project.",
        false,
    ),
    // A chart's or a call log's entry: a name and a date, then care after
    // a colon; or a date, a colon, then a name and its care. A rota's or a
    // roster's line has the same shape with one word of work in it.
    (
        "Nadia Obuya, 12/03/2026: migraines 3x/week, start propranolol 20 mg bid.",
        true,
    ),
    (
        "Nadia Obuya, 12/03/2026: presenting on migraines and asthma at the CME lunch.",
        false,
    ),
    (
        "Nurse line 12/04/2026: Tomas Okafor, 34 wks pregnant, decreased fetal movement, sent to L&D.",
        true,
    ),
    (
        "12/04/2026: Tomas Okafor, fever and cough, advised urgent care.",
        true,
    ),
    ("12/07/2026: Tomas Okafor - echo", false),
    ("Covering 12/07/2026: Tomas Okafor - vaccines", false),
    (
        "Staff meeting 12/04/2026: Tomas Okafor, flu shot and TB test coordinator.",
        false,
    ),
    (
        "Nadia Obuya, 12/03/2026: ordered more insulin syringes and gauze for the clinic",
        false,
    ),
    // Care lined up between a name and a date in a recall list; a rota
    // lines up work the same way, for days to come.
    (
        "Recall list: Nadia Obuya last pap 06/11/2023, overdue.",
        true,
    ),
    ("Nadia Obuya next colonoscopy due 03/04/2027", true),
    ("Nadia Obuya - colonoscopy done 11/02/2026", true),
    (
        "Echo lab rota:\nNadia Obuya - echo 12/07/2026\nTomas Okafor - echo 12/08/2026",
        false,
    ),
    ("Nadia Obuya last flu shot clinic 10/03/2026", false),
    ("Nadia Obuya annual review 3/4/2024", false),
    // An intake is scheduled; so is a team's outing.
    (
        "Therapy intake for Rosalind Mbeki scheduled 12/09/2026 at 4pm - PHQ-9 was 19 at screening, flag for the LCSW.",
        true,
    ),
    (
        "Team building for Rosalind Mbeki's group scheduled 12/09/2026 at 4pm - escape room, flag for the office manager.",
        false,
    ),
    // A family name first with no comma, as file names write it.
    (
        "Referral Bianchi Giulia dob 03.15.1949 for a sleep study.",
        true,
    ),
    (
        "Brochure proof Bianchi Giulia printed 03.15.2026, 200 copies for the lobby.",
        false,
    ),
    // Blood pressure written short.
    (
        "Mrs. Folasade Oyelaran (3/30/58) left a VM, her BP cuff reads 170s at home. Can someone call her?",
        true,
    ),
    (
        "Mrs. Folasade Oyelaran (3/30/58) left a VM, her BP station card was declined at the pump. Can someone call her?",
        false,
    ),
    // A lab value written as its analyte's short form.
    (
        "Critical K 6.1 on Teodoro Villanueva, collected 12/03/2026 14:20, Dr. Moss notified.",
        true,
    ),
    (
        "Locker K 6 assigned to Teodoro Villanueva, collected 12/03/2026 14:20, keys at the desk.",
        false,
    ),
    // Care of two words, the nearer one joined to the name.
    (
        "Colposcopy follow-up for Anastasia Kowalczyk-Nowak on 12/10/2026, abnormal Pap in October.",
        true,
    ),
    (
        "Vendor follow-up for Anastasia Kowalczyk-Nowak on 12/10/2026, about the phone system demo.",
        false,
    ),
    // A chart's date labels in capitals are labels, not a name's part
    // ("Freeman, DOI": Doi is a surname too).
    (
        "WC claim for Deshawn Freeman, DOI 10/14/2026, lumbar strain lifting boxes, PT 2x/wk.",
        true,
    ),
    (
        "Insurance claim for Deshawn Freeman, date of loss 10/14/2026, fender bender in the lot, adjuster coming.",
        false,
    ),
    // A standing order repeats care for its patient; a team's meetings
    // repeat too.
    (
        "Standing order: INR every 2 weeks for Vusi Mahlangu, starting 12/07/2026, goal 2-3 on warfarin.",
        true,
    ),
    (
        "Standing order: supply delivery every 2 weeks for Vusi Mahlangu, starting 12/07/2026, gloves and gauze.",
        false,
    ),
    (
        "Team huddle every 2 weeks for Vusi Mahlangu, starting 12/07/2026, in the break room.",
        false,
    ),
    // A numbered tooth and what was done there.
    (
        "Tooth #14 extraction done for Rafael Quispe 12/02/2026, gauze given, Rx amoxicillin.",
        true,
    ),
    (
        "Office #14 cleaning done for Rafael Quispe 12/02/2026, invoice attached, paid by check.",
        false,
    ),
    // A specimen's date is a test's when its sentence names the test.
    (
        "Pap result for Jacinta Mwangi, collected 11/18/2026: ASC-US, HPV positive. Needs colpo.",
        true,
    ),
    (
        "Payment from Jacinta Mwangi collected 11/18/2026 at the front desk, receipt emailed.",
        false,
    ),
    (
        "Package for Ngozi Adichie-Obi collected 2026-12-02 07:40, two boxes, FedEx.",
        false,
    ),
    // A birthday with a year decades past is a date of birth; a party's
    // birthday is this year's.
    (
        "Her name is Guadalupe Hernandez, birthday 3/9/1944, and she needs her pills refilled.",
        true,
    ),
    (
        "Her name is Guadalupe Hernandez, birthday party 3/9/2027, and she needs the flowers delivered.",
        false,
    ),
    (
        "Guadalupe Hernandez's birthday is 3/9/2027 - cake in the break room, and a card to sign.",
        false,
    ),
    (
        "For the emergency contact form: Noor Rahimi, birthday 3/14/1985, my wife.",
        false,
    ),
    (
        "Refill request for Guadalupe Hernandez, birthday 3/9/1944: lisinopril 10 mg.",
        true,
    ),
    // Words for a child, in lower case, are not a name: a staff member's
    // newborn is news; a newborn's chart name is PHI.
    (
        "Congrats to Samuel Ochieng, baby boy born 12/01/2026! Cards at the front desk.",
        false,
    ),
    (
        "Baby Boy Lindqvist, born 12/01/2026 at 03:12, Apgars 8/9, to NICU for observation.",
        true,
    ),
    (
        "baby girl okafor, born 12/02/2026 at 04:10, needs her hep B and newborn screen",
        true,
    ),
    // A longer care word after the date, sharing its start with a
    // shorter one.
    (
        "Severe reaction to the 12/02/2026 allergy shot for Kaito Mori - epi given, observed 1 hr.",
        true,
    ),
    (
        "Damaged shipment on 12/02/2026 for Kaito Mori - boxes crushed, carrier notified.",
        false,
    ),
    // Care named right after its date, for a name.
    (
        "Aetna denied the 11/12/2026 claim for Desmond Achebe - says the knee MRI needed prior auth.",
        true,
    ),
    (
        "Aetna denied the 11/12/2026 credentialing packet for Desmond Achebe - the CV needs a signature.",
        false,
    ),
    (
        "Filed the 12/05/2026 claim for Jenna Holt's laptop with the insurer; water damage.",
        false,
    ),
    // An age after the name; a courtesy title after "for".
    (
        "- Ayaan Mehta, 15 mo, 12/04/2026: MMR, varicella, Hep A given",
        true,
    ),
    (
        "- Ayaan Mehta, 12/04/2026: won the raffle, gift card at the desk",
        false,
    ),
    ("Ayaan Mehta (42F) 12/04/2026 booked for a physical", true),
    (
        "Ayaan Mehta (42 employees) 12/04/2026 booked the hall",
        false,
    ),
    (
        "Pathology on the skin biopsy for Mr. Oyelowo (12/01/2026) came back basal cell.",
        true,
    ),
    (
        "Certificate for Mr. Oyelowo (12/01/2026 session) came back from the printer.",
        false,
    ),
    // A kind of visit between a name and its date, in a list's line;
    // a no-show; a referral for a name.
    (
        "Bao Tran Nguyen - spirometry 12/09/2026 - hold albuterol 4h prior.",
        true,
    ),
    (
        "Bao Tran Nguyen - supply run 12/09/2026 - gloves, paper, toner.",
        false,
    ),
    (
        "No-show: Yusuf Demir, 12/02/2026 3:40pm, diabetic foot check.",
        true,
    ),
    (
        "No-show: Yusuf Demir, 12/02/2026 3:40pm, interview for the billing job.",
        false,
    ),
    (
        "Ortho accepted the referral for Marguerite Fontaine (right hip OA), first avail 01/12/2027.",
        true,
    ),
    (
        "Thanks to Marguerite Fontaine for the referral of our new RN, who starts 01/12/2027!",
        false,
    ),
    // A care word that is the name's own is no care.
    (
        "Fun fact from Oliver Mole (our courier, starting 12/07/2026): he knows every clinic.",
        false,
    ),
    (
        "Fun fact: Oliver Mole (seen for a mole, 12/07/2026) is doing well.",
        true,
    ),
    // A clinician's own words for a visit.
    (
        "We saw Ms. Dolores Whitfield on 2/9/2025 for her hip.",
        true,
    ),
    (
        "I saw Kenneth Abara on Feb. 9th, 2025; labs to follow.",
        true,
    ),
    // The same verb at an event is not a visit.
    ("I saw Kenneth Abara at the conference on 2/9/2025.", false),
    ("Patient: Mrs. John Stewart\nDOB: 1962-10-19", true),
    ("Records for Johnnie Jacoby DOB 8/11/92", true),
    (
        "Patient Esteban Landreth, date of birth August 12, 2003",
        true,
    ),
    ("Nathaniel J. More had an office visit on 08/16/2025.", true),
    (
        "patient: Whitney Gutierrez; date of service: 2/19/24; dx: N39.0",
        true,
    ),
    ("Name: Anthony Riley\nDOB: August 2, 1966", true),
    ("Patient: Zephyrine Okonkwo-Baptiste\nDOB: 4 Mar 1965", true),
    ("Pt Xavi Quell, born 19650304", true),
    ("Stephanie Duncan was seen on 3/10/46", true),
    // Names and dates without birth/service/patient context.
    (
        "Norma Austin has invited you to Vendor review on September 03, 2025 at 03:00 PM.",
        false,
    ),
    (
        "From: Maria Cobb <mcobb@white.org>\nSent: Tuesday, August 12, 2025 09:23 AM\nTo: Mary Ellis",
        false,
    ),
    (
        "region: Utah; rep: Georgina Ness; date: March 19, 2024; units: 189",
        false,
    ),
    (
        "Flu shot clinic is on June 11, 2025 from 9 to 3. We expect about 120 patients.",
        false,
    ),
    (
        "Planned maintenance windows: 8 Apr 2024, September 22, 2024 and 4/20/25",
        false,
    ),
    (
        "Please welcome Woodrow Braxton, Phytotherapist, ext. 663",
        false,
    ),
    (
        "Please order exam table paper. Delivery by 8 Jun 2024.\n\n\nRebecca Young\nHorticultural consultant",
        false,
    ),
    (
        "Date of service: 2025-07-11\nPatient: Metts, Roberto\nThe claim is pending.",
        true,
    ),
    (
        "Edwards, Johnson and Owens Newsletter - February 13, 2024\n\nVisit letter where foot",
        false,
    ),
    // Every form of name and date practice mail uses.
    ("Patient JOHN SMITH, DOB Jan. 3rd, 2025", true),
    ("patient john smith dob 3 January 2025", true),
    ("Pt: Doe, Jane M. born the 14th of May 1978", true),
    ("DOB 2025-01-03 for Nguyen Thi Lan", true),
    ("Patient: O'Neil-Baptiste, Siobhan, D.O.B. 01/03/25", true),
    ("Patient Jos\u{e9} de la Cruz Jr. DOB 03.01.2025", true),
    (
        "Tuesday, March 3, 2026: Mohammed Al-Rashid was seen in clinic",
        true,
    ),
    // Hard negatives: reply attributions, forwarded headers, staff
    // news, invitations, providers.
    (
        "Thanks!\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jane Doe <jane@x.example> wrote:\n> see you at the visit",
        false,
    ),
    (
        "-----Original Message-----\nFrom: Jane Doe\nSent: Tuesday, March 3, 2026 9:14 AM\nSubject: appointment slots",
        false,
    ),
    (
        "---------- Forwarded message ---------\nFrom: Jane Doe <jane@x.example>\n\
         Date: 03/04/2026\nSubject: follow-up appointment\nTo: desk@clinic.example",
        false,
    ),
    // A form's "Date:" field is not a forwarded header.
    (
        "Visit note\nDate: 03/04/2026\nPatient: Ferhat Yilmaz\nReason: follow-up for hypertension",
        true,
    ),
    (
        "Happy birthday to Maria Lopez! Cake on March 3, 2026 in the break room.",
        false,
    ),
    (
        "Please welcome our new receptionist, Ann Lee, who starts on March 3, 2026.",
        false,
    ),
    (
        "Dr. Anna Patel is out on March 3, 2026; please move her appointments.",
        false,
    ),
    // A name written as one with an old date, and care named twice.
    (
        "Selin Aksoy, 1975-06-12, came in with a rash on both arms.",
        true,
    ),
    // A writer's own date of birth, and a colleague's birthday.
    (
        "Hi, this is Noor Rahimi, my birthday is 3/14/1985. I need to move my pap smear.",
        true,
    ),
    (
        "Her birthday is 3/14/1985, so we have cake for Noor Rahimi at 3 after the flu clinic.",
        false,
    ),
    // A date of birth in the languages practice mail also comes in.
    (
        "Le escribo por mi padre, Ximena Robles Ortiz, fecha de nacimiento 12/05/1944.",
        true,
    ),
    ("Patientin: Greta Vogel, Geburtsdatum 03.04.1951", true),
    // A form's name fields, a newborn's chart name, a vaccine given.
    (
        "First name: Thandiwe\nLast name: Mokoena\nDate of birth: 1988-07-21",
        true,
    ),
    (
        "Baby Girl Okafor, born 11/30/2026 at 3:14 am, 7 lb 2 oz",
        true,
    ),
    ("Imm record - Sofia Rossi (2019-03-15): MMR #2 given", true),
    ("Employee last name: Mokoena\nStart date: 01/05/2027", false),
    // The writer's own care; a named visit on a recent date written
    // as one with the name; a drug and a lab value.
    (
        "This is Tom Whitaker. I had my colonoscopy on 11/02/2026 and still have cramping.",
        true,
    ),
    (
        "Transport for Eleanor Whitcombe 12/07/2026 to dialysis, pickup 6:15 am.",
        true,
    ),
    (
        "Urgent: Wen Li, 04/05/1949, INR 4.8 today. Hold warfarin.",
        true,
    ),
    (
        "This is Tom Whitaker from Olympus. The colonoscope we repaired on 11/02/2026 ships today.",
        false,
    ),
    (
        "Shuttle for Eleanor Whitcombe 12/07/2026 to the airport, pickup 6:15 am.",
        false,
    ),
    // A visit someone makes is not care; the noun is.
    (
        "Hi team, Gloria Fuentes from Walgreens will visit 5/5/2026 to discuss the vaccine program.",
        false,
    ),
    (
        "Evander Holloway, 81, the building's owner, visited on 11/28/2026 to look at the roof.",
        false,
    ),
    (
        "Gloria Fuentes has a visit 5/5/2026 at 3 with Dr. Lin.",
        true,
    ),
    // A date written year first with its month's name.
    ("Pt: Rosa Ibarra  DOB 1962-Apr-03", true),
    ("Invoice 1962 for Rosa Ibarra, due 2026-Dec-03", false),
    (
        "La reunión con Ximena Robles Ortiz es el 12/05/2026 a las 10.",
        false,
    ),
    // A given name as its initial.
    ("J. Okafor, DOB 4/3/1962, called about his MRI.", true),
    ("Approved by J. Okafor on 4/3/2026.", false),
    // A kind of visit's results are someone's.
    (
        "RE: Maren Holt 8/19/1972 - mammogram results normal, letter mailed.",
        true,
    ),
    // Office life: a birthday's "born", staff out for their own
    // appointment, a talk presented, equipment serviced.
    (
        "Happy birthday to Luis Pereira, born 6/12/1990? Cake at 3!",
        false,
    ),
    (
        "Team, Rosa Delgado will be out 12/14/2026 for a dental appointment.",
        false,
    ),
    (
        "Wei Zhang presented the new EHR templates on 11/30/2026; slides attached.",
        false,
    ),
    (
        "Igor Sokolov (Philips) will service the ultrasound on 11/19/2026 from 8 to noon.",
        false,
    ),
    (
        "Webinar: coding updates with Jane Doe on March 3, 2026, register by Friday",
        false,
    ),
    // Mail to the patient, who is named only by the greeting: the
    // date is the reader's where the text speaks to the reader.
    (
        "Hi Maria,\n\nThis is a reminder of your appointment on Thursday, December 10, 2026.",
        true,
    ),
    (
        "Hi Tomasz,\n\nYour A1c from 11/24/2026 came back at 8.2.",
        true,
    ),
    // The greeting's twins: no care, care not the reader's, no greeting.
    (
        "Hi Maria,\n\nThis is a reminder of our staff meeting on Thursday, December 10, 2026.",
        false,
    ),
    (
        "Hi Tomasz,\n\nYour badge from 11/24/2026 was deactivated when the system updated.",
        false,
    ),
    (
        "Hi Maria,\n\nThe lab results from 11/24/2026 for the water test came back clean.",
        false,
    ),
    ("The visit, Maria, your appointment on 12/10/2026.", false),
    // A courtesy title speaks of a person as "her" does.
    (
        "Mrs. Ingrid Halvorsen has attended 6 of 8 physical therapy sessions since October 2, 2026.",
        true,
    ),
    (
        "Physical therapist Ingrid Halvorsen will talk about knee pain on October 2, 2026 at the library seminar.",
        false,
    ),
    // Care written for a named person, before the date; the same
    // words for a thing or with nothing of care.
    ("Pathology for Beatriz Whitcombe 11/18/2026", true),
    ("MRI results for KENNETH ABARA, 3/4/1961, attached", true),
    ("Slides for Beatriz Whitcombe 11/18/2026", false),
    (
        "Pathology department for Beatriz Whitcombe 11/18/2026",
        false,
    ),
    (
        "Pathology is short-staffed. For Beatriz Whitcombe 11/18/2026",
        false,
    ),
    // A verb of injury in the past, told of a person.
    ("Ava Thompson sprained her ankle on 12/1/2026.", true),
    // Care told to the reader ("your") is a person's, as "her" is.
    (
        "Hello Fernanda,\n\nYour pap smear from 11/10/2026 was normal.",
        true,
    ),
    (
        "Good morning Ngozi,\n\nYour ultrasound on 12/08/2026 is confirmed.",
        true,
    ),
    (
        "Hi Rajesh,\n\nDr. Ambrose sent your lisinopril refill to Walgreens today, 12/02/2026.",
        true,
    ),
    // ...but a care phrase that names a thing is a thing's, however
    // its first word reads alone ("flu" of "flu shot clinic").
    (
        "Hi Maria,\n\nYour flu shot clinic flyer is ready to print; the clinic is on 10/3/2026 in the lobby.",
        false,
    ),
    (
        "Hi Fernanda,\n\nYour CPR certification expires 12/31/2026. Please sign up for the renewal class.",
        false,
    ),
    (
        "Thank you, Ngozi Okafor, for covering prenatal intake calls at the desk on 12/08/2026.",
        false,
    ),
    // A lower-case name under a label or after "for": one listed part
    // is enough there, and a lower-case middle initial is an initial.
    ("Patient: daniela r. qorvath, seen 11/02/2026", true),
    (
        "Please send the MRI report for tomasz qelwinski 10/30/2026",
        true,
    ),
    (
        "Lunch order for maria and the front desk on 11/02/2026",
        false,
    ),
    ("we will page qorvath for the 11/02/2026 staff lunch", false),
    // A surname with its particle after a listed given name.
    ("Siobhan Mac Giollarnáth had an MRI on 11/04/2026.", true),
    ("Bridget Ó Raghallaigh had an x-ray 11/04/2026.", true),
    (
        "Mac Giollarnáth Catering had the lunch order on 11/04/2026.",
        false,
    ),
    // Care written for a name after the date.
    (
        "Could you pull the colonoscopy report from 10/14/2025 for Dariusz Qelwinski?",
        true,
    ),
    ("Flu shots for Staff Meeting 10/3/2026", false),
    (
        "The ultrasound machine from 10/14/2025 for Dariusz's office is back.",
        false,
    ),
    ("Pathology for Beatriz Oyelaran 11/18/2026", true),
    // A name that owns the care; a possessive ends the name.
    ("Mr. Abernathy-Quist's INR was 4.2 on 11/30/2026.", true),
    (
        "Mr. Abernathy-Quist's truck will block the lot on 11/30/2026.",
        false,
    ),
    // Lab tests are care.
    ("Hana Gutierrez's TSH came back at 8.9 on 11/28/2026.", true),
    (
        "Hana Gutierrez's TSH analyzer is due for calibration on 11/28/2026.",
        false,
    ),
    // Care given to a name: "has her", "underwent".
    (
        "Reminder: Lucinda Ferrante has her root canal Tuesday 12/08/2026 at 10:30.",
        true,
    ),
    (
        "Reminder: Lucinda Ferrante has her interview Tuesday 12/08/2026 at 10:30.",
        false,
    ),
    ("Martin Lowe underwent a lumbar fusion on 09/14/2026.", true),
    // A listed given name and a surname no list has, with care.
    (
        "Voicemail from Eero Jaaskelainen 12/01/2026 2:14pm re: MRI results, please call back.",
        true,
    ),
    (
        "Voicemail from Eero Jaaskelainen 12/01/2026 2:14pm re: copier lease, please call back.",
        false,
    ),
    // A value the care measured, between the care and its name.
    (
        "INR 3.8 for Dumisani Khumalo today (12/04/2026); hold tonight's dose.",
        true,
    ),
    (
        "Uptime 3.8 for Dumisani Khumalo today (12/04/2026); hold tonight's backup.",
        false,
    ),
    // A shot of something named, a well-child check, a patient roomed.
    (
        "B12 shot given to Ximena Quispe Mamani 12/03/2026, next due 01/03/2027.",
        true,
    ),
    (
        "Laptop given to Ximena Quispe Mamani 12/03/2026, next refresh due 01/03/2027.",
        false,
    ),
    (
        "4 yr WCC for Yusuf Haddad-Mansour moved to 12/15/2026, needs his boosters.",
        true,
    ),
    (
        "Annual review for Yusuf Haddad-Mansour moved to 12/15/2026, needs his goals form.",
        false,
    ),
    (
        "Roomed Kristjan Sepp at 9:05 on 12/04/2026, c/o dizziness x3 days.",
        true,
    ),
    (
        "Kristjan Sepp restocked room 4 at 9:05 on 12/04/2026, gloves and paper.",
        false,
    ),
    // Equipment a name ordered is a thing, not care.
    (
        "Karen Mbekweni ordered the MRI coil on 12/01/2026; it arrives next week.",
        false,
    ),
    (
        "Karen Miller ordered the ultrasound probe covers on 12/01/2026.",
        false,
    ),
    // Care told to a name as theirs.
    (
        "Please tell Ngaire Whitcombe her colonoscopy on 12/14/2026 needs the prep started.",
        true,
    ),
    (
        "Please tell Ngaire Whitcombe her parking permit on 12/14/2026 needs the form started.",
        false,
    ),
    (
        "Martin Lowe underwent a background check on 09/14/2026.",
        false,
    ),
    ("Gwen Parrish had a cavity filled on 11/02/2026.", true),
    (
        "Gwen Parrish had a great time at the 11/02/2026 offsite.",
        false,
    ),
    // A dose written for a name; a unit only after its number.
    (
        "PA approved for Ingrid Tveit: Humira 40mg q2wk, effective 11/15/2026.",
        true,
    ),
    (
        "PO approved for Ingrid Tveit: 40 toner cartridges, effective 11/15/2026.",
        false,
    ),
    (
        "Marcus Greene has anxiety and insomnia since 10/02/2026, started sertraline 50 mg.",
        true,
    ),
    (
        "Marcus Greene has his MG convertible in the shop until 10/02/2026.",
        false,
    ),
    // A part of the body is care; with a hyphen it describes a thing.
    (
        "Dagny Holm's knee ROM improved to 110 degrees on 11/30/2026.",
        true,
    ),
    ("Dagny Holm's knee-high boots arrived on 11/30/2026.", false),
    (
        "Dana Whitfield ran the data extraction on 11/30/2026 for the audit.",
        false,
    ),
    // A form is care's paperwork, as a report is.
    (
        "School physical form for Marisol Delacroix-Ng signed 10/14/2026, no restrictions.",
        true,
    ),
    (
        "Parking permit form for Marisol Delacroix-Ng signed 10/14/2026, space 12.",
        false,
    ),
    // What is scheduled, named and not care.
    (
        "Ms. Helga Sorensen is scheduled 01/12/2027 for the office move.",
        false,
    ),
    (
        "Ms. Helga Sorensen is scheduled 01/12/2027 for her mammogram.",
        true,
    ),
    // A biography's birthplace; the same with care is a record.
    (
        "Oskar Lindqvist, born June 4, 1958 in Gothenburg, founded the imaging supplier we use.",
        false,
    ),
    (
        "Oskar Lindqvist, born June 4, 1958 in Gothenburg, was admitted with chest pain.",
        true,
    ),
    // Care written for a name, where the text then speaks of the person.
    (
        "Rapid strep for Lucinda Xelhuatl, collected 12/02/2026, came back positive. She was told to stay home.",
        true,
    ),
    (
        "Name badge for Lucinda Xelhuatl, printed 12/02/2026, came back misspelled. She was told to wait.",
        false,
    ),
    // A stay in hospital is a date of service.
    (
        "Records of Harold Quimby's hospitalization 10/03/2026 arrived from Mercy.",
        true,
    ),
    (
        "Records of Harold Quimby's property survey 10/03/2026 arrived from the county.",
        false,
    ),
    // An order of care is care's paperwork, not commerce.
    (
        "Sleep study results for Harold Quimby from 11/21/2026: AHI 28. CPAP order faxed to the DME company.",
        true,
    ),
    (
        "Survey results for Harold Quimby from 11/21/2026: 28 replies. Paper order faxed to the company.",
        false,
    ),
    // Care given to a name; an order sent to one is commerce.
    (
        "Tdap administered to Ignacio Berrocal-Vidal on 09/30/2026, right deltoid.",
        true,
    ),
    (
        "Vaccine order sent to Ignacio Berrocal-Vidal on 09/30/2026, 40 doses.",
        false,
    ),
    // Care vouches for a name no list has; never for words of English.
    (
        "Ngozika Eberechi's INR was 4.1 on 12/01/2026; hold warfarin tonight.",
        true,
    ),
    (
        "Ngozika Eberechi's badge was reissued on 12/01/2026; shred the old one.",
        false,
    ),
    (
        "A1c results for Brightwater Pathology, sent 11/28/2026, were uploaded.",
        false,
    ),
    (
        "MRI report on Wirihana Tamatea (scan 11/17/2026): L5-S1 disc bulge.",
        true,
    ),
    (
        "Invoice on Wirihana Tamatea (sent 11/17/2026): five units of shelving.",
        false,
    ),
    (
        "Counseling session with Ezinne Obiora 11/24/2026, PHQ-9 = 14.",
        true,
    ),
    (
        "Budget session with Ezinne Obiora 11/24/2026, Q4 = 14k.",
        false,
    ),
    // A kind of visit booked for a name.
    (
        "Wiktoria Szczepaniak-Oyelaran is booked for colonoscopy 12/14/2026 at 7:30.",
        true,
    ),
    (
        "Wiktoria Szczepaniak-Oyelaran is booked for the boardroom 12/14/2026 at 7:30.",
        false,
    ),
    // A trip to the ER is a date of service; a repair of the body is
    // care, not maintenance.
    (
        "Priscilla Oyelowo-Hart went to the ER on 11/26/2026 with chest pain.",
        true,
    ),
    (
        "Priscilla Oyelowo-Hart went to the DMV on 11/26/2026 with her title.",
        false,
    ),
    (
        "Gwendolyn Ashworth, s/p ACL repair, last office visit 09/02/2026, doing well.",
        true,
    ),
    (
        "Gwendolyn Ashworth, roof repair, last office visit 09/02/2026 by the contractor.",
        false,
    ),
    // Anyone comes in; a patient comes in with a complaint.
    (
        "Gregory Whitcombe came in 11/30/2026 with a broken chair, temp fix placed, return for new one.",
        false,
    ),
    (
        "Gregory Whitcombe came in 10/05/2026 with a cracked tooth, temp filling placed.",
        true,
    ),
    // A surgery center is a place.
    (
        "Dr. Adeyemi wants to see Marianne Halvorsen back after her 12/01/2026 tour of the surgery center, for the donor wall.",
        false,
    ),
    (
        "Dr. Adeyemi wants to see Marianne Halvorsen back after her 12/01/2026 cataract surgery, post-op day 7.",
        true,
    ),
    // Spanish dates and care, as US practices write them.
    (
        "Paciente: Guadalupe Cuevas, fecha de nacimiento: 3 de mayo de 1980",
        true,
    ),
    (
        "La señora Marisela Ochoa llamó, tiene cita el 9 de diciembre de 2026 para su ultrasonido pero tiene fiebre.",
        true,
    ),
    (
        "La señora Marisela Ochoa llamó, tiene junta el 9 de diciembre de 2026 para su contrato pero tiene otra reunión.",
        false,
    ),
    (
        "Lorem ipsum dolor sit amet, Marisela Ochoa, 9 de diciembre de 2026, consectetur adipiscing.",
        false,
    ),
];

#[test]
fn table() {
    for (text, fires) in CASES {
        let r = scan_text(text);
        assert_eq!(
            r.categories.iter().any(|c| c.as_str() == "name_date"),
            *fires,
            "{text}: {:#?}",
            r.findings
        );
    }
}

/// A reply about the person its Subject names: the care in it is that
/// person's, when it speaks of a person and no other name is near.
#[test]
fn a_thread_about_a_person_named_in_its_subject() {
    let scan = |subject: &str, body: &str| {
        let raw = format!("Subject: {subject}\r\nContent-Type: text/plain\r\n\r\n{body}\r\n");
        crate::tests::engine()
            .scan(raw.as_bytes())
            .categories
            .iter()
            .any(|c| c.as_str() == "name_date")
    };
    let care = "Her MRI from Nov 3, 2026 shows a small meniscal tear. Ortho consult ordered.";
    assert!(scan("Re: Lucinda Ferrante", care));
    assert!(scan("FW: RE: FERRANTE, LUCINDA", care));
    // A name no list has, and no word of English.
    assert!(scan("Re: Ngozika Eberechi", care));
    assert!(!scan("Re: Brightwater Pathology", care));
    // Not when the Subject says more than a name, or the body has no
    // care, or speaks of no person.
    assert!(!scan("Re: Lucinda Ferrante's desk move", care));
    assert!(!scan(
        "Re: Lucinda Ferrante",
        "Her reference check from Nov 3, 2026 came back fine."
    ));
    assert!(!scan(
        "Re: Lucinda Ferrante",
        "The MRI from Nov 3, 2026 was recalibrated by the vendor."
    ));
    assert!(!scan(
        "Re: Lucinda Ferrante",
        "Her MRI training on Nov 3, 2026 is at the vendor's office."
    ));
}

/// Found by fuzzing: a care word that begins before the window it
/// ends in.
#[test]
fn a_care_word_across_the_window_edge_is_safe() {
    for pad in 60..100 {
        let text = format!("Ann Lee headache{} 03/04/2026", " ".repeat(pad));
        let _ = scan_text(&text);
    }
}

#[test]
fn preview_hides_the_name_and_the_date() {
    let r = scan_text("Patient: Mrs. John Stewart\nDOB: 1962-10-19");
    let f = r
        .findings
        .iter()
        .find(|f| f.category.as_str() == "name_date")
        .unwrap();
    assert_eq!(f.preview, "M**. J*** S****** + **/**/****");
    assert!(!f.why.contains("Stewart"));
}

/// A month and a day stand as a date unless numbers or a share go with
/// them; a word after them that only begins like one ("then", "the")
/// does not make them a share.
#[test]
fn a_day_of_the_year_or_a_share() {
    // The text, and the candidate in it.
    let day = |t: &str, d: &str| {
        let s = t.find(d).unwrap();
        super::a_day_of_the_year(t, s, s + d.len())
    };
    assert!(day("seen 12/4 then referred", "12/4"));
    assert!(day("seen 12/4 the rash was worse", "12/4"));
    assert!(day("seen 12/4 for a rash", "12/4"));
    assert!(day("last seen 06/2024 for diabetes", "06/2024"));
    assert!(!day("take 1 1/2 tabs", "1/2"));
    assert!(!day("add 3/4 cups of flour", "3/4"));
    assert!(!day("ran 2/3 of the shifts", "2/3"));
    assert!(!day("the 2/3rds rule", "2/3"));
    // A share is a fraction; a dose on a day is not one.
    assert!(!day("give 1/2 dose tonight", "1/2"));
    assert!(day("the 12/1 dose gave him hives", "12/1"));
    assert!(day("her 11/28 tablets ran out", "11/28"));
    assert!(!day("at 10/12/2026", "10/12"));
}

/// A reply attribution is read near its date; a date deep in a long line
/// does not read the line from its start (every date of a long line
/// did, which made a line of many dates quadratic).
#[test]
fn a_header_line_is_read_only_near_its_date() {
    use super::phrases::mail_header_line;
    let attribution = "On Tue, Mar 3, 2026 at 9:14 AM Jane Doe <jane@x.example> wrote:";
    assert!(mail_header_line(attribution, 8));
    let long = format!("On {} 3/4/2026 wrote", "x ".repeat(300));
    assert!(!mail_header_line(&long, long.find("3/4").unwrap()));
    let header = "From: a@b.example\nDate: 3/4/2026\nSubject: x";
    assert!(mail_header_line(header, header.find("3/4").unwrap()));
}
