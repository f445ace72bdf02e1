//! What a decoder hands on: a `Bounce` with one `Failure` per affected
//! recipient, and the returned original when the bounce carries it.

use super::reason::Reason;
use super::status::{SmtpCommand, Status};
use crate::original::Original;

/// What kind of machine answer a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// RFC 3464 delivery status notification (machine-readable report part).
    Dsn,
    /// An MTA's free-text bounce (no report part, or its report was unusable).
    MtaText,
    /// An auto-reply (RFC 3834, vacation, "address changed").
    Autoreply,
    /// An abuse/feedback report (RFC 5965 ARF).
    Feedback,
}

impl Kind {
    /// The name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dsn => "dsn",
            Kind::MtaText => "mta-text",
            Kind::Autoreply => "autoreply",
            Kind::Feedback => "feedback",
        }
    }
}

/// RFC 3464 §2.3.3 Action, plus the two kinds bouncetrail adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    /// An auto-reply answered instead of a person.
    Autoreplied,
    /// A feedback report about the message.
    Reported,
}

impl Action {
    /// Parses an Action field value (case-insensitive; tolerant of junk after it).
    pub fn parse(s: &str) -> Option<Action> {
        let t = s.trim().as_bytes();
        let w = &t[..t
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(t.len())];
        // Compared ignoring ASCII case, without a lowercase copy of the word.
        const WORDS: [(&str, Action); 7] = [
            ("failed", Action::Failed),
            ("failure", Action::Failed),
            ("delayed", Action::Delayed),
            ("delivered", Action::Delivered),
            ("deliverable", Action::Delivered),
            ("relayed", Action::Relayed),
            ("expanded", Action::Expanded),
        ];
        WORDS
            .iter()
            .find(|(name, _)| w.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, a)| a)
    }

    /// The name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
            Action::Autoreplied => "autoreplied",
            Action::Reported => "reported",
        }
    }
}

/// Where a failure's status code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusSource {
    /// No status.
    #[default]
    None,
    /// A `Status:` field of a delivery-status report.
    Report,
    /// Written in the bounce text or diagnostic.
    Text,
    /// Derived by bouncetrail from the reply code or the diagnostic wording.
    Derived,
}

impl StatusSource {
    /// The name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusSource::None => "",
            StatusSource::Report => "report",
            StatusSource::Text => "text",
            StatusSource::Derived => "derived",
        }
    }
}

/// One affected recipient of a bounce.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failure {
    /// The recipient that failed (lowercase address, no angle brackets).
    pub recipient: String,
    /// Original-Recipient, when it differs.
    pub original_recipient: Option<String>,
    pub action: Option<Action>,
    pub status: Option<Status>,
    pub status_source: StatusSource,
    /// The SMTP reply code (RFC 5321), e.g. 550.
    pub reply_code: Option<u16>,
    /// The remote server's answer or the MTA's explanation, one line.
    pub diagnostic: Option<String>,
    /// The type of the diagnostic (`smtp`, `x-unix`, ...), lowercase, when given.
    pub diagnostic_type: Option<String>,
    /// The remote host that answered.
    pub remote_mta: Option<String>,
    /// The SMTP command whose answer is reported (decoders set it from a
    /// transcript; `finish` reads it from the diagnostic otherwise).
    pub command: Option<SmtpCommand>,
    /// Last-Attempt-Date (raw).
    pub last_attempt: Option<String>,
    /// Filled by `reason::classify` once the decoder is done.
    pub reason: Option<Reason>,
    /// ARF Feedback-Type.
    pub feedback_type: Option<String>,
}

/// A decoded bounce, auto-reply or feedback report.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounce {
    pub kind: Kind,
    /// The decoder that recognised it (`rfc3464`, `postfix`, `exim`, ...).
    pub family: &'static str,
    /// The system that wrote the bounce.
    pub reporting_mta: Option<String>,
    /// Arrival-Date of the original at the reporting MTA (raw).
    pub arrival_date: Option<String>,
    /// One entry per affected recipient; never empty for a returned Bounce.
    pub failures: Vec<Failure>,
    /// The returned original, where the bounce carries it.
    pub original: Option<Original>,
    /// The address that sent the reported message (ARF `Source-IP`).
    pub source_ip: Option<String>,
}

impl Bounce {
    /// An empty bounce of a kind and family, for decoders to fill.
    pub fn new(kind: Kind, family: &'static str) -> Bounce {
        Bounce {
            kind,
            family,
            reporting_mta: None,
            arrival_date: None,
            failures: Vec::new(),
            original: None,
            source_ip: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_words_in_any_case_with_junk_after() {
        assert_eq!(Action::parse("failed"), Some(Action::Failed));
        assert_eq!(Action::parse(" FAILURE (permanent)"), Some(Action::Failed));
        assert_eq!(Action::parse("Delayed;"), Some(Action::Delayed));
        assert_eq!(Action::parse("deliverable"), Some(Action::Delivered));
        assert_eq!(Action::parse("Relayed"), Some(Action::Relayed));
        assert_eq!(Action::parse("expanded\r"), Some(Action::Expanded));
        assert_eq!(Action::parse("failedx"), None);
        assert_eq!(Action::parse("fail"), None);
        assert_eq!(Action::parse(""), None);
        assert_eq!(Action::parse("ｆailed"), None);
    }
}
