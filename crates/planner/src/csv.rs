//! Just enough CSV to read Atlas's usage exports: comma separated, fields
//! optionally in double quotes, `""` for a quote inside quotes, line breaks
//! allowed inside quotes. Empty records are skipped.

/// The records of `text`, each a list of fields.
pub(crate) fn records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => finish(&mut records, &mut record, &mut field),
            _ => field.push(c),
        }
    }
    finish(&mut records, &mut record, &mut field);
    records
}

/// Ends the current record, keeping it unless it is a blank line.
fn finish(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: &mut String) {
    record.push(std::mem::take(field));
    let record = std::mem::take(record);
    if record.len() > 1 || record.first().is_some_and(|only| !only.trim().is_empty()) {
        records.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::records;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let text = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",3\n";
        assert_eq!(
            records(text),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["x, y".to_owned(), "say \"hi\"".to_owned()],
                vec!["two\nlines".to_owned(), "3".to_owned()],
            ]
        );
    }

    #[test]
    fn a_missing_final_newline_still_ends_the_record() {
        assert_eq!(
            records("h\n1"),
            vec![vec!["h".to_owned()], vec!["1".to_owned()]]
        );
    }
}
