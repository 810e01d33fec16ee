//! Dates in the common written forms, validated (month 1-12, day fits).

use crate::patterns::Kind;

/// A calendar date; the year may be two-digit, or not written at all; the
/// day may be left out ("06/2024").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year as written (two-digit years are not expanded); `None` when
    /// the date has none ("12/4").
    pub year: Option<u16>,
    /// 1-12
    pub month: u8,
    /// 1-31; `None` when the date names only a month of a year.
    pub day: Option<u8>,
}

/// The month an English or Spanish month name (or abbreviation) names.
fn month_number(word: &str) -> Option<u8> {
    english_month(word).or_else(|| spanish_month(word))
}

/// English month names, January first.
const ENGLISH_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn english_month(word: &str) -> Option<u8> {
    month_in(word, &ENGLISH_MONTHS, ("sept", 9))
}

fn spanish_month(word: &str) -> Option<u8> {
    const FULL: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    month_in(word, &FULL, ("setiembre", 9))
}

/// The month (1-12) of `names`, January first, that `word` is the name of
/// or an abbreviation of (three letters or more, a period allowed); `also`
/// is one more spelling and its month.
fn month_in(word: &str, names: &[&str; 12], also: (&str, u8)) -> Option<u8> {
    let w = word.trim_end_matches('.').as_bytes();
    if w.len() < 3 {
        return None;
    }
    let abbreviates =
        |full: &str| w.len() <= full.len() && full.as_bytes()[..w.len()].eq_ignore_ascii_case(w);
    // Every word of a text near a date is asked; most are no month, and
    // their first three letters say so (no two months share them).
    let head = [w[0], w[1], w[2]].map(|b| b.to_ascii_lowercase());
    names
        .iter()
        .position(|full| full.as_bytes()[..3] == head)
        .filter(|&m| abbreviates(names[m]))
        .map(|m| m as u8 + 1)
        .or_else(|| abbreviates(also.0).then_some(also.1))
}

