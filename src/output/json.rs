//! JSON Lines for the timeline (raw values, one object per row) and pretty
//! JSON for the summary.
//!
//! The timeline rows are flat structs of strings and numbers, written for
//! every row: [`Line`] writes them itself into one buffer, a string without
//! anything to escape copied whole, and hands every other value (a string to
//! escape, a number, a list, a float) to serde_json, so the bytes are always
//! serde_json's.

use serde::ser::{self, Impossible, Serialize};

/// One JSON object per line, as `serde_json::to_writer` writes it. Rows are
/// encoded in blocks on all threads and written in order
/// (`super::write_blocks`).
pub fn write_lines<T: Serialize + Sync>(w: super::Out<'_>, rows: &[T]) -> std::io::Result<()> {
    super::write_blocks(w, rows, |block, out| {
        let mut keys = Keys::default();
        for row in block {
            let start = out.len();
            match row.serialize(Line {
                out: &mut *out,
                row: Some(&mut keys),
            }) {
                Ok(()) => {}
                // Not a struct: serde_json writes the whole row.
                Err(LineError::Fallback) => {
                    out.truncate(start);
                    serde_json::to_writer(&mut *out, row)?;
                }
                Err(LineError::Custom(e)) => return Err(std::io::Error::other(e)),
            }
            out.push(b'\n');
        }
        Ok(())
    })
}

/// One pretty-printed JSON document.
pub fn write_pretty<T: Serialize>(w: super::Out<'_>, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")
}

/// Whether serde_json would escape a byte of `s`: `"`, `\` or a control
/// character below U+0020.
fn needs_escape(s: &[u8]) -> bool {
    use super::{has_below, has_byte};
    super::any_byte(
        s,
        |x| has_byte(x, b'"') | has_byte(x, b'\\') | has_below(x, 0x20) != 0,
        |b| b == b'"' || b == b'\\' || b < 0x20,
    )
}

/// Writes `s` as a JSON string.
fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// A serializer for one row (`row` is `Some`: only a struct is taken) or
/// one field value (`row` is `None`: strings, `None`, and what it hands to
/// serde_json). It either writes a whole value or returns
/// [`LineError::Fallback`] having written nothing, and the caller then has
/// serde_json write that value.
struct Line<'a> {
    out: &'a mut Vec<u8>,
    row: Option<&'a mut Keys>,
}

/// The keys of a row's fields as written (`"time":`), by position, each
/// with the `&'static str` it was written from: the rows of a block repeat
/// them, so a key is checked for escapes once a block, not once a row. A
/// key that differs from the one cached at its position (a field skipped
/// in this row) is written afresh and cached in its place.
#[derive(Default)]
struct Keys(Vec<(&'static str, Vec<u8>)>);

impl Keys {
    /// Writes the key of field number `at`, with its colon.
    fn write(&mut self, at: usize, key: &'static str, out: &mut Vec<u8>) {
        match self.0.get(at) {
            Some((cached, bytes)) if std::ptr::eq(*cached, key) => out.extend_from_slice(bytes),
            _ => {
                let start = out.len();
                string(out, key);
                out.push(b':');
                let entry = (key, out[start..].to_vec());
                match self.0.get_mut(at) {
                    Some(slot) => *slot = entry,
                    None => self.0.push(entry),
                }
            }
        }
    }
}

#[derive(Debug)]
enum LineError {
    /// Not written here: let serde_json write it.
    Fallback,
    /// The value's own `Serialize` failed.
    Custom(String),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Fallback => f.write_str("value left to serde_json"),
            LineError::Custom(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for LineError {}

impl ser::Error for LineError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        LineError::Custom(msg.to_string())
    }
}

impl Line<'_> {
    /// Writes a scalar with serde_json (numbers, booleans), in a field.
    fn json<V: Serialize>(self, v: V) -> Result<(), LineError> {
        if self.row.is_some() {
            return Err(LineError::Fallback);
        }
        serde_json::to_writer(&mut *self.out, &v).map_err(|e| LineError::Custom(e.to_string()))
    }
}

macro_rules! by_serde_json {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<(), LineError> {
            self.json(v)
        })*
    };
}

