//! JSON Lines for the timeline (one object per row) and pretty JSON for
//! the summary.
//!
//! The timeline rows write their own values ([`super::Row`]) into one
//! buffer: a string without anything to escape is copied whole, one to
//! escape is handed to serde_json, numbers are written as serde_json writes
//! them, so the bytes are always serde_json's.

use serde::Serialize;

use super::Row;

/// One JSON object per line, as `serde_json::to_writer` writes each row.
/// Rows are encoded in blocks on all threads and written in order
/// (`super::write_blocks`).
pub fn write_rows<T: Row + Sync>(w: super::Out<'_>, rows: &[T]) -> std::io::Result<()> {
    let lines = Lines::<T>::new();
    super::write_blocks(w, rows, |block, out| {
        lines.encode(block, out);
        Ok(())
    })
}

/// The JSON Lines encoder of one row type: what goes before each value
/// (`{"time":"`, `,"bounce_time":"`, ...), escaped once for all rows. Each
/// key ends with the quote that opens a string value (most values are
/// strings without anything to escape): other values leave it off.
pub struct Lines<T> {
    keys: Vec<Key>,
    row: std::marker::PhantomData<fn(&T)>,
}

/// What goes before the value of one column.
struct Key {
    /// `,"name":"`: before a string value.
    text: Vec<u8>,
    /// `,"name":null`: a null value whole, in one copy.
    null: Vec<u8>,
}

impl<T: Row> Default for Lines<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Row> Lines<T> {
    pub fn new() -> Lines<T> {
        let keys = T::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut key = vec![if i == 0 { b'{' } else { b',' }];
                string(&mut key, name);
                key.push(b':');
                let mut null = key.clone();
                null.extend_from_slice(b"null");
                key.push(b'"');
                Key { text: key, null }
            })
            .collect();
        Lines {
            keys,
            row: std::marker::PhantomData,
        }
    }

    /// Appends one line per row to `out`.
    pub fn encode(&self, rows: &[T], out: &mut Vec<u8>) {
        for row in rows {
            let mut object = Object {
                out: &mut *out,
                keys: &self.keys,
                at: 0,
            };
            row.cells(&mut object);
            debug_assert_eq!(object.at, self.keys.len(), "values of a JSON row");
            if object.at == 0 {
                out.push(b'{');
            }
            out.extend_from_slice(b"}\n");
        }
    }
}

/// One pretty-printed JSON document.
pub fn write_pretty<T: Serialize>(w: super::Out<'_>, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")
}

/// Whether serde_json would escape a byte of `s`: `"`, `\` or a control
/// character below U+0020.
fn needs_escape(s: &[u8]) -> bool {
    super::any_byte(s, |b| (b == b'"') | (b == b'\\') | (b < 0x20))
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

/// One row's object being written by [`write_rows`].
struct Object<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a [Key],
    /// Values written so far: the next key.
    at: usize,
}

impl Object<'_> {
    /// Writes the next key, with what goes before it (no quote after it).
    fn key(&mut self) {
        let key = self.keys[self.at]
            .text
            .split_last()
            .map_or(&[][..], |k| k.1);
        self.at += 1;
        self.out.extend_from_slice(key);
    }

    /// Writes the next key and `v`, which has nothing to escape, as a string.
    fn plain_string(&mut self, v: &str) {
        // Key and opening quote in one copy, room for all of it made once.
        let key = &self.keys[self.at].text;
        self.at += 1;
        self.out.reserve(key.len() + v.len() + 1);
        self.out.extend_from_slice(key);
        self.out.extend_from_slice(v.as_bytes());
        self.out.push(b'"');
    }
}

impl super::Values for Object<'_> {
    fn text(&mut self, v: &str) {
        if needs_escape(v.as_bytes()) {
            self.key();
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *self.out, v);
        } else {
            self.plain_string(v);
        }
    }
    fn plain(&mut self, v: &str) {
        debug_assert!(!needs_escape(v.as_bytes()), "not plain: {v:?}");
        self.plain_string(v);
    }
    fn none(&mut self) {
        self.out.extend_from_slice(&self.keys[self.at].null);
        self.at += 1;
    }
    fn uint(&mut self, v: u64) {
        self.key();
        super::push_uint(self.out, v);
    }
    fn boolean(&mut self, v: bool) {
        self.key();
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Values;

    #[derive(serde::Serialize)]
    struct Row1 {
        s: String,
        none: Option<String>,
        n: u64,
        small: Option<u16>,
        yes: bool,
        maybe: Option<bool>,
        #[serde(rename = "key \"quoted\"\n")]
        quoted: u8,
    }

    impl Row for Row1 {
        const COLUMNS: &'static [&'static str] = &[
            "s",
            "none",
            "n",
            "small",
            "yes",
            "maybe",
            "key \"quoted\"\n",
        ];
        fn cells(&self, to: &mut impl Values) {
            to.text(&self.s);
            to.opt_text(self.none.as_deref());
            to.uint(self.n);
            to.opt_uint(self.small.map(u64::from));
            to.boolean(self.yes);
            to.opt_boolean(self.maybe);
            to.uint(self.quoted.into());
        }
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
            "a string of more than sixteen bytes, with a \\ in the middle and more",
        ];
        let rows: Vec<Row1> = texts
            .iter()
            .enumerate()
            .map(|(i, s)| Row1 {
                s: s.to_string(),
                none: (i % 2 == 0).then(|| s.to_string()),
                n: u64::MAX - i as u64,
                small: (i % 3 != 0).then_some(i as u16 * 1000),
                yes: i % 3 == 0,
                maybe: [None, Some(true), Some(false)][i % 3],
                quoted: i as u8,
            })
            .collect();
        let mut got = Vec::new();
        write_rows(&mut got, &rows).unwrap();
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
    fn a_row_without_columns_is_an_empty_object() {
        struct Empty;
        impl Row for Empty {
            const COLUMNS: &'static [&'static str] = &[];
            fn cells(&self, _: &mut impl Values) {}
        }
        let mut got = Vec::new();
        write_rows(&mut got, &[Empty, Empty]).unwrap();
        assert_eq!(got, b"{}\n{}\n");
    }
}
