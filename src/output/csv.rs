//! CSV for spreadsheets: RFC 4180 quoting, and formula injection defused —
//! a cell starting with `=`, `+`, `-`, `@`, TAB or CR (or their full-width
//! forms) gets a leading `'`, so a spam subject cannot run as a formula.
//! `--excel` adds a UTF-8 BOM and CRLF line ends. Columns are the row type's
//! serde fields, the same as the JSON keys: one schema for every writer.

use std::io::Write;

use serde::ser::{self, Impossible, Serialize};

/// Writes rows of `T` with a header taken from `T`'s field names.
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
    let mut cells = Cells::default();
    T::default()
        .serialize(&mut cells)
        .map_err(std::io::Error::other)?;
    cw.write_record(&cells.names)?;
    for row in rows {
        cells.values.clear();
        row.serialize(&mut cells).map_err(std::io::Error::other)?;
        cw.write_record(cells.values.iter().map(|v| match neutralize(v) {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        }))?;
    }
    cw.flush()?;
    Ok(())
}

/// Prefixes `'` to a cell a spreadsheet would read as a formula.
pub fn neutralize(s: &str) -> std::borrow::Cow<'_, str> {
    const DANGEROUS: &[char] = &['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    match s.chars().next() {
        Some(c) if DANGEROUS.contains(&c) => std::borrow::Cow::Owned(format!("'{s}")),
        _ => std::borrow::Cow::Borrowed(s),
    }
}

/// A serde serializer that turns one flat struct into cells: field names
/// (first call) and values as text (`None` → empty, lists space-joined).
#[derive(Default)]
struct Cells {
    names: Vec<&'static str>,
    values: Vec<String>,
    /// Inside a sequence: items are joined into the current cell.
    in_seq: bool,
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
    fn push(&mut self, s: &str) {
        if self.in_seq {
            let cell = self.values.last_mut().expect("sequence cell opened");
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(s);
        } else {
            self.values.push(s.to_string());
        }
    }
}

macro_rules! display_value {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<(), CellError> {
            self.push(&v.to_string());
            Ok(())
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
        self.push(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CellError> {
        self.push(&String::from_utf8_lossy(v));
        Ok(())
    }
    fn serialize_none(self) -> Result<(), CellError> {
        self.push("");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), CellError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), CellError> {
        self.push("");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), CellError> {
        self.push("");
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), CellError> {
        self.push(variant);
        Ok(())
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
        self.values.push(String::new());
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
        if self.names.len() <= self.values.len() {
            self.names.push(key);
        }
        v.serialize(&mut **self)
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
