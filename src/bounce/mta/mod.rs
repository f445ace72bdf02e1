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
