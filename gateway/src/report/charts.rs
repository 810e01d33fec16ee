//! The report's charts: SVG drawn with plotters (no JavaScript, no fonts
//! needed; the text is SVG text), returned as strings to inline.

use std::collections::BTreeMap;

use plotters::prelude::*;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 260;

/// Colours for series, in order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

/// Daily messages (bars) with the PHI ones drawn over them.
pub fn daily(month: &str, days: &BTreeMap<String, (u64, u64)>) -> String {
    let n = days_in(month);
    let top = days.values().map(|(m, _)| *m).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("Messages per day (red: with PHI)", ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d((1u32..n).into_segmented(), 0u64..top + top / 5 + 1)
        else {
            return svg_error();
        };
        let _ = chart.configure_mesh().x_desc("day").draw();
        let count = |i: usize| {
            move |(d, v): (&String, &(u64, u64))| {
                let day: u32 = d.get(8..10).and_then(|x| x.parse().ok()).unwrap_or(1);
                (day, if i == 0 { v.0 } else { v.1 })
            }
        };
        for (i, colour) in PALETTE.iter().take(2).enumerate() {
            let _ = chart.draw_series(
                Histogram::vertical(&chart)
                    .style(colour.filled())
                    .margin(2)
                    .data(days.iter().map(count(i))),
            );
        }
        let _ = root.present();
    }
    svg
}

/// Recipients' outcomes per day, one line per outcome.
pub fn outcomes(month: &str, days: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let n = days_in(month);
    let mut kinds: Vec<&String> = days.values().flat_map(|m| m.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let top = days
        .values()
        .flat_map(|m| m.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("Recipient outcomes per day", ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(1u32..n, 0u64..top + top / 5 + 1)
        else {
            return svg_error();
        };
        let _ = chart.configure_mesh().x_desc("day").draw();
        for (i, kind) in kinds.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let points: Vec<(u32, u64)> = (1..n)
                .map(|d| {
                    let key = format!("{month}-{d:02}");
                    let v = days.get(&key).and_then(|m| m.get(*kind)).copied();
                    (d, v.unwrap_or(0))
                })
                .collect();
            if let Ok(series) = chart.draw_series(LineSeries::new(points, colour.stroke_width(2))) {
                series
                    .label(kind.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

/// A horizontal bar per entry, largest first (rules, categories,
/// destinations by protection).
pub fn bars(title: &str, values: &BTreeMap<String, u64>) -> String {
    let mut items: Vec<(&String, &u64)> = values.iter().collect();
    items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    items.truncate(10);
    let top = items.first().map_or(1, |(_, v)| **v).max(1);
    let rows = items.len().max(1) as u32;
    let height = 60 + rows * 26;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let _ = root.draw(&Text::new(
            title.to_string(),
            (10, 8),
            ("sans-serif", 15).into_font(),
        ));
        let left = 230i32;
        let span = (WIDTH as i32 - left - 70) as f64;
        for (i, (label, v)) in items.iter().enumerate() {
            let y = 40 + i as i32 * 26;
            let w = ((**v as f64 / top as f64) * span).round() as i32;
            let colour = PALETTE[i % PALETTE.len()];
            let _ = root.draw(&Text::new(
                truncate(label, 32),
                (10, y + 4),
                ("sans-serif", 13).into_font(),
            ));
            let _ = root.draw(&Rectangle::new(
                [(left, y), (left + w.max(1), y + 18)],
                colour.filled(),
            ));
            let _ = root.draw(&Text::new(
                v.to_string(),
                (left + w.max(1) + 6, y + 4),
                ("sans-serif", 13).into_font(),
            ));
        }
        let _ = root.present();
    }
    svg
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

/// One past the number of days in `month` (`YYYY-MM`), for ranges.
fn days_in(month: &str) -> u32 {
    let (y, m) = month.split_once('-').unwrap_or(("1970", "01"));
    let (y, m): (i32, u32) = (y.parse().unwrap_or(1970), m.parse().unwrap_or(1));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    days + 1
}

fn svg_error() -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_data() {
        let mut days = BTreeMap::new();
        days.insert("2026-11-03".to_string(), (5, 2));
        days.insert("2026-11-04".to_string(), (3, 0));
        let svg = daily("2026-11", &days);
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{svg}");
        assert!(svg.contains("Messages per day"));
        let mut rules = BTreeMap::new();
        rules.insert("default.phi".to_string(), 7);
        rules.insert("payer-claims".to_string(), 2);
        let svg = bars("Decisions by rule", &rules);
        assert!(
            svg.contains("default.phi") && svg.contains("\n7\n"),
            "{svg}"
        );
        assert_eq!(days_in("2024-02"), 30);
        assert_eq!(days_in("2026-11"), 31);
    }
}
