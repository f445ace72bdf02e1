//! au by KDDI (EZweb, `ezweb.ne.jp`) mail system errors: a Japanese banner,
//! then an English sentence ("The user(s) account is disabled.", "Your
//! message was not delivered within N days ...") and the failed recipients
//! as `<a@b>` lines. The explanation stands *before* the address, so the
//! generic text reader, which looks after it, misses it.
//!
//! Recognizes: mail from `ezweb.ne.jp` or relayed by "(EZweb Mail)", whose
//! text has one of `MARKERS` (phrases as Sisimai's lhost EZweb module lists
//! them). Reports with a delivery-status part are left to the RFC 3464
//! reader, which comes later only when this decoder finds nothing.
//!
//! Fixtures: the unit tests below.
//!
//! Known gaps: the Japanese banner is not read; a notice with neither a
//! marker nor `<a@b>` lines is left to the generic reader.

use super::{contains_ci, has_bytes, Needle};
use crate::bounce::text::{address_regex, error_head_before};
use crate::bounce::types::{Bounce, Failure, Kind};
use crate::bounce::{Decoder, Input};

/// The au/EZweb decoder.
pub struct Ezweb;

/// English sentences of EZweb error notices (lowercase, sorted). From
/// Sisimai's lhost EZweb module's marker list and the notices themselves.
const MARKERS: &[&str] = &[
    "each of the following recipients was rejected by a remote mail server",
    "the following recipients did not receive this message",
    "the user(s) ",
    "your message was not delivered within ",
];

impl Decoder for Ezweb {
    fn name(&self) -> &'static str {
        "ezweb"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        // Decoding every Received header of every bounce cost more than
        // the rest of this decoder: only a header whose raw bytes hold
        // "EZweb" (folding cannot split a word) or an RFC 2047 word can
        // read "(EZweb Mail)" once decoded.
        const EZWEB: Needle = Needle::new("EZweb");
        const ENCODED: Needle = Needle::new("=?");
        const FROM: Needle = Needle::new("ezweb.ne.jp");
        let maybe = |r: &[u8]| has_bytes(r, &EZWEB) || has_bytes(r, &ENCODED);
        contains_ci(&input.from, &FROM)
            || (input.parsed.headers_all_raw("Received").any(maybe)
                && input
                    .parsed
                    .headers_all("Received")
                    .iter()
                    .any(|r| r.contains("(EZweb Mail)")))
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        if input.status_part().is_some() {
            return None;
        }
        let head = error_head_before(input.text(), input.inline_original_at());
        let lower = head.to_lowercase();
        if !MARKERS.iter().any(|m| lower.contains(m)) {
            return None;
        }
        let lines: Vec<&str> = head.lines().collect();
        // The English explanation: marker lines and those after them, up to the first address.
        let mut explanation: Vec<&str> = Vec::new();
        let mut failures: Vec<Failure> = Vec::new();
        let mut in_text = false;
        for l in &lines {
            let t = l.trim();
            let tl = t.to_lowercase();
            if t.starts_with('<') {
                if let Some(m) = address_regex().find(t) {
                    let rcpt = m.as_str().to_lowercase();
                    if !failures.iter().any(|f| f.recipient == rcpt) {
                        // "<a@b>: 550 user unknown" carries its own answer.
                        let own = t
                            .get(m.end()..)
                            .unwrap_or("")
                            .trim_start_matches(['>', ':', ' ']);
                        failures.push(Failure {
                            recipient: rcpt,
                            diagnostic: Some(if own.is_empty() {
                                explanation.join(" ")
                            } else {
                                own.to_string()
                            })
                            .filter(|d| !d.is_empty()),
                            ..Default::default()
                        });
                    }
                    continue;
                }
            }
            if MARKERS.iter().any(|m| tl.contains(m)) {
                in_text = true;
            }
            if in_text && !t.is_empty() && t.is_ascii() && failures.is_empty() {
                explanation.push(t);
            }
        }
        if failures.is_empty() {
            return None;
        }
        let mut b = Bounce::new(Kind::MtaText, self.name());
        b.failures = failures;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::triage::Hints;

    fn decode(m: &[u8]) -> Option<Bounce> {
        let p = parse(m);
        let input = Input::new(&p, Hints::default());
        if !Ezweb.sniff(&input) {
            return None;
        }
        Ezweb.decode(&input)
    }

    #[test]
    fn disabled_account_explanation_before_address() {
        let b = decode(b"From: Postmaster@ezweb.ne.jp\nSubject: Mail System Error - Returned Mail\nContent-Type: text/plain\n\nThe user(s) account is disabled.\n\n<Taro@ezweb.ne.jp>\n").unwrap();
        assert_eq!(b.failures[0].recipient, "taro@ezweb.ne.jp");
        assert_eq!(
            b.failures[0].diagnostic.as_deref(),
            Some("The user(s) account is disabled.")
        );
    }

    #[test]
    fn timeout_and_own_answer() {
        let b = decode(b"From: Postmaster@ezweb.ne.jp\nSubject: x\n\nYour message was not delivered within 0 days and 1 hours.\nRemote host is not responding.\n\nThe following recipients did not receive this message:\n\n<a@ezweb.ne.jp>: 550 user unknown\n<b@ezweb.ne.jp>\n").unwrap();
        assert_eq!(b.failures.len(), 2);
        assert_eq!(
            b.failures[0].diagnostic.as_deref(),
            Some("550 user unknown")
        );
        assert!(b.failures[1]
            .diagnostic
            .as_deref()
            .unwrap()
            .contains("not responding"));
    }

    #[test]
    fn other_mail_is_not_ours() {
        assert!(
            decode(b"From: Postmaster@ezweb.ne.jp\nSubject: hello\n\nsee <a@ezweb.ne.jp>\n")
                .is_none()
        );
        assert!(decode(
            b"From: a@example.jp\nSubject: x\n\nThe user(s) account is disabled.\n<a@b.example>\n"
        )
        .is_none());
    }
}
