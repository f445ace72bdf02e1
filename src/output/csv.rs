//! CSV for spreadsheets: RFC 4180 quoting, and formula injection defused —
//! a cell starting with `=`, `+`, `-`, `@`, TAB or CR (or their full-width
//! forms) gets a leading `'`, so a spam subject cannot run as a formula.
//! `--excel` adds a UTF-8 BOM and CRLF line ends. Columns are the row type's
//! serde fields, the same as the JSON keys: one schema for every writer.
//!
//! Cells are serialized straight into one reusable output buffer (no
//! `String` per cell, no dynamic `Write` call per field): this writer runs
//! for every timeline row. Quoting is the `csv` crate's default
//! (`QuoteStyle::Necessary`): a cell is quoted when it holds `,`, `"`, CR or
//! LF, with `"` doubled inside; a record of one empty cell is written `""`.

use std::io::Write;

use serde::ser::{self, Impossible, Serialize};

/// Writes rows of `T` with a header taken from `T`'s field names. Rows are
/// encoded in blocks on all threads and written in order
/// (`super::write_blocks`): the bytes of a sequential run.
pub fn write<T: Serialize + Default + Sync>(
    w: super::Out<'_>,
    rows: &[T],
    excel: bool,
) -> std::io::Result<()> {
    let mut cells = Cells::default();
    if excel {
        cells.out.extend_from_slice("\u{feff}".as_bytes());
    }
    let terminator: &[u8] = if excel { b"\r\n" } else { b"\n" };
    // The header: the field names of a default row.
    cells.header = true;
    T::default()
        .serialize(&mut cells)
        .map_err(std::io::Error::other)?;
    let columns = cells.fields;
    cells.end_record(terminator);
    w.write_all(&cells.out)?;
    super::write_blocks(w, rows, |block, out| {
        let mut cells = Cells {
            out: std::mem::take(out),
            ..Cells::default()
        };
        let done = encode_rows(&mut cells, block, columns, terminator);
        *out = cells.out;
        done
    })
}

/// Encodes rows into `cells.out`, each with the header's number of fields.
fn encode_rows<T: Serialize>(
    cells: &mut Cells,
    rows: &[T],
    columns: usize,
    terminator: &[u8],
) -> std::io::Result<()> {
    for row in rows {
        row.serialize(&mut *cells).map_err(std::io::Error::other)?;
        if cells.fields != columns {
            return Err(std::io::Error::other(format!(
                "CSV row has {} fields, the header {columns}",
                cells.fields
            )));
        }
        cells.end_record(terminator);
    }
    Ok(())
}

/// Prefixes `'` to a cell a spreadsheet would read as a formula.
pub fn neutralize(s: &str) -> std::borrow::Cow<'_, str> {
    if starts_formula(s.as_bytes()) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Whether a cell starting with these bytes is a formula to defuse: `=`,
/// `+`, `-`, `@`, TAB, CR, or the full-width `＝＋－＠` (UTF-8 `EF BC xx`),
/// matched on bytes because it runs for every cell.
fn starts_formula(cell: &[u8]) -> bool {
    matches!(
        cell,
        [b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..]
            | [0xEF, 0xBC, 0x9D | 0x8B | 0x8D | 0xA0, ..]
    )
}

/// Whether a cell must be quoted (the `csv` crate's `QuoteStyle::Necessary`
/// with `,` delimiter, `"` quote and a CR, LF or CRLF terminator).
fn needs_quotes(cell: &[u8]) -> bool {
    super::any_byte(cell, |b| {
        (b == b',') | (b == b'"') | (b == b'\r') | (b == b'\n')
    })
}

/// Appends one cell: a `'` before a formula (`defuse`), quotes when
/// needed. Most cells need neither and are copied as they are.
fn put_cell(out: &mut Vec<u8>, cell: &[u8], defuse: bool) {
    let formula = defuse && starts_formula(cell);
    if !needs_quotes(cell) {
        if formula {
            out.push(b'\'');
        }
        out.extend_from_slice(cell);
        return;
    }
    out.push(b'"');
    if formula {
        out.push(b'\'');
    }
    // Quotes doubled: each run up to and including a `"`, then that `"` again.
    let mut from = 0;
    for q in memchr::memchr_iter(b'"', cell) {
        out.extend_from_slice(&cell[from..=q]);
        from = q;
    }
    out.extend_from_slice(&cell[from..]);
    out.push(b'"');
}

