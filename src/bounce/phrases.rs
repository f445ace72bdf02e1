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
}
