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

/// A needle for `contains_ci` and `has_bytes`, with the position of its
/// rarest byte worked out at compile time: the sniffs ask of every bounce,
/// and ranking the needle's bytes on each call cost a third of the search.
pub(crate) struct Needle {
    bytes: &'static [u8],
    /// `rarest(bytes)`; None for an empty needle.
    rare: Option<usize>,
}

impl Needle {
    /// `s` as a needle (lowercase ASCII for `contains_ci`).
    pub(crate) const fn new(s: &'static str) -> Needle {
        Needle {
            bytes: s.as_bytes(),
            rare: rarest(s.as_bytes()),
        }
    }
}

/// Does `hay` contain `needle` (lowercase ASCII), ASCII case ignored? The
/// same as `hay.to_ascii_lowercase().contains(needle)`, without the copy:
/// the sniffs ask it of every bounce's From.
pub(crate) fn contains_ci(hay: &str, needle: &Needle) -> bool {
    let (h, n) = (hay.as_bytes(), needle.bytes);
    let Some(k) = needle.rare else {
        return true;
    };
    // Every occurrence holds the needle's rarest byte k bytes in: memchr
    // finds those, few in a From ("a" of "amazonaws.com" is everywhere).
    memchr::memchr2_iter(n[k], n[k].to_ascii_uppercase(), h).any(|i| {
        i.checked_sub(k)
            .and_then(|at| h.get(at..at + n.len()))
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

/// Does `hay` hold the bytes `needle`? For a header or two of a hundred-odd
/// bytes: `memmem::find` builds a searcher on every call, which costs more.
pub(crate) fn has_bytes(hay: &[u8], needle: &Needle) -> bool {
    let n = needle.bytes;
    let Some(k) = needle.rare else {
        return true;
    };
    memchr::memchr_iter(n[k], hay).any(|i| {
        i.checked_sub(k)
            .and_then(|at| hay.get(at..at + n.len()))
            .is_some_and(|w| w == n)
    })
}

/// The position of the byte of `needle` least frequent in mail headers
/// (by a rough rank of English letters; other bytes count as common),
/// None for an empty needle.
const fn rarest(needle: &[u8]) -> Option<usize> {
    /// Per byte: 0 for common ones, higher for rarer letters.
    const RANK: [u8; 256] = {
        const RARE_LAST: &[u8] = b"zqxjkvbywgpfmu";
        let mut rank = [0u8; 256];
        let mut i = 0;
        while i < RARE_LAST.len() {
            let r = (RARE_LAST.len() - i) as u8;
            rank[RARE_LAST[i] as usize] = r;
            rank[RARE_LAST[i].to_ascii_uppercase() as usize] = r;
            i += 1;
        }
        rank
    };
    if needle.is_empty() {
        return None;
    }
    // The first of the rarest bytes, as the loop over the needle found it.
    let mut best = 0;
    let mut i = 1;
    while i < needle.len() {
        if RANK[needle[i] as usize] > RANK[needle[best] as usize] {
            best = i;
        }
        i += 1;
    }
    Some(best)
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
            ("xamazonses.co", "amazonses.com"),
            ("AMAZONSES.COM", "amazonses.com"),
            ("zz", "z"),
        ] {
            // A leaked copy stands for the literals the sniffs pass.
            let n = Needle::new(String::leak(needle.to_string()));
            assert_eq!(
                contains_ci(hay, &n),
                hay.to_ascii_lowercase().contains(needle),
                "{hay:?} {needle:?}"
            );
            assert_eq!(
                has_bytes(hay.as_bytes(), &n),
                hay.contains(needle),
                "{hay:?} {needle:?}"
            );
        }
    }
}
