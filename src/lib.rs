//! bouncetrail library.
pub mod synth;
