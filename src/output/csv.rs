//! CSV for spreadsheets: RFC 4180 quoting, and formula injection defused —
//! a cell starting with `=`, `+`, `-`, `@`, TAB or CR (or their full-width
//! forms) gets a leading `'`, so a spam subject cannot run as a formula.
//! `--excel` adds a UTF-8 BOM and CRLF line ends. Columns come from the row
//! type's serde fields, the same as the JSON keys.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

/// Writes rows of `T` with a header taken from `T::default()`'s fields.
pub fn write<T: Serialize + Default>(
    w: &mut dyn Write,
    rows: &[T],
    excel: bool,
) -> std::io::Result<()> {
    if excel {
        w.write_all("\u{feff}".as_bytes())?;
    }
    let mut cw = csv::WriterBuilder::new()
        .terminator(if excel {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(w);
    let header = match serde_json::to_value(T::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    cw.write_record(&header)?;
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    for row in rows {
        cells.clear();
        if let Ok(Value::Object(m)) = serde_json::to_value(row) {
            cells.extend(m.into_iter().map(|(_, v)| cell(v)));
        }
        cw.write_record(&cells)?;
    }
    cw.flush()?;
    Ok(())
}

fn cell(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => neutralize(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => neutralize(a.into_iter().map(cell).collect::<Vec<_>>().join(" ")),
        Value::Object(_) => neutralize(v.to_string()),
    }
}

/// Prefixes `'` to a cell a spreadsheet would read as a formula.
pub fn neutralize(s: String) -> String {
    const DANGEROUS: &[char] = &['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    match s.chars().next() {
        Some(c) if DANGEROUS.contains(&c) => format!("'{s}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Default)]
    struct Row {
        a: String,
        b: Option<u16>,
    }

    #[test]
    fn formulas_are_defused_and_quoted() {
        let rows = vec![
            Row {
                a: "=HYPERLINK(\"x\")".into(),
                b: Some(1),
            },
            Row {
                a: "＝1+1".into(),
                b: None,
            },
            Row {
                a: "a,b\n\"c\"".into(),
                b: None,
            },
            Row {
                a: "-5".into(),
                b: None,
            },
        ];
        let mut out = Vec::new();
        write(&mut out, &rows, false).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "a,b\n\"'=HYPERLINK(\"\"x\"\")\",1\n'＝1+1,\n\"a,b\n\"\"c\"\"\",\n'-5,\n"
        );
    }

    #[test]
    fn excel_has_bom_and_crlf() {
        let mut out = Vec::new();
        write(
            &mut out,
            &[Row {
                a: "x".into(),
                b: None,
            }],
            true,
        )
        .unwrap();
        assert!(out.starts_with("\u{feff}a,b\r\n".as_bytes()));
        assert!(out.ends_with(b"x,\r\n"));
    }
}
