//! Sets of phrases searched in one pass. Decoders test a line or a text
//! against tables of dozens of phrases; one `contains` per phrase builds a
//! searcher per phrase per call, which dominated the decode profile. A
//! `Phrases` is a `const` table plus an Aho-Corasick automaton built on first
//! use, matching ASCII case-insensitively (no lowercase copy of the text).

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// A phrase table with its automaton.
pub struct Phrases {
    list: &'static [&'static str],
    automaton: OnceLock<AhoCorasick>,
}

impl Phrases {
    /// Wraps a table; the automaton is built on first use.
    pub const fn new(list: &'static [&'static str]) -> Phrases {
        Phrases {
            list,
            automaton: OnceLock::new(),
        }
    }

    fn automaton(&self) -> &AhoCorasick {
        self.automaton.get_or_init(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                // Built at a fraction of a DFA's cost (a one-time cost that
                // showed in short runs); the prefilter does most searches.
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(self.list)
                .expect("phrase tables are plain literals")
        })
    }

    /// Does any phrase occur in `hay` (ASCII case ignored)?
    pub fn any_in(&self, hay: &str) -> bool {
        self.automaton().is_match(hay)
    }

    /// The leftmost occurrence: (byte offset, phrase).
    pub fn find(&self, hay: &str) -> Option<(usize, &'static str)> {
        self.automaton()
            .find(hay)
            .map(|m| (m.start(), self.list[m.pattern().as_usize()]))
    }

    /// The table.
    pub fn list(&self) -> &'static [&'static str] {
        self.list
    }
}

/// `str::find` for one phrase in a short text (a line, a header value, a
/// diagnostic): `str::find` and `contains` build a Two-Way searcher on every
/// call, which costs more than searching such a text. Candidates come from
/// memchr on the phrase's first byte; the result is the same first
/// occurrence (a byte match of UTF-8 in UTF-8 starts on a char boundary).
pub fn find(hay: &str, phrase: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), phrase.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return Some(0);
    };
    memchr::memchr_iter(first, h).find(|&i| h[i + 1..].starts_with(rest))
}

/// `str::trim`, at a fraction of its cost on lines of mail: std decodes
/// each edge `char` and calls out of line for every line. ASCII white
/// space (U+0009 to U+000D and the space, the ASCII `char::is_whitespace`)
/// is stripped byte by byte; an edge that is then not ASCII, which may be
/// other white space, is left to std.
pub fn trim(s: &str) -> &str {
    let ws = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
    let b = s.as_bytes();
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    // Both ends are at ASCII bytes (or the ends of `s`): char boundaries.
    let t = &s[start..end];
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(a), Some(z)) if !a.is_ascii() || !z.is_ascii() => t.trim(),
        _ => t,
    }
}

/// `str::to_lowercase`, appended to `out`. The same characters, at less
/// cost on the text bounces hold: std lowercases one `char` at a time from
/// the first non-ASCII one on, looking each up in its case table, so a
/// Japanese notice paid a table search per kana and per ASCII letter after
/// it. Here runs of ASCII and of CJK characters (which have no case) are
/// copied at once and their ASCII lowercased as bytes; every other
/// character is lowercased as std does it.
pub fn push_lowercase(out: &mut String, s: &str) {
    // Capital sigma lowercases by its neighbours (final sigma): std decides.
    if s.contains('Σ') {
        out.push_str(&s.to_lowercase());
        return;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while let Some(&c) = b.get(i) {
            match c {
                0..=0x7f => i += 1,
                // Lead bytes of U+3000 to U+9FFF (see `is_caseless`), each
                // starting a three-byte character of the valid UTF-8.
                0xe3..=0xe9 => i += 3,
                _ => break,
            }
        }
        if i > start {
            let at = out.len();
            out.push_str(&s[start..i]);
            out[at..].make_ascii_lowercase();
            continue;
        }
        let c = s[i..].chars().next().expect("a char starts here");
        let end = i + c.len_utf8();
        if is_caseless(c) {
            out.push_str(&s[i..end]);
        } else {
            out.extend(c.to_lowercase());
        }
        i = end;
    }
}

