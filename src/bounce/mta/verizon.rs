//! Verizon Wireless MMS/SMS gateway notices (`vzwpix.com`, `vtext.com`):
//! "Message could not be delivered to mobile." with an "Error:" line, then
//! a summary of the message ("Original Message:" / "Message details:")
//! whose `To:` or `RCPT TO:` line names the failed recipient.
//!
//! Recognizes: mail from a `vzwpix.com` or `vtext.com` address whose text
//! has an `Error:` line. The recipient comes from the summary, so it must
//! not be skipped as the quoted original (the generic reader cuts there).
//!
//! Fixtures: the unit tests below.
//!
//! Known gaps: only one recipient per notice; the Japanese and Spanish
//! variants are not known.

use super::{contains_ci, Needle};
use crate::bounce::dsn::clean_address;
use crate::bounce::types::{Bounce, Failure, Kind};
use crate::bounce::{Decoder, Input};

/// The Verizon gateway decoder.
pub struct Verizon;

/// Sender domains of the gateways (Verizon's MMS and SMS relays).
const DOMAINS: &[Needle] = &[Needle::new("vtext.com"), Needle::new("vzwpix.com")];

impl Decoder for Verizon {
    fn name(&self) -> &'static str {
        "verizon"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        DOMAINS.iter().any(|d| contains_ci(&input.from, d))
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let text = input.text();
        let error = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("Error:") || l.starts_with("Error message"))?;
        let mut diagnostic = vec![error.to_string()];
        // The answer of the gateway, when it follows on its own line ("550 - Requested ...").
        if let Some(code) = text
            .lines()
            .map(str::trim)
            .find(|l| crate::bounce::status::find_reply_code(l).is_some_and(|c| c >= 400))
        {
            diagnostic.push(code.to_string());
        }
        let rcpt = text.lines().map(str::trim).find_map(|l| {
            let lower = l.to_ascii_lowercase();
            let v = lower
                .strip_prefix("rcpt to:")
                .or_else(|| lower.strip_prefix("to:"))?;
            clean_address(v)
        })?;
        let mut b = Bounce::new(Kind::MtaText, self.name());
        b.failures.push(Failure {
            recipient: rcpt,
            diagnostic: Some(diagnostic.join(" ")),
            ..Default::default()
        });
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::triage::Hints;

    #[test]
    fn mms_notice() {
        let m = b"From: MMSC NDR Administrator <sysadmin@m01.vzwpix.com>\nSubject: Undeliverable Message\n\nMessage could not be delivered to mobile.\nError: No valid recipients for this MM\n\nOriginal Message:\nFrom: Taro <taro@example.jp>\nTo: 5550100@vzwpix.com\nSubject: hi\n";
        let p = parse(m);
        let input = Input::new(&p, Hints::default());
        assert!(Verizon.sniff(&input));
        let b = Verizon.decode(&input).unwrap();
        assert_eq!(b.failures[0].recipient, "5550100@vzwpix.com");
    }

    #[test]
    fn needs_an_error_line() {
        let m = b"From: friend@vtext.com\nSubject: hi\n\nTo: me@example.jp\nsee you\n";
        let p = parse(m);
        let input = Input::new(&p, Hints::default());
        assert!(Verizon.decode(&input).is_none());
    }
}
