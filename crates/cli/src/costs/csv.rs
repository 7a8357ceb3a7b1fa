//! `costs --format csv`: one tidy table, a line per report, currency,
//! period and group (or, with `--compare`, per changed group), amounts with
//! every digit the results stated, ready for a spreadsheet or `COPY`.

use costform_planner::costs::{ChangeKind, CostTable};

use super::CostsView;

/// The view as CSV. Written with the `csv` crate: group names from Atlas
/// may hold commas, quotes and line breaks.
pub fn render(view: &CostsView) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if view.comparisons.is_empty() {
        writer.write_record([
            "report",
            "currency",
            "dimension",
            "rows_are",
            "row",
            "column",
            "amount",
        ])?;
        for table in &view.tables {
            write_table(&mut writer, table)?;
        }
    } else {
        writer.write_record([
            "report",
            "currency",
            "dimension",
            "period",
            "baseline_period",
            "group",
            "before",
            "after",
            "change",
            "percent",
            "kind",
        ])?;
        for comparison in &view.comparisons {
            for change in &comparison.changes {
                let optional = |amount: Option<_>| {
                    amount
                        .map(|a: costform_model::cost_rows::Decimal| a.to_string())
                        .unwrap_or_default()
                };
                writer.write_record([
                    comparison.report.as_str(),
                    &comparison.currency,
                    &comparison.dimension,
                    &comparison.period,
                    &comparison.baseline_period,
                    &change.group,
                    &optional(change.before),
                    &optional(change.after),
                    &change.change.to_string(),
                    &optional(change.percent.map(|percent| percent.round_dp(4))),
                    match change.kind {
                        ChangeKind::Changed => "changed",
                        ChangeKind::New => "new",
                        ChangeKind::Gone => "gone",
                    },
                ])?;
            }
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(csv::IntoInnerError::into_error)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write_table(writer: &mut csv::Writer<Vec<u8>>, table: &CostTable) -> Result<(), csv::Error> {
    for row in &table.rows {
        for (column, amount) in table.columns.iter().zip(&row.cells) {
            let Some(amount) = amount else { continue };
            writer.write_record([
                table.report.as_str(),
                &table.currency,
                &table.dimension,
                &table.rows_are,
                &row.label,
                column,
                &amount.to_string(),
            ])?;
        }
    }
    Ok(())
}