macro_rules! fallback {
    ($($f:ident($($a:ty),*) -> $r:ty;)*) => {
        $(fn $f(self, $(_: $a),*) -> Result<$r, LineError> {
            Err(LineError::Fallback)
        })*
    };
}

impl<'a> ser::Serializer for Line<'a> {
    type Ok = ();
    type Error = LineError;
    type SerializeSeq = Impossible<(), LineError>;
    type SerializeTuple = Impossible<(), LineError>;
    type SerializeTupleStruct = Impossible<(), LineError>;
    type SerializeTupleVariant = Impossible<(), LineError>;
    type SerializeMap = Impossible<(), LineError>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Impossible<(), LineError>;

    by_serde_json!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char);

    fallback! {
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_str(self, v: &str) -> Result<(), LineError> {
        if self.row.is_some() {
            return Err(LineError::Fallback);
        }
        string(self.out, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), LineError> {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), LineError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), LineError> {
        if self.row.is_some() {
            return Err(LineError::Fallback);
        }
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), LineError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), LineError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), LineError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), LineError> {
        Err(LineError::Fallback)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, LineError> {
        let Some(keys) = self.row else {
            return Err(LineError::Fallback);
        };
        self.out.push(b'{');
        Ok(Fields {
            out: self.out,
            keys,
            at: 0,
            first: true,
        })
    }
}

/// The fields of a row's object.
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a mut Keys,
    /// Fields written or skipped so far: the position in `keys`.
    at: usize,
    first: bool,
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = LineError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), LineError> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.keys.write(self.at, key, self.out);
        self.at += 1;
        let value = Line {
            out: self.out,
            row: None,
        };
        match v.serialize(value) {
            Err(LineError::Fallback) => serde_json::to_writer(&mut *self.out, v)
                .map_err(|e| LineError::Custom(e.to_string())),
            r => r,
        }
    }
    fn skip_field(&mut self, _: &'static str) -> Result<(), LineError> {
        // The fields after it keep their positions in `keys`.
        self.at += 1;
        Ok(())
    }
    fn end(self) -> Result<(), LineError> {
        self.out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    enum Kind {
        Plain,
        Wrapped(u8),
    }

    #[derive(serde::Serialize)]
    struct Row {
        s: &'static str,
        none: Option<String>,
        n: u64,
        neg: i32,
        f: f64,
        nan: f64,
        yes: bool,
        list: Vec<String>,
        kind: Kind,
        wrapped: Kind,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        map: std::collections::BTreeMap<String, u8>,
        c: char,
        #[serde(rename = "key \"quoted\"\n")]
        quoted: u8,
    }

    /// Every value as serde_json writes it, escapes included.
    #[test]
    fn lines_are_serde_json_bytes() {
        let texts = [
            "plain",
            "",
            "q\"uote",
            "back\\slash",
            "ctl\u{1}\u{1f}\t\n\r\u{8}\u{c}",
            "\u{7f} ü 日本 \u{2028}",
            "exactly8",
            "sixteen bytes!!!\"",
        ];
        let rows: Vec<Row> = texts
            .iter()
            .enumerate()
            .map(|(i, s)| Row {
                s,
                none: (i % 2 == 0).then(|| s.to_string()),
                n: u64::MAX - i as u64,
                neg: -(i as i32),
                f: 1.5 / (i as f64 + 1.0),
                nan: f64::NAN,
                yes: i % 3 == 0,
                list: vec![s.to_string(); i % 3],
                kind: Kind::Plain,
                wrapped: Kind::Wrapped(i as u8),
                skipped: (i % 2 == 1).then_some(7),
                map: [(s.to_string(), 1)].into_iter().collect(),
                c: '"',
                quoted: 1,
            })
            .collect();
        let mut got = Vec::new();
        write_lines(&mut got, &rows).unwrap();
        let mut want = Vec::new();
        for r in &rows {
            serde_json::to_writer(&mut want, r).unwrap();
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn rows_that_are_not_structs() {
        let rows = [vec![1, 2], vec![]];
        let mut got = Vec::new();
        write_lines(&mut got, &rows).unwrap();
        assert_eq!(got, b"[1,2]\n[]\n");
    }
}
