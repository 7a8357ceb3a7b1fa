//! Plain aligned columns for the terminal: the first column left-aligned
//! (labels), the others right-aligned (amounts), two spaces apart.

/// The rows laid out under `header`, one line each, ending in a newline.
pub fn layout(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in rows {
        for (index, text) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(text.chars().count());
            }
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (index, text) in row.iter().enumerate() {
            let width = widths.get(index).copied().unwrap_or_default();
            let pad = " ".repeat(width.saturating_sub(text.chars().count()));
            if index == 0 {
                line.push_str(text);
                line.push_str(&pad);
            } else {
                line.push_str("  ");
                line.push_str(&pad);
                line.push_str(text);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::layout;

    #[test]
    fn labels_left_amounts_right() {
        let header = vec!["month".to_owned(), "api".to_owned()];
        let rows = vec![
            vec!["2026-10".to_owned(), "1,000.00".to_owned()],
            vec!["total".to_owned(), "5.00".to_owned()],
        ];
        assert_eq!(
            layout(&header, &rows),
            "month         api\n2026-10  1,000.00\ntotal        5.00\n"
        );
    }
}
