//! Feedback reports (RFC 5965 ARF): a mailbox provider tells the sender that
//! a recipient reported the message (abuse, fraud, opt-out). Feedback-Type,
//! Source-IP, Original-Rcpt-To and Arrival-Date are read from the
//! `message/feedback-report` part; the reported message comes back as
//! `message/rfc822` or `text/rfc822-headers`.
//!
//! Also recognizes two reports without a `message/feedback-report` part:
//! - Hotmail/Outlook.com complaints (JMRP): a bare `message/rfc822` part
//!   whose headers name the complaining recipient in
//!   `X-HmXmrOriginalRecipient` (triage flags their subject);
//! - a mail client's automatic unsubscribe message (Apple Mail: "Apple Mail
//!   sent this email to unsubscribe from the message ..."): an opt-out by
//!   the sender of that message, whatever its Auto-Submitted header says.
//!
//! Fixtures: `tests/fixtures/bounce/arf-*.eml` and the unit tests below.
//!
//! Known gaps: other providers' non-ARF complaint formats.

use super::dsn::{clean_address, unfolded_fields};
use super::types::{Action, Bounce, Failure, Kind};
use super::{returned_original, Decoder, Input};

/// The ARF decoder.
pub struct Arf;

impl Decoder for Arf {
    fn name(&self) -> &'static str {
        "arf"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        input.hints.feedback
            || input.parsed.part(&["message/feedback-report"]).is_some()
            || input.subject.trim().eq_ignore_ascii_case("unsubscribe")
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let Some(part) = input.parsed.part(&["message/feedback-report"]) else {
            return self.hotmail(input).or_else(|| self.unsubscribe(input));
        };
        let fields = unfolded_fields(&part.text());
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let original = returned_original(input);
        let mut recipients: Vec<String> = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Original-Rcpt-To"))
            .filter_map(|(_, v)| clean_address(v))
            .collect();
        if recipients.is_empty() {
            if let Some(to) = original
                .as_ref()
                .and_then(|o| o.to.as_deref())
                .and_then(clean_address)
            {
                recipients.push(to);
            }
        }
        if recipients.is_empty() {
            recipients.push("undisclosed-recipients@unknown.invalid".to_string());
        }
        let feedback_type = get("Feedback-Type").map(|v| v.to_ascii_lowercase());
        let source_ip = get("Source-IP");
        let mut b = Bounce::new(Kind::Feedback, self.name());
        b.reporting_mta = get("Reporting-MTA").map(|v| super::dsn::strip_type(&v).to_string());
        b.arrival_date = get("Arrival-Date").or_else(|| get("Received-Date"));
        // Who reported what: an RFC 6591 authentication-failure report (a
        // DMARC failure report) comes from the receiving system, not from a
        // person who pressed "report spam".
        let said = match feedback_type.as_deref() {
            Some("auth-failure") => match get("Auth-Failure") {
                Some(f) => format!("authentication failure ({f}) reported by the receiving system"),
                None => "authentication failure reported by the receiving system".to_string(),
            },
            _ => "reported by recipient".to_string(),
        };
        let diagnostic = source_ip
            .as_ref()
            .map(|ip| format!("{said}; Source-IP: {ip}"));
        for r in recipients {
            b.failures.push(Failure {
                recipient: r,
                action: Some(Action::Reported),
                feedback_type: feedback_type.clone(),
                diagnostic: diagnostic.clone(),
                ..Default::default()
            });
        }
        b.original = original;
        b.source_ip = source_ip.and_then(|v| {
            let ip = v.trim().trim_matches(|c| c == '[' || c == ']');
            ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
        });
        Some(b)
    }
}

/// Sentences of automatic unsubscribe messages written by mail clients
/// (lowercase, sorted).
const UNSUBSCRIBE_NOTICES: &[&str] = &[
    "sent this email to unsubscribe from the message", // Apple Mail (iOS/macOS "Unsubscribe" button)
];

/// The header naming the complaining recipient in Hotmail/Outlook.com
/// complaint reports (JMRP), inside the returned message.
const HOTMAIL_RECIPIENT: &str = "x-hmxmroriginalrecipient";

