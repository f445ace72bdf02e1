//! MTA families: one file per family, listed once in `FAMILIES`.
//!
//! `Families` is the single entry of the whole list in `DECODERS`: it asks
//! each family's `sniff` in order and returns the first decode that finds a
//! recipient.

pub mod amazonses;
pub mod ezweb;
pub mod fml;
pub mod googlegroups;
pub mod verizon;

use super::{Bounce, Decoder, Input};

/// The family decoders, most specific first.
pub const FAMILIES: &[&dyn Decoder] = &[
    &amazonses::AmazonSes,
    &ezweb::Ezweb,
    &fml::Fml,
    &googlegroups::GoogleGroups,
    &verizon::Verizon,
];

/// Does `hay` contain `needle` (lowercase ASCII), ASCII case ignored? The
/// same as `hay.to_ascii_lowercase().contains(needle)`, without the copy:
/// the sniffs ask it of every bounce's From.
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), h).any(|i| {
        h[i + 1..]
            .get(..rest.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    })
}

/// Does `hay` hold the bytes `needle`? For a header or two of a hundred-odd
/// bytes: `memmem::find` builds a searcher on every call, which costs more.
pub(crate) fn has_bytes(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    memchr::memchr_iter(first, hay).any(|i| hay[i + 1..].starts_with(rest))
}

/// All families, as one decoder.
pub struct Families;

impl Decoder for Families {
    fn name(&self) -> &'static str {
        "families"
    }

    fn sniff(&self, _input: &Input<'_, '_>) -> bool {
        !FAMILIES.is_empty()
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        FAMILIES
            .iter()
            .filter(|d| d.sniff(input))
            .find_map(|d| d.decode(input).filter(|b| !b.failures.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tests_are_the_plain_ones() {
        for (hay, needle) in [
            ("MAILER-DAEMON@EZweb.ne.jp", "ezweb.ne.jp"),
            ("a@ezweb.ne.j", "ezweb.ne.jp"),
            ("Ｅ@ezWEB.ne.jp", "ezweb.ne.jp"),
            ("", "x"),
            ("x", ""),
        ] {
            assert_eq!(
                contains_ci(hay, needle),
                hay.to_ascii_lowercase().contains(needle),
                "{hay:?} {needle:?}"
            );
            assert_eq!(
                has_bytes(hay.as_bytes(), needle.as_bytes()),
                hay.contains(needle),
                "{hay:?} {needle:?}"
            );
        }
    }
}
