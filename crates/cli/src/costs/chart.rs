//! Stacked bars of spend per period by group, drawn as SVG with `plotters`
//! for the HTML page. Amounts become floats only here, as pixel heights;
//! every figure printed beside the chart is exact.

use costform_model::cost_rows::Decimal;
use costform_planner::costs::CostTable;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;

/// More groups than this are drawn as the largest ones plus "other", so the
/// colours stay tellable apart.
pub const MAX_SERIES: usize = 9;

/// The bars of one chart: periods along the x axis, one stacked series per
/// group.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// The periods, in order.
    pub periods: Vec<String>,
    /// Each group's name and its amount per period.
    pub series: Vec<(String, Vec<Decimal>)>,
    /// The currency, for the amount axis.
    pub currency: String,
}

impl Bars {
    /// The bars of a table, whichever way round it is laid out; the largest
    /// groups first, the rest added up as "other".
    pub fn from_table(table: &CostTable) -> Self {
        let by_period = table.rows_are == "month" || table.rows_are == "day";
        let (periods, mut series): (Vec<String>, Vec<(String, Vec<Decimal>)>) = if by_period {
            let periods = table.rows.iter().map(|row| row.label.clone()).collect();
            let series = table
                .columns
                .iter()
                .enumerate()
                .map(|(index, group)| {
                    let amounts = table
                        .rows
                        .iter()
                        .map(|row| row.cells[index].unwrap_or_default())
                        .collect();
                    (group.clone(), amounts)
                })
                .collect();
            (periods, series)
        } else {
            let series = table
                .rows
                .iter()
                .map(|row| {
                    let amounts = row
                        .cells
                        .iter()
                        .map(|cell| cell.unwrap_or_default())
                        .collect();
                    (row.label.clone(), amounts)
                })
                .collect();
            (table.columns.clone(), series)
        };
        let total = |amounts: &Vec<Decimal>| amounts.iter().sum::<Decimal>();
        series.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then_with(|| a.0.cmp(&b.0)));
        if series.len() > MAX_SERIES {
            let rest = series.split_off(MAX_SERIES - 1);
            let mut other = vec![Decimal::ZERO; periods.len()];
            for (_, amounts) in &rest {
                for (sum, amount) in other.iter_mut().zip(amounts) {
                    *sum += *amount;
                }
            }
            series.push((format!("other ({} groups)", rest.len()), other));
        }
        Self {
            periods,
            series,
            currency: table.currency.clone(),
        }
    }
}

/// The colour of series `index`, shared by the bars and the HTML legend.
pub fn color(index: usize) -> RGBColor {
    let (red, green, blue) = Palette99::pick(index).rgb();
    RGBColor(red, green, blue)
}

/// The colour of series `index` as CSS.
pub fn css_color(index: usize) -> String {
    let RGBColor(red, green, blue) = color(index);
    format!("#{red:02x}{green:02x}{blue:02x}")
}

/// The chart as an SVG element.
pub fn svg(bars: &Bars) -> Result<String, String> {
    let mut out = String::new();
    let width = u32::try_from(120 + bars.periods.len() * 70)
        .unwrap_or(u32::MAX)
        .clamp(360, 1200);
    {
        let root = SVGBackend::with_string(&mut out, (width, 320)).into_drawing_area();
        draw(&root, bars).map_err(|error| error.to_string())?;
        root.present().map_err(|error| error.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    bars: &Bars,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let heights: Vec<f64> = (0..bars.periods.len())
        .map(|period| {
            bars.series
                .iter()
                .map(|(_, amounts)| amounts[period])
                .sum::<Decimal>()
                .to_f64()
                .unwrap_or_default()
        })
        .collect();
    let top = heights.iter().copied().fold(0.0, f64::max).max(1.0) * 1.1;
    let periods = bars.periods.clone();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(72)
        // A segmented range `0..last` has one segment per value, `last`'s included.
        .build_cartesian_2d(
            (0..bars.periods.len().saturating_sub(1)).into_segmented(),
            0.0..top,
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(bars.periods.len())
        .y_desc(bars.currency.as_str())
        .y_label_formatter(&|value| format!("{value:.0}"))
        .x_label_formatter(&|value| match value {
            SegmentValue::CenterOf(index) => periods.get(*index).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    for period in 0..bars.periods.len() {
        let mut base = 0.0;
        for (index, (_, amounts)) in bars.series.iter().enumerate() {
            let height = amounts[period].to_f64().unwrap_or_default();
            if height <= 0.0 {
                continue;
            }
            let bar = Rectangle::new(
                [
                    (SegmentValue::Exact(period), base),
                    (SegmentValue::Exact(period + 1), base + height),
                ],
                color(index).filled(),
            );
            let mut bar = bar;
            bar.set_margin(0, 0, 6, 6);
            chart.draw_series(std::iter::once(bar))?;
            base += height;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use costform_planner::costs::{Axis, tables};

    use super::*;
    use crate::costs::test_row;

    #[test]
    fn many_groups_fold_into_other_and_the_svg_has_one_rect_per_piece() {
        let rows: Vec<_> = (0..12)
            .flat_map(|group| {
                ["2026-09", "2026-10"].map(|month| {
                    test_row(
                        "r",
                        month,
                        &format!("g{group:02}"),
                        &format!("{}", 10 + group),
                    )
                })
            })
            .collect();
        let table = &tables(&rows, Axis::Month)[0];
        let bars = Bars::from_table(table);
        assert_eq!(bars.series.len(), MAX_SERIES);
        assert_eq!(bars.series[0].0, "g11");
        assert_eq!(bars.series[MAX_SERIES - 1].0, "other (4 groups)");
        assert_eq!(bars.series[MAX_SERIES - 1].1[0].to_string(), "46");
        let svg = svg(&bars).expect("an svg");
        assert!(svg.starts_with("<svg"));
        let filled = svg
            .matches(&format!("fill=\"{}\"", css_color(0).to_uppercase()))
            .count();
        assert_eq!(filled, 2, "one piece per period for the largest group");
        assert!(
            svg.contains(">\n2026-10\n<") || svg.contains(">2026-10<"),
            "period labels"
        );
    }
}