impl Arf {
    /// Hotmail/Outlook.com complaint: the recipient from
    /// `X-HmXmrOriginalRecipient` in the returned message's headers.
    fn hotmail(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let part = input.original_part()?;
        let raw = part.raw();
        let head_end = [&b"\n\n"[..], b"\r\n\r\n"]
            .iter()
            .filter_map(|sep| memchr::memmem::find(&raw, sep))
            .min()
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..head_end]);
        let recipient = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case(HOTMAIL_RECIPIENT)
                .then(|| clean_address(value))?
        })?;
        let mut b = Bounce::new(Kind::Feedback, self.name());
        b.failures.push(Failure {
            recipient,
            action: Some(Action::Reported),
            feedback_type: Some("abuse".to_string()),
            diagnostic: Some(input.subject.trim().to_string()),
            ..Default::default()
        });
        b.original = returned_original(input);
        Some(b)
    }

    /// A mail client's automatic unsubscribe message: an opt-out by its sender.
    fn unsubscribe(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let lower = input.text().to_lowercase();
        let line = lower
            .lines()
            .map(str::trim)
            .find(|l| UNSUBSCRIBE_NOTICES.iter().any(|n| l.contains(n)))?
            .to_string();
        let mut b = Bounce::new(Kind::Feedback, self.name());
        b.failures.push(Failure {
            recipient: clean_address(&input.from)?,
            action: Some(Action::Reported),
            feedback_type: Some("opt-out".to_string()),
            diagnostic: Some(line),
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
    fn hotmail_complaint_without_report_part() {
        let m = b"From: staff@hotmail.example\nSubject: complaint about message from 192.0.2.9\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"H\"\n\n--H\nContent-Type: message/rfc822\n\nX-HmXmrOriginalRecipient: <rina@example.com>\nFrom: taro@example.jp\nTo: rina@example.com\nSubject: sale\n\nhi\n--H--\n";
        let p = parse(m);
        let hints = Hints {
            feedback: true,
            bounce_subject: true,
            ..Default::default()
        };
        let b = detect(&p, hints).unwrap();
        assert_eq!(b.kind, Kind::Feedback);
        assert_eq!(b.failures[0].recipient, "rina@example.com");
    }

    #[test]
    fn a_dmarc_failure_report_says_who_reported() {
        let m = b"From: dmarc-noreply@mx.example.org\nSubject: Report domain: example.jp\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\n\n--F\nContent-Type: text/plain\n\nThis is an authentication failure report.\n--F\nContent-Type: message/feedback-report\n\nFeedback-Type: auth-failure\nUser-Agent: x/1.0\nVersion: 1\nAuth-Failure: dmarc\nSource-IP: 203.0.113.9\nOriginal-Rcpt-To: <kana@example.org>\n--F\nContent-Type: text/rfc822-headers\n\nFrom: taro@example.jp\nTo: kana@example.org\nSubject: invoice\n--F--\n";
        let p = parse(m);
        let hints = Hints {
            feedback: true,
            report: true,
            ..Default::default()
        };
        let b = detect(&p, hints).unwrap();
        assert_eq!(b.kind, Kind::Feedback);
        let f = &b.failures[0];
        assert_eq!(f.recipient, "kana@example.org");
        assert_eq!(f.feedback_type.as_deref(), Some("auth-failure"));
        assert_eq!(
            f.diagnostic.as_deref(),
            Some("authentication failure (dmarc) reported by the receiving system; Source-IP: 203.0.113.9")
        );
    }

    #[test]
    fn apple_mail_unsubscribe_is_feedback_not_autoreply() {
        let m = "From: mio@icloud.example\nTo: opt-out-1@example.org\nSubject: unsubscribe\nAuto-Submitted: auto-replied\nContent-Type: text/plain; charset=UTF-8\n\nApple Mail sent this email to unsubscribe from the message \u{201c}Sale\u{201d}.\n";
        let p = parse(m.as_bytes());
        let hints = Hints {
            autoreply: true,
            ..Default::default()
        };
        let b = detect(&p, hints).unwrap();
        assert_eq!(b.kind, Kind::Feedback);
        assert_eq!(b.failures[0].recipient, "mio@icloud.example");
        assert_eq!(b.failures[0].feedback_type.as_deref(), Some("opt-out"));
    }
}