/// `str::to_lowercase` (see `push_lowercase`).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    push_lowercase(&mut out, s);
    out
}

/// Blocks without any letter that has a lowercase form (checked for every
/// character in the tests): CJK symbols and punctuation, kana, CJK
/// ideographs, Hangul syllables.
fn is_caseless(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{9fff}' | '\u{ac00}'..='\u{d7a3}')
}

/// Every occurrence of many literals in a short text (a diagnostic of a
/// hundred-odd bytes). On such texts an Aho-Corasick automaton over
/// hundreds of phrases cost more to build (about 9 M instructions, once)
/// than thousands of searches with this index, and searched slower (7 k
/// instructions a diagnostic): its prefilter cannot skip much when the
/// phrases start with common letters. Here each position's first four
/// bytes pick, through a hash table, the few literals starting with them;
/// a candidate is ruled out by comparing its first eight bytes as one word.
pub struct HeadIndex {
    /// Bit `h`: some literal's first four bytes hash to `h`. Most
    /// positions of a text start no literal; one bit test skips them.
    used: Box<[u64; BUCKETS / 64]>,
    /// `slots[h]..slots[h + 1]`: the range of `heads` whose literals' first
    /// four bytes hash to `h`.
    slots: Box<[u16; BUCKETS + 1]>,
    /// Per literal and bucket, grouped by hash (ascending ids in a group): its first
    /// eight bytes and the mask of those that exist, side by side so that
    /// ruling a candidate out reads one place.
    heads: Box<[Head]>,
    /// The literals, by id.
    literals: Box<[&'static [u8]]>,
    /// When every literal has `GRAM_FROM` bytes or more: bit `o` of
    /// `grams[h]` says some literal's four bytes at offset `o` (0 to 3)
    /// hash to `h`. Such a literal, wherever it starts, covers four bytes
    /// starting at a multiple of four at one of these offsets: a text is
    /// then tested four bytes at a time, and after a hit only the places
    /// its offsets point back to are looked up (the SMTP command phrases:
    /// a diagnostic read at a quarter of the cost, as most hold none).
    grams: Option<Box<[u8; BUCKETS]>>,
}

/// The shortest literal length for `HeadIndex::grams`: a literal starting
/// at `i` must hold the four bytes at the next multiple of four, which is
/// at most three bytes in.
const GRAM_FROM: usize = 7;

/// Hash buckets of `HeadIndex`: the 16 bits `bucket` keeps.
const BUCKETS: usize = 1 << 16;

/// One literal's head in `HeadIndex`.
#[derive(Clone, Copy)]
struct Head {
    /// Its first eight bytes (zero-padded) as a little-endian word.
    word: u64,
    /// The bytes of `word` the literal has.
    mask: u64,
    id: u16,
}

/// The bucket of a position: a hash of its first four bytes, blind to
/// ASCII case (bit 5 of each byte cleared, which folds `a` onto `A`), so
/// that a case-folding search hashes the text as it is.
fn bucket(word: u64) -> usize {
    ((word as u32 & 0xdfdf_dfdf).wrapping_mul(0x9e37_79b1) >> 16) as usize
}

/// Eight bytes of `hay` from `i` as a little-endian word, zero past the end.
fn word_at(hay: &[u8], i: usize) -> u64 {
    match hay.get(i..i + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("eight bytes")),
        None => {
            let mut w = [0u8; 8];
            w[..hay.len() - i].copy_from_slice(&hay[i..]);
            u64::from_le_bytes(w)
        }
    }
}

/// ASCII lowercase of the eight bytes of a word (`u8::to_ascii_lowercase`
/// on each).
fn lower_word(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let c = x & (ONES * 0x7f);
    let above_z = c + ONES * (0x7f - b'Z' as u64);
    let from_a = c + ONES * (0x80 - b'A' as u64);
    let upper = from_a & !above_z & !x & (ONES * 0x80);
    x | (upper >> 2)
}

