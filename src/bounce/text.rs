//! The last resort: a bounce in free text from an MTA no family decoder
//! knows. Finds the failed recipients (X-Failed-Recipients, or addresses on
//! lines of the error part of the text) and the diagnostic lines near them.
//! Runs only on messages with a machine signal, so a person's mail that
//! mentions an address is never taken for a bounce.

use regex::Regex;
use std::sync::OnceLock;

use super::dsn::clean_address;
use super::types::{Bounce, Failure, Kind};
use super::{Decoder, Input};
use crate::original::find_inline;

/// Generic free-text bounce reader.
pub struct Text;

/// An address in text, with or without angle brackets.
pub fn address_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"#)
            .expect("valid regex")
    })
}

/// Words that mark a line as part of an error explanation.
const ERROR_WORDS: &[&str] = &[
    "unknown",
    "not found",
    "does not exist",
    "rejected",
    "refused",
    "failed",
    "failure",
    "error",
    "invalid",
    "unavailable",
    "denied",
    "full",
    "quota",
    "said:",
    "reply",
    "blocked",
    "undeliverable",
    "could not",
    "couldn't",
    "unable",
    "permanent",
    "expired",
    "no such",
    "user",
    "mailbox",
    "recipient",
    "giving up",
    "550",
    "551",
    "552",
    "553",
    "554",
    "450",
    "451",
    "452",
];

impl Decoder for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        let h = input.hints;
        h.daemon_sender
            || h.null_return_path
            || h.failed_recipients
            || (h.bounce_subject && !h.forward_or_reply)
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let text = input.text();
        // Only the part before the returned original speaks of the failure.
        let cut = find_inline(text.as_bytes()).unwrap_or(text.len());
        let cut = cut_at_marker(&text[..cut]);
        let head = &text[..cut];
        let own = [
            clean_address(&input.from),
            input.header("To").and_then(|t| clean_address(&t)),
        ];
        let mut failures: Vec<Failure> = Vec::new();
        if let Some(x) = input.header("X-Failed-Recipients") {
            for a in x.split(',').filter_map(clean_address) {
                failures.push(Failure {
                    recipient: a,
                    ..Default::default()
                });
            }
        }
        let lines: Vec<&str> = head.lines().collect();
        if failures.is_empty() {
            for (i, line) in lines.iter().enumerate() {
                for m in address_regex().find_iter(line) {
                    let addr = m.as_str().trim_matches('.').to_lowercase();
                    if own.iter().any(|o| o.as_deref() == Some(addr.as_str()))
                        || is_system_address(&addr)
                        || failures.iter().any(|f| f.recipient == addr)
                    {
                        continue;
                    }
                    // The address must stand on an error line or just before one.
                    let near = lines[i..lines.len().min(i + 4)]
                        .iter()
                        .any(|l| is_error_line(l));
                    if near {
                        failures.push(Failure {
                            recipient: addr,
                            ..Default::default()
                        });
                    }
                }
            }
        }
        if failures.is_empty() {
            return None;
        }
        for f in &mut failures {
            f.diagnostic = diagnostic_for(&lines, &f.recipient);
        }
        let mut b = Bounce::new(Kind::MtaText, self.name());
        b.failures = failures;
        Some(b)
    }
}

/// Common separators after which the text is the returned message.
fn cut_at_marker(text: &str) -> usize {
    const MARKERS: &[&str] = &[
        "------ This is a copy of the message",
        "--- Below this line is a copy of the message",
        "----- Original message -----",
        "------ Original message ------",
        "----- Unsent message follows -----",
        "------ Returned message ------",
        "--- The header of the original message is following. ---",
        "Original message headers:",
    ];
    MARKERS
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len())
}

fn is_error_line(l: &str) -> bool {
    let lower = l.to_lowercase();
    ERROR_WORDS.iter().any(|w| lower.contains(w))
}

fn is_system_address(a: &str) -> bool {
    let local = a.split('@').next().unwrap_or("");
    matches!(
        local,
        "mailer-daemon"
            | "postmaster"
            | "mailer_daemon"
            | "double-bounce"
            | "root"
            | "noreply"
            | "no-reply"
    )
}

/// The diagnostic for one recipient: the error lines following (or holding)
/// the address, up to an empty line; else the first line with a reply code.
fn diagnostic_for(lines: &[&str], rcpt: &str) -> Option<String> {
    let pos = lines.iter().position(|l| l.to_lowercase().contains(rcpt));
    let mut out = Vec::new();
    if let Some(p) = pos {
        let own = lines[p].trim();
        let rest = own.to_lowercase().replace(rcpt, "");
        if rest.trim_matches(|c: char| !c.is_alphanumeric()).len() > 8 && is_error_line(own) {
            out.push(own.to_string());
        }
        for l in lines.iter().skip(p + 1).take(6) {
            if l.trim().is_empty() {
                if out.is_empty() {
                    continue;
                }
                break;
            }
            if address_regex().is_match(l) && !is_error_line(l) {
                break;
            }
            out.push(l.trim().to_string());
        }
    }
    if out.is_empty() {
        let l = lines
            .iter()
            .find(|l| super::status::find_reply_code(l).is_some())?;
        out.push(l.trim().to_string());
    }
    Some(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::triage::Hints;

    #[test]
    fn qmail_like_text() {
        let m = b"From: MAILER-DAEMON@mx.example.jp\nTo: tanaka@example.jp\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.jp.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<bob@example.net>:\n192.0.2.9 does not like recipient.\nRemote host said: 550 5.1.1 <bob@example.net>... User Unknown\nGiving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n\nFrom: tanaka@example.jp\nTo: bob@example.net\nSubject: x\n\nhi\n";
        let p = parse(m).unwrap();
        let input = Input::new(
            &p,
            Hints {
                daemon_sender: true,
                ..Default::default()
            },
        );
        let b = Text.decode(&input).unwrap();
        assert_eq!(b.failures.len(), 1);
        assert_eq!(b.failures[0].recipient, "bob@example.net");
        assert!(b.failures[0]
            .diagnostic
            .as_deref()
            .unwrap()
            .contains("550 5.1.1"));
    }
}
