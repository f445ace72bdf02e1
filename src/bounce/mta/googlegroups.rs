//! Google Groups posting refusals: "the group you tried to contact (name)
//! may not exist, or you may not have permission to post messages to the
//! group", written in the sender's language (English, Japanese, Arabic,
//! Spanish, Persian, French, Hebrew, Ukrainian, Chinese, ...), with no
//! reply code, no status and no report part. The group's address is in
//! `X-Failed-Recipients`; the only language-independent marks are that
//! header and the Help Center link.
//!
//! Recognizes: mail from a `googlemail.com`/`google.com` daemon with an
//! `X-Failed-Recipients` header whose text links `HELP_LINKS`. The notice
//! always means the same thing (the group refused the post), so the
//! decoder sets the reason `rejected` itself instead of leaving it to the
//! English phrase tables.
//!
//! Fixtures: the unit tests below.
//!
//! Known gaps: the explanation line is found by the group's name inside
//! it; a notice that does not repeat the name gets the first paragraph
//! after the greeting.

use std::sync::OnceLock;

use super::{contains_ci, Needle};
use crate::bounce::reason::Reason;
use crate::bounce::types::{Bounce, Failure, Kind};
use crate::bounce::{dsn::clean_address, Decoder, Input};

/// The Google Groups decoder.
pub struct GoogleGroups;

/// Links every Google Groups refusal carries, whatever its language
/// (lowercase, sorted; from the notices themselves).
const HELP_LINKS: &[&str] = &[
    "groups.google.com/support", // "visit the Help Center at https://groups.google.com/support/"
];

impl Decoder for GoogleGroups {
    fn name(&self) -> &'static str {
        "googlegroups"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        const GOOGLEMAIL: Needle = Needle::new("@googlemail.com");
        const GOOGLE: Needle = Needle::new("@google.com");
        input.hints.failed_recipients
            && (contains_ci(&input.from, &GOOGLEMAIL) || contains_ci(&input.from, &GOOGLE))
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        // The error head's lines, shared with the text decoder that reads
        // the other bounces from Google's daemons. Its lowercase copy
        // answers the ASCII-case-blind search: no link holds the ASCII
        // letters that other letters lowercase to (`k` from the Kelvin
        // sign, `i` from `İ`), nor a line end.
        static LINKS: OnceLock<Vec<memchr::memmem::Finder<'static>>> = OnceLock::new();
        let links = LINKS.get_or_init(|| {
            HELP_LINKS
                .iter()
                .map(|l| memchr::memmem::Finder::new(l.as_bytes()))
                .collect()
        });
        let head = input.error_lines();
        if !links
            .iter()
            .any(|l| l.find(head.lower_text().as_bytes()).is_some())
        {
            return None;
        }
        let header = input.header("X-Failed-Recipients")?;
        let lines: Vec<&str> = head.lines().iter().map(|l| l.trim()).collect();
        let mut b = Bounce::new(Kind::MtaText, self.name());
        for rcpt in header.split(',').filter_map(clean_address) {
            let group = rcpt.split('@').next().unwrap_or("").to_string();
            b.failures.push(Failure {
                diagnostic: explanation(&lines, &group),
                recipient: rcpt,
                reason: Some(Reason::Rejected),
                ..Default::default()
            });
        }
        Some(b)
    }
}

/// The sentence naming the group ("... (libsisimai) may not exist ..."),
/// else the first line after the greeting (the line naming the sender).
fn explanation(lines: &[&str], group: &str) -> Option<String> {
    let named = (!group.is_empty())
        .then(|| {
            lines
                .iter()
                .find(|l| l.to_lowercase().contains(group) && !l.contains('@'))
        })
        .flatten();
    let line = named.or_else(|| {
        let greeting = lines.iter().position(|l| l.contains('@'))?;
        lines.iter().skip(greeting + 1).find(|l| !l.is_empty())
    })?;
    Some(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_links_are_ascii_without_i_or_k() {
        for l in HELP_LINKS {
            assert!(l.is_ascii() && !l.contains(['i', 'k']), "{l}");
            assert_eq!(*l, l.to_ascii_lowercase());
        }
    }
    use crate::parse::parse;
    use crate::triage::Hints;

    fn decode(m: &[u8]) -> Option<Bounce> {
        let p = parse(m);
        let input = Input::new(
            &p,
            Hints {
                failed_recipients: true,
                daemon_sender: true,
                ..Default::default()
            },
        );
        GoogleGroups
            .sniff(&input)
            .then(|| GoogleGroups.decode(&input))
            .flatten()
    }

    #[test]
    fn english_notice() {
        let m = "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nX-Failed-Recipients: cats-club@googlegroups.com\nSubject: Delivery Status Notification (Failure)\n\nHello taro@example.jp,\n\nWe're writing to let you know that the group you tried to contact (cats-club) may not exist, or you may not have permission to post messages to the group.\n\nIf you have questions, visit the Help Center at https://groups.google.com/support/.\n\nThanks,\n\nGoogle Groups\n".as_bytes();
        let b = decode(m).unwrap();
        let f = &b.failures[0];
        assert_eq!(f.recipient, "cats-club@googlegroups.com");
        assert!(f
            .diagnostic
            .as_deref()
            .unwrap()
            .contains("permission to post"));
        assert_eq!(f.reason, Some(Reason::Rejected));
        assert_eq!((f.status, f.reply_code, f.command), (None, None, None));
    }

    #[test]
    fn other_language_notice() {
        let m = "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nX-Failed-Recipients: nekoclub@googlegroups.com\nContent-Type: text/plain; charset=UTF-8\n\ntaro@example.jp 様\n\n連絡しようとしたグループ（nekoclub）が存在しないか、グループにメッセージを投稿する権限がない可能性があります。\n\nhttps://groups.google.com/support/ からヘルプセンターにアクセスしてください。\n".as_bytes();
        let b = decode(m).unwrap();
        assert!(b.failures[0]
            .diagnostic
            .as_deref()
            .unwrap()
            .contains("（nekoclub）"));
    }

    #[test]
    fn not_without_the_link() {
        let m = b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nX-Failed-Recipients: bob@example.net\n\nDelivery to the following recipient failed permanently:\n\n     bob@example.net\n";
        assert!(decode(m).is_none());
    }
}