impl HeadIndex {
    /// Indexes the literals (each at least three bytes, none holding a
    /// zero byte); ids are positions in `literals`.
    pub fn new(literals: Vec<&'static str>) -> HeadIndex {
        assert!(literals.len() < u16::MAX as usize);
        let literals: Box<[&'static [u8]]> = literals
            .iter()
            .map(|l| {
                let b = l.as_bytes();
                assert!(b.len() >= 3 && !b.contains(&0), "cannot index {l:?}");
                b
            })
            .collect();
        let head = |id: usize| {
            let b = literals[id];
            let n = b.len().min(8);
            let mask = if n == 8 { u64::MAX } else { (1 << (8 * n)) - 1 };
            Head {
                word: word_at(b, 0) & mask,
                mask,
                id: id as u16,
            }
        };
        // Buckets hash four bytes: fewer literals share a bucket than
        // share three bytes ("mai", "rec"), and fewer places of a text
        // pass the bit test. A three-byte literal goes in the bucket of
        // each fourth byte (zero included, for the end of a text), once
        // per distinct bucket so that no place reports it twice.
        let mut entries: Vec<(usize, usize)> = Vec::new();
        for id in 0..literals.len() {
            let word = head(id).word;
            if literals[id].len() >= 4 {
                entries.push((bucket(word), id));
            } else {
                let mut ks: Vec<usize> = (0..=255u64).map(|c| bucket(word | c << 24)).collect();
                ks.sort_unstable();
                ks.dedup();
                entries.extend(ks.into_iter().map(|k| (k, id)));
            }
        }
        // Grouped by bucket, ascending ids in a group.
        entries.sort_unstable();
        assert!(entries.len() < u16::MAX as usize);
        let mut slots = vec![0u16; BUCKETS + 1];
        let mut used = vec![0u64; BUCKETS / 64];
        for &(k, _) in &entries {
            slots[k + 1] += 1;
            used[k / 64] |= 1 << (k % 64);
        }
        for k in 0..BUCKETS {
            slots[k + 1] += slots[k];
        }
        let heads: Vec<Head> = entries.iter().map(|&(_, id)| head(id)).collect();
        let grams = literals.iter().all(|l| l.len() >= GRAM_FROM).then(|| {
            let mut grams: Box<[u8; BUCKETS]> = vec![0u8; BUCKETS]
                .into_boxed_slice()
                .try_into()
                .expect("BUCKETS offsets");
            for l in literals.iter() {
                for at in 0..4 {
                    grams[bucket(word_at(l, at))] |= 1 << at;
                }
            }
            grams
        });
        HeadIndex {
            grams,
            used: used
                .into_boxed_slice()
                .try_into()
                .expect("BUCKETS / 64 words"),
            slots: slots
                .into_boxed_slice()
                .try_into()
                .expect("BUCKETS + 1 slots"),
            heads: heads.into_boxed_slice(),
            literals,
        }
    }

    /// Calls `found(id, start)` for every occurrence of a literal in `hay`,
    /// by start, then by id; stops when `found` returns false. With `fold`
    /// ASCII case is ignored (the literals must then be lowercase): the
    /// same as searching `hay.to_ascii_lowercase()`, without the copy.
    pub fn each(&self, hay: &[u8], fold: bool, found: impl FnMut(usize, usize) -> bool) {
        if fold {
            self.scan::<true>(hay, found);
        } else {
            self.scan::<false>(hay, found);
        }
    }

    /// `each`, with `fold` known when compiled.
    fn scan<const FOLD: bool>(&self, hay: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        if hay.len() < 3 {
            return;
        }
        if let Some(grams) = &self.grams {
            self.scan_grams::<FOLD>(grams, hay, found);
            return;
        }
        // Positions with eight bytes ahead read them in place; the last
        // seven read them from a zero-padded copy of the end.
        let body = hay.len().saturating_sub(7);
        let mut i = 0;
        loop {
            i = self.skip(hay, i, body);
            if i == body {
                break;
            }
            let word = u64::from_le_bytes(hay[i..i + 8].try_into().expect("eight bytes"));
            if !self.at::<FOLD>(word, hay, i, &mut found) {
                return;
            }
            i += 1;
        }
        let mut tail = [0u8; 16];
        tail[..hay.len() - body].copy_from_slice(&hay[body..]);
        for i in body..hay.len() - 2 {
            let w = &tail[i - body..i - body + 8];
            let word = u64::from_le_bytes(w.try_into().expect("eight bytes"));
            if !self.at::<FOLD>(word, hay, i, &mut found) {
                return;
            }
        }
    }

    /// `scan` through `grams`: the four bytes at each multiple of four are
    /// tested, and after a hit the places up to three bytes before them
    /// that the hit's offsets point back to (each place is before exactly
    /// one multiple of four, so places are still visited in order, each
    /// once). A literal ending the text covers a multiple of four too: it
    /// has `GRAM_FROM` bytes.
    fn scan_grams<const FOLD: bool>(
        &self,
        grams: &[u8; BUCKETS],
        hay: &[u8],
        mut found: impl FnMut(usize, usize) -> bool,
    ) {
        let mut j = 0;
        while let Some(w) = hay.get(j..j + 4) {
            let offsets =
                grams[bucket(u32::from_le_bytes(w.try_into().expect("four bytes")) as u64)];
            if offsets != 0 {
                // Offset 3 is the place farthest back.
                for back in (0..4).rev() {
                    if offsets & 1 << back == 0 || back > j {
                        continue;
                    }
                    let i = j - back;
                    if !self.at::<FOLD>(word_at(hay, i), hay, i, &mut found) {
                        return;
                    }
                }
            }
            j += 4;
        }
    }

    /// The first position of `from..end` (each with eight bytes ahead)
    /// whose first four bytes may start a literal, else `end`. This loop
    /// runs for every byte of every diagnostic: on its own, out of line,
    /// it is a shift, a hash and a bit test per position (inside its
    /// caller, its variables were kept on the stack and reloaded each time).
    #[inline(never)]
    fn skip(&self, hay: &[u8], from: usize, end: usize) -> usize {
        if from >= end {
            return end;
        }
        let used = |word: u64| {
            let k = bucket(word);
            self.used[k / 64] & 1 << (k % 64) != 0
        };
        // One eight-byte read serves five places (each hashes four bytes).
        let mut i = from;
        while i + 5 <= end {
            let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("eight bytes"));
            for t in 0..5 {
                if used(w >> (8 * t)) {
                    return i + t;
                }
            }
            i += 5;
        }
        while i < end {
            if used(u64::from_le_bytes(
                hay[i..i + 8].try_into().expect("eight bytes"),
            )) {
                return i;
            }
            i += 1;
        }
        end
    }

