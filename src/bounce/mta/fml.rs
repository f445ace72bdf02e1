//! fml mailing-list manager refusals: a post from a non-member is answered
//! by the list's `-admin` address with "You are not a member of this
//! mailing list <list@domain>." under the subject "You a@b are not member
//! (name ML)". No reply code, no status, no report part; the failed
//! "recipient" is the list that refused the post.
//!
//! Recognizes: an `X-MLServer: fml ...` header (every fml message has it)
//! and one of `REFUSALS` in the text. The notice always means the list
//! refused the post, so the decoder sets the reason `rejected` itself.
//!
//! Fixtures: `tests/fixtures/bounce/lhost-fml-01.eml`, the unit test below.
//!
//! Known gaps: fml's other notices (command errors, size limits) and its
//! Japanese templates are not read.

use crate::bounce::reason::Reason;
use crate::bounce::text::address_regex;
use crate::bounce::types::{Bounce, Failure, Kind};
use crate::bounce::{Decoder, Input};

/// The fml decoder.
pub struct Fml;

/// Sentences of fml's refusal of a non-member's post (lowercase, sorted;
/// from fml's `libfml.pl` "not member" template).
const REFUSALS: &[&str] = &[
    "you are not a member of this mailing list", // "You are not a member of this mailing list <a@b>."
];

impl Decoder for Fml {
    fn name(&self) -> &'static str {
        "fml"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        input
            .header("X-MLServer")
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("fml"))
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let line = input.text().lines().map(str::trim).find(|l| {
            let lower = l.to_lowercase();
            REFUSALS.iter().any(|r| lower.contains(r))
        })?;
        let list = address_regex().find(line)?.as_str().to_lowercase();
        let mut b = Bounce::new(Kind::MtaText, self.name());
        b.failures.push(Failure {
            recipient: list,
            diagnostic: Some(line.to_string()),
            reason: Some(Reason::Rejected),
            ..Default::default()
        });
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::detect;
    use crate::parse::parse;
    use crate::triage::Hints;

    #[test]
    fn not_a_member() {
        let m = b"From: club-admin@lists.example.org\nSubject: You taro@example.jp are not member (club ML)\nX-MLServer: fml [fml 8.0]\n\nYou are not a member of this mailing list <club@lists.example.org>.\n";
        let p = parse(m);
        let hints = Hints {
            bounce_subject: true,
            ..Default::default()
        };
        let b = detect(&p, hints).unwrap();
        assert_eq!(b.family, "fml");
        assert_eq!(b.failures[0].recipient, "club@lists.example.org");
        assert_eq!(b.failures[0].reason, Some(Reason::Rejected));
    }

    #[test]
    fn ordinary_list_post_is_not_a_refusal() {
        let m = b"From: club@lists.example.org\nSubject: [club:00042] meeting\nX-MLServer: fml [fml 8.0]\n\nSee you on Friday.\n";
        let p = parse(m);
        assert!(Fml.decode(&Input::new(&p, Hints::default())).is_none());
    }
}