fn days_in(month: u8, year: Option<u16>) -> u8 {
    match month {
        2 if year.is_none_or(|year| {
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
                || year < 100
        }) =>
        {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn make(year: u16, month: u8, day: u8) -> Option<Date> {
    let year_ok = year < 100 || (1880..=2100).contains(&year);
    (year_ok && (1..=12).contains(&month) && day >= 1 && day <= days_in(month, Some(year)))
        .then_some(Date {
            year: Some(year),
            month,
            day: Some(day),
        })
}

/// A month of a year with no day (a four-digit year).
fn month_year(month: u8, year: u16) -> Option<Date> {
    ((1880..=2100).contains(&year) && (1..=12).contains(&month)).then_some(Date {
        year: Some(year),
        month,
        day: None,
    })
}

/// A month and a day with no year (any day a year can have).
fn month_day(month: u8, day: u8) -> Option<Date> {
    ((1..=12).contains(&month) && day >= 1 && day <= days_in(month, None)).then_some(Date {
        year: None,
        month,
        day: Some(day),
    })
}

/// Whether `word` is an English month name or an abbreviation of one.
/// (Spanish ones are dates' only within a date: "Abril" is as often a
/// given name.)
pub fn is_month(word: &str) -> bool {
    word.len() >= 3 && english_month(word).is_some()
}

/// Parses a date candidate of the given kind.
pub fn parse(kind: Kind, s: &str) -> Option<Date> {
    // The numbers in the candidate (a date has at most three; more and it
    // is not one of ours).
    let mut nums = [0u16; 3];
    let mut count = 0;
    for p in s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
    {
        match p.parse() {
            Ok(n) if count < 3 => nums[count] = n,
            // Too many numbers, or one too long: only the compact forms,
            // which read the digits themselves, can still be a date.
            _ => {
                count = 4;
                break;
            }
        }
        count += 1;
    }
    let nums = if count <= 3 { &nums[..count] } else { &[][..] };
    let word = || {
        s.split(|c: char| !c.is_ascii_alphabetic() && c != '.')
            .map(|w| w.trim_matches('.'))
            .find(|w| month_number(w).is_some())
    };
    match kind {
        Kind::DateNumeric => {
            let [a, b, c] = *nums else { return None };
            let first_len = s
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if first_len == 4 {
                make(a, b as u8, c as u8)
            } else {
                // US month/day first; day/month when that is the only reading.
                make(c, a as u8, b as u8).or_else(|| make(c, b as u8, a as u8))
            }
        }
        Kind::DateCompact => {
            let d = s.trim();
            make(
                d[0..4].parse().ok()?,
                d[4..6].parse().ok()?,
                d[6..8].parse().ok()?,
            )
        }
        Kind::DateMonthFirst => {
            let m = month_number(word()?)?;
            let [day, year] = *nums else { return None };
            make(year, m, day as u8)
        }
        Kind::DateDayFirst => {
            let m = month_number(word()?)?;
            let [day, year] = *nums else { return None };
            // Year first ("1965-Mar-04"): a four-digit number comes first.
            let (day, year) = if day > 31 { (year, day) } else { (day, year) };
            make(year, m, day as u8)
        }
        Kind::DateCompactMonth => {
            let d = s.trim();
            let letters = d.find(|c: char| c.is_ascii_alphabetic())?;
            let day: u8 = d[..letters].parse().ok()?;
            let m = month_number(&d[letters..letters + 3])?;
            make(d[letters + 3..].parse().ok()?, m, day)
        }
        Kind::DateNoYear => {
            let [month, day] = *nums else { return None };
            month_day(month as u8, day as u8)
        }
        Kind::DateMonthYear => {
            let [month, year] = *nums else { return None };
            month_year(month as u8, year)
        }
        Kind::DateNameNoYear => {
            let m = month_number(word()?)?;
            let [day] = *nums else { return None };
            month_day(m, day as u8)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::*;

    /// Every abbreviation of every month, in any case, with a period or
    /// without, names its month; a word that only shares a month's first
    /// letters does not.
    #[test]
    fn months_by_any_abbreviation() {
        for (m, full) in ENGLISH_MONTHS.iter().enumerate() {
            for n in 3..=full.len() {
                let w = &full[..n];
                for form in [
                    w.to_string(),
                    w.to_uppercase(),
                    format!("{}{}.", &w[..1].to_uppercase(), &w[1..]),
                ] {
                    assert_eq!(english_month(&form), Some(m as u8 + 1), "{form}");
                }
            }
        }
        assert_eq!(spanish_month("dic"), Some(12));
        assert_eq!(spanish_month("Setiembre"), Some(9));
        assert_eq!(english_month("Sept"), Some(9));
        for no in ["Mat", "Jux", "Septa", "Ma", "Augusta", "Decembers", "Junk"] {
            assert_eq!(english_month(no), None, "{no}");
        }
    }

    /// A month and a day alone: any day a year can have.
    #[test]
    fn no_year() {
        let md = |m, d| {
            Some(Date {
                year: None,
                month: m,
                day: Some(d),
            })
        };
        assert_eq!(parse(DateNoYear, "12/4"), md(12, 4));
        assert_eq!(parse(DateNoYear, "2/29"), md(2, 29));
        assert_eq!(parse(DateNoYear, "2/30"), None);
        assert_eq!(parse(DateNoYear, "13/4"), None);
        assert_eq!(parse(DateNoYear, "4/0"), None);
        let my = |m, y| {
            Some(Date {
                year: Some(y),
                month: m,
                day: None,
            })
        };
        assert_eq!(parse(DateMonthYear, "06/2024"), my(6, 2024));
        assert_eq!(parse(DateMonthYear, "6/1999"), my(6, 1999));
        assert_eq!(parse(DateMonthYear, "13/2024"), None);
        // By the month's name.
        assert_eq!(parse(DateNameNoYear, "Dec. 3rd"), md(12, 3));
        assert_eq!(parse(DateNameNoYear, "14th of May"), md(5, 14));
        assert_eq!(parse(DateNameNoYear, "30 February"), None);
    }

    #[test]
    fn forms() {
        let d = |y, m, d| {
            Some(Date {
                year: Some(y),
                month: m,
                day: Some(d),
            })
        };
        assert_eq!(parse(DateNumeric, "03/04/1965"), d(1965, 3, 4));
        assert_eq!(parse(DateNumeric, "1965-03-04"), d(1965, 3, 4));
        assert_eq!(parse(DateNumeric, "8/11/92"), d(92, 8, 11));
        assert_eq!(parse(DateNumeric, "25.12.1990"), d(1990, 12, 25));
        assert_eq!(parse(DateNumeric, "13/13/1990"), None);
        assert_eq!(parse(DateNumeric, "2/30/1990"), None);
        assert_eq!(parse(DateCompact, "19650304"), d(1965, 3, 4));
        assert_eq!(parse(DateMonthFirst, "March 4, 1965"), d(1965, 3, 4));
        assert_eq!(parse(DateMonthFirst, "Sept. 3rd 2024"), d(2024, 9, 3));
        assert_eq!(parse(DateDayFirst, "4th of March, 1965"), d(1965, 3, 4));
        assert_eq!(parse(DateDayFirst, "04-MAR-65"), d(65, 3, 4));
        assert_eq!(parse(DateDayFirst, "1965-Mar-04"), d(1965, 3, 4));
        assert_eq!(parse(DateDayFirst, "1965 MARCH 4"), d(1965, 3, 4));
        assert_eq!(parse(DateDayFirst, "1965-Mar-65"), None);
        assert_eq!(parse(DateMonthFirst, "Mayday 4, 1965"), None);
        assert_eq!(parse(DateMonthFirst, "Mar-04-1965"), d(1965, 3, 4));
        assert_eq!(parse(DateCompactMonth, "04MAR1965"), d(1965, 3, 4));
        // Spanish, as US practices write it too.
        assert_eq!(parse(DateDayFirst, "3 de mayo de 1980"), d(1980, 5, 3));
        assert_eq!(
            parse(DateDayFirst, "9 de diciembre del 2026"),
            d(2026, 12, 9)
        );
        assert_eq!(parse(DateDayFirst, "14 ene 2027"), d(2027, 1, 14));
        assert_eq!(parse(DateDayFirst, "1 setiembre 2026"), d(2026, 9, 1));
        assert!(!is_month("Abril"));
    }
}