/// Writes rows that write their own cells ([`super::Row`]): the same
/// bytes as [`write`], for the timeline's many rows.
pub fn write_rows<T: super::Row + Sync>(
    w: super::Out<'_>,
    rows: &[T],
    excel: bool,
) -> std::io::Result<()> {
    let terminator: &[u8] = if excel { b"\r\n" } else { b"\n" };
    let mut header = Vec::new();
    if excel {
        header.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut line = Line {
        out: &mut header,
        start: 0,
        at: 0,
    };
    line.start = line.out.len();
    for name in T::COLUMNS {
        line.cell(name.as_bytes(), false);
    }
    line.end(terminator);
    w.write_all(&header)?;
    super::write_blocks(w, rows, |block, out| {
        for row in block {
            let mut line = Line {
                start: out.len(),
                out: &mut *out,
                at: 0,
            };
            row.cells(&mut line);
            debug_assert_eq!(line.at, T::COLUMNS.len(), "cells of a CSV row");
            line.end(terminator);
        }
        Ok(())
    })
}

/// One record being written by [`write_rows`].
struct Line<'a> {
    out: &'a mut Vec<u8>,
    /// Where the record starts in `out`.
    start: usize,
    /// Cells written so far.
    at: usize,
}

impl Line<'_> {
    /// Opens a cell: a delimiter before every cell but the first.
    fn delimit(&mut self) {
        if self.at > 0 {
            self.out.push(b',');
        }
        self.at += 1;
    }

    fn cell(&mut self, v: &[u8], defuse: bool) {
        self.delimit();
        put_cell(self.out, v, defuse);
    }

    /// Ends the record with `terminator`; a lone empty cell is `""`, as in
    /// [`Cells::end_record`].
    fn end(self, terminator: &[u8]) {
        if self.at == 1 && self.out.len() == self.start {
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.extend_from_slice(terminator);
    }
}

impl super::Values for Line<'_> {
    fn text(&mut self, v: &str) {
        self.cell(v.as_bytes(), true);
    }
    fn none(&mut self) {
        self.delimit();
    }
    fn uint(&mut self, v: u64) {
        self.delimit();
        super::push_uint(self.out, v);
    }
    fn boolean(&mut self, v: bool) {
        self.delimit();
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }
}

/// A serde serializer that writes one flat struct as one CSV record into
/// `out`: field names (the header) or values as text (`None` → empty,
/// lists space-joined). Each value is written raw where its cell starts, then
/// rewritten in place only in the rare case it needs a `'` or quotes.
#[derive(Default)]
struct Cells {
    /// Encoded records not yet handed to the writer.
    out: Vec<u8>,
    /// Writing the header: field names instead of values.
    header: bool,
    /// Fields written in the current record.
    fields: usize,
    /// Where the current record starts in `out`.
    record_start: usize,
    /// Where the current cell starts in `out`.
    cell_start: usize,
    /// Inside a sequence: items are joined into the current cell.
    in_seq: bool,
    /// The raw text of a cell being re-encoded.
    scratch: Vec<u8>,
}

#[derive(Debug)]
struct CellError(String);

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CellError {}

impl ser::Error for CellError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        CellError(msg.to_string())
    }
}

impl Cells {
    /// Opens a cell: a delimiter before every cell but the first.
    fn begin_cell(&mut self) {
        if self.fields > 0 {
            self.out.push(b',');
        }
        self.fields += 1;
        self.cell_start = self.out.len();
    }

    /// Closes the current cell: a `'` before a formula (`defuse`), quotes
    /// when needed. Most cells need neither and stay as written.
    fn end_cell(&mut self, defuse: bool) {
        let cell = &self.out[self.cell_start..];
        if !(needs_quotes(cell) || defuse && starts_formula(cell)) {
            return;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(cell);
        self.out.truncate(self.cell_start);
        put_cell(&mut self.out, &self.scratch, defuse);
    }

    /// Ends the record with `terminator`.
    fn end_record(&mut self, terminator: &[u8]) {
        // As the csv crate does: a lone empty cell is `""`, else the line
        // would be blank.
        if self.fields > 0 && self.out.len() == self.record_start {
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.extend_from_slice(terminator);
        self.fields = 0;
        self.record_start = self.out.len();
    }

    /// Starts a value's text in the current cell: inside a list, a space
    /// after the items before it.
    fn start_value(&mut self) -> Result<(), CellError> {
        if self.fields == 0 {
            return Err(CellError("CSV rows must be structs".into()));
        }
        if self.in_seq && self.out.len() > self.cell_start {
            self.out.push(b' ');
        }
        Ok(())
    }

    fn text(&mut self, s: &str) -> Result<(), CellError> {
        self.start_value()?;
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// A value written with its `Display`, as `to_string` would.
    fn display(&mut self, v: impl std::fmt::Display) -> Result<(), CellError> {
        self.start_value()?;
        // Writing into a Vec cannot fail.
        let _ = write!(self.out, "{v}");
        Ok(())
    }
}

macro_rules! display_value {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<(), CellError> {
            self.display(v)
        })*
    };
}

impl ser::Serializer for &mut Cells {
    type Ok = ();
    type Error = CellError;
    type SerializeSeq = Self;
    type SerializeTuple = Impossible<(), CellError>;
    type SerializeTupleStruct = Impossible<(), CellError>;
    type SerializeTupleVariant = Impossible<(), CellError>;
    type SerializeMap = Impossible<(), CellError>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), CellError>;