    /// The literals starting at `hay[i..]`, whose first eight bytes (zero
    /// past the end) are `word`; false when `found` said stop.
    #[inline(always)]
    fn at<const FOLD: bool>(
        &self,
        mut word: u64,
        hay: &[u8],
        i: usize,
        found: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        let k = bucket(word);
        if self.used[k / 64] & 1 << (k % 64) == 0 {
            return true;
        }
        if FOLD {
            word = lower_word(word);
        }
        let (lo, hi) = (self.slots[k] as usize, self.slots[k + 1] as usize);
        for h in &self.heads[lo..hi] {
            if word & h.mask != h.word {
                continue;
            }
            // The first eight bytes (or all) match; then the rest.
            let lit = self.literals[h.id as usize];
            let hit = lit.len() <= 8
                || hay.get(i + 8..i + lit.len()).is_some_and(|h| {
                    if FOLD {
                        h.eq_ignore_ascii_case(&lit[8..])
                    } else {
                        h == &lit[8..]
                    }
                });
            if hit && !found(h.id as usize, i) {
                return false;
            }
        }
        true
    }
}

/// A `HeadIndex` searched case-sensitively for callers that do not need
/// the occurrences in order (the reason tables). A few short literals
/// (`bad`, `spam`, `domain`) would keep a whole index from testing four
/// bytes at a time (`HeadIndex::grams`), and it then hashed every place of
/// every diagnostic: the literals of `GRAM_FROM` bytes or more get an index
/// of their own, and the short ones are found by the packed (Teddy) SIMD
/// searcher when the CPU allows it, each of its matches looked up in an
/// index of the short literals (their own index searched whole otherwise).
pub struct SplitIndex {
    long: HeadIndex,
    /// The caller's id of each literal of `long`, by its id there.
    long_ids: Box<[usize]>,
    short: HeadIndex,
    short_ids: Box<[usize]>,
    teddy: Option<aho_corasick::packed::Searcher>,
}