    display_value!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
        serialize_char: char);

    fn serialize_str(self, v: &str) -> Result<(), CellError> {
        self.text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CellError> {
        self.text(&String::from_utf8_lossy(v))
    }
    fn serialize_none(self) -> Result<(), CellError> {
        self.text("")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), CellError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), CellError> {
        self.text("")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), CellError> {
        self.text("")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), CellError> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), CellError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Result<(), CellError> {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, CellError> {
        if self.in_seq {
            return Err(CellError("nested lists cannot be CSV cells".into()));
        }
        if self.fields == 0 {
            return Err(CellError("CSV rows must be structs".into()));
        }
        self.in_seq = true;
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CellError> {
        Err(CellError("tuples cannot be CSV cells".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CellError> {
        Err(CellError("tuple structs cannot be CSV cells".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CellError> {
        Err(CellError("tuple variants cannot be CSV cells".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CellError> {
        Err(CellError("maps cannot be CSV cells".into()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, CellError> {
        if self.fields > 0 {
            return Err(CellError("structs cannot be CSV cells".into()));
        }
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CellError> {
        Err(CellError("enum structs cannot be CSV cells".into()))
    }
}

impl ser::SerializeSeq for &mut Cells {
    type Ok = ();
    type Error = CellError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), CellError> {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result<(), CellError> {
        self.in_seq = false;
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Cells {
    type Ok = ();
    type Error = CellError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), CellError> {
        self.begin_cell();
        if self.header {
            self.out.extend_from_slice(key.as_bytes());
            self.end_cell(false);
        } else {
            v.serialize(&mut **self)?;
            self.end_cell(true);
        }
        Ok(())
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), CellError> {
        Ok(())
    }
    fn end(self) -> Result<(), CellError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, Default)]
    struct Row {
        a: String,
        b: Option<u16>,
        list: Vec<String>,
    }

    #[test]
    fn formulas_are_defused_and_quoted() {
        let rows = vec![
            Row {
                a: "=HYPERLINK(\"x\")".into(),
                b: Some(1),
                list: vec!["x".into(), "y".into()],
            },
            Row {
                a: "＝1+1".into(),
                b: None,
                list: vec![],
            },
            Row {
                a: "a,b\n\"c\"".into(),
                b: None,
                list: vec!["-1".into()],
            },
            Row {
                a: "-5".into(),
                b: None,
                list: vec![],
            },
        ];
        let mut out = Vec::new();
        write(&mut out, &rows, false).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "a,b,list\n\"'=HYPERLINK(\"\"x\"\")\",1,x y\n'＝1+1,,\n\"a,b\n\"\"c\"\"\",,'-1\n'-5,,\n");
    }

    #[test]
    fn formula_bytes_match_the_characters() {
        const DANGEROUS: &[char] = &['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
        for c in ('\0'..=char::MAX).filter(|c| !c.is_ascii_alphanumeric()) {
            let mut b = [0; 4];
            let s = c.encode_utf8(&mut b);
            assert_eq!(
                starts_formula(s.as_bytes()),
                DANGEROUS.contains(&c),
                "{c:?}"
            );
        }
    }

    #[test]
    fn lists_join_with_spaces_and_a_lone_empty_cell_is_quoted() {
        #[derive(serde::Serialize, Default)]
        struct One {
            only: Vec<Option<String>>,
        }
        let rows = [
            One {
                only: vec![Some("a".into()), None, Some("b".into())],
            },
            One { only: vec![] },
            One {
                only: vec![None, Some("x,y".into())],
            },
        ];
        let mut out = Vec::new();
        write(&mut out, &rows, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "only\na  b\n\"\"\n\"x,y\"\n"
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
                list: vec![],
            }],
            true,
        )
        .unwrap();
        assert!(out.starts_with("\u{feff}a,b,list\r\n".as_bytes()));
        assert!(out.ends_with(b"x,,\r\n"));
    }
}