impl SplitIndex {
    /// Indexes the literals (as `HeadIndex::new`); ids are positions in
    /// `literals`.
    pub fn new(literals: Vec<&'static str>) -> SplitIndex {
        let (mut long, mut long_ids, mut short, mut short_ids) = (vec![], vec![], vec![], vec![]);
        for (id, l) in literals.into_iter().enumerate() {
            if l.len() >= GRAM_FROM {
                long.push(l);
                long_ids.push(id);
            } else {
                short.push(l);
                short_ids.push(id);
            }
        }
        // Leftmost-first: a match is at the leftmost place where some
        // short literal starts (the default kind, leftmost-first, says so).
        let teddy = (!short.is_empty())
            .then(|| aho_corasick::packed::Searcher::new(short.iter()))
            .flatten();
        SplitIndex {
            long: HeadIndex::new(long),
            long_ids: long_ids.into(),
            short: HeadIndex::new(short),
            short_ids: short_ids.into(),
            teddy,
        }
    }

    /// Calls `found(id, start)` for every occurrence of a literal in `hay`
    /// (ASCII case counts), in no particular order; stops when `found`
    /// returns false.
    pub fn each_unordered(&self, hay: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        let mut go = true;
        self.long.scan::<false>(hay, |id, at| {
            go = found(self.long_ids[id], at);
            go
        });
        if !go {
            return;
        }
        let mut short = |id: usize, at: usize| found(self.short_ids[id], at);
        let Some(teddy) = &self.teddy else {
            self.short.scan::<false>(hay, short);
            return;
        };
        // Each match is the leftmost place from `from` where a short
        // literal starts; all of those starting there are looked up.
        let mut from = 0;
        while let Some(m) = teddy.find_in(hay, aho_corasick::Span::from(from..hay.len())) {
            let i = m.start();
            if !self.short.at::<false>(word_at(hay, i), hay, i, &mut short) {
                return;
            }
            from = i + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_is_str_find() {
        for (h, n) in [
            ("from x (authenticated sender: a)", "(authenticated sender:"),
            ("aaab", "aab"),
            ("user@[192.0.2.1]", "@["),
            ("", "x"),
            ("x", ""),
            ("héllo@[", "@["),
        ] {
            assert_eq!(find(h, n), h.find(n), "{h:?} {n:?}");
        }
    }

    #[test]
    fn lowercase_is_str_to_lowercase() {
        for c in ['\u{3000}'..='\u{9fff}', '\u{ac00}'..='\u{d7a3}']
            .into_iter()
            .flatten()
        {
            assert!(is_caseless(c));
            assert!(c.to_lowercase().eq([c]), "{c:?} has a lowercase form");
        }
        for s in [
            "",
            "ABC def",
            "宛先 (Recipient): <A@B.JP> 理由 (Reason): 存在しません",
            "ÀÉÎ Straße İstanbul KELVIN \u{212a} ＡＢＣ",
            "ΣΑΣ ΟΔΟΣ. Σ",
            "한국어 MAIL 오류",
            "\u{10400}\u{1e900} x",
        ] {
            assert_eq!(lowercase(s), s.to_lowercase(), "{s:?}");
            let mut out = String::from("X");
            push_lowercase(&mut out, s);
            assert_eq!(out, format!("X{}", s.to_lowercase()), "{s:?}");
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for t in [
            "",
            " ",
            "\t\r\n\x0b\x0c x \x0b",
            "  a b  ",
            "\u{a0}x\u{3000}",
            " \u{a0} x \u{2028} ",
            "é ",
            " \u{85}",
            "x",
        ] {
            assert_eq!(trim(t), t.trim(), "{t:?}");
        }
    }

    static SET: Phrases = Phrases::new(&["user unknown", "mailbox full", "ユーザ"]);

    #[test]
    fn finds_case_insensitively() {
        assert!(SET.any_in("550 5.1.1 User Unknown"));
        assert!(SET.any_in("存在しないユーザです"));
        assert!(!SET.any_in("all fine"));
        assert_eq!(
            SET.find("x MAILBOX FULL; user unknown"),
            Some((2, "mailbox full"))
        );
    }

    #[test]
    fn head_index_finds_every_occurrence() {
        let index = HeadIndex::new(vec!["abx", "abc", "bca", "cab", "abcabcabcd", "abcabcabc"]);
        let mut seen = Vec::new();
        index.each(b"xabcabcabcab", false, |id, at| {
            seen.push((id, at));
            true
        });
        assert_eq!(
            seen,
            [
                (1, 1),
                (5, 1),
                (2, 2),
                (3, 3),
                (1, 4),
                (2, 5),
                (3, 6),
                (1, 7),
                (2, 8),
                (3, 9)
            ]
        );
        assert_eq!(
            lower_word(u64::from_le_bytes(*b"AZaz@[\xc3\xc9")),
            u64::from_le_bytes(*b"azaz@[\xc3\xc9")
        );
        seen.clear();
        index.each(b"xABCABCABC", true, |id, at| {
            seen.push((id, at));
            id != 5
        });
        assert_eq!(seen, [(1, 1), (5, 1)]);
        seen.clear();
        index.each(b"ABC", false, |id, at| {
            seen.push((id, at));
            true
        });
        assert!(seen.is_empty());
    }

    /// With long literals only, the four-byte test at every fourth place
    /// (`HeadIndex::grams`) reports what a test at every place reports.
    #[test]
    fn head_index_grams_miss_nothing() {
        let words = vec!["abcdefg", "bcdefgab", "in reply to data", "xyzxyzx"];
        let index = HeadIndex::new(words.clone());
        assert!(index.grams.is_some());
        let texts: Vec<Vec<u8>> = (0..40)
            .map(|pad| {
                let mut t = vec![b' '; pad % 9];
                t.extend_from_slice(b"abcdefgab ABCDEFG In Reply To Data xyzxyzxyzx");
                t.truncate(t.len() - pad / 9);
                t
            })
            .collect();
        for t in &texts {
            for fold in [false, true] {
                let mut seen = Vec::new();
                index.each(t, fold, |id, at| {
                    seen.push((id, at));
                    true
                });
                let hay = if fold {
                    t.to_ascii_lowercase()
                } else {
                    t.clone()
                };
                let mut naive = Vec::new();
                for at in 0..hay.len() {
                    for (id, w) in words.iter().enumerate() {
                        if hay[at..].starts_with(w.as_bytes()) {
                            naive.push((id, at));
                        }
                    }
                }
                assert_eq!(seen, naive, "{:?} {fold}", String::from_utf8_lossy(t));
            }
        }
    }

    #[test]
    fn split_index_finds_every_occurrence() {
        let words = vec![
            "abcdefg",
            "bad",
            "bad mailbox",
            "aup#",
            "aup#cx",
            "xyzxyzx",
            "553",
        ];
        let mut plain = SplitIndex::new(words.clone());
        plain.teddy = None;
        let indexes = [SplitIndex::new(words.clone()), plain];
        let texts: Vec<Vec<u8>> = (0..40)
            .map(|pad| {
                let mut t = vec![b' '; pad % 9];
                t.extend_from_slice(b"abcdefgbad mailbox aup#cx Bad 553xyzxyzxyzx aup#bad");
                t.truncate(t.len() - pad / 9);
                t
            })
            .collect();
        for (t, index) in texts
            .iter()
            .flat_map(|t| indexes.iter().map(move |i| (t, i)))
        {
            let mut seen = Vec::new();
            index.each_unordered(t, |id, at| {
                seen.push((at, id));
                true
            });
            seen.sort_unstable();
            let mut naive = Vec::new();
            for at in 0..t.len() {
                for (id, w) in words.iter().enumerate() {
                    if t[at..].starts_with(w.as_bytes()) {
                        naive.push((at, id));
                    }
                }
            }
            assert_eq!(seen, naive, "{:?}", String::from_utf8_lossy(t));
        }
    }
}
