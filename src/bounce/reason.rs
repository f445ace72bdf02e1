//! Why a delivery failed, in the bounce-reason taxonomy of the reference
//! corpus (Sisimai's reason names), decided from the diagnostic text first
//! and the status/reply codes second: a `5.1.1` whose text says "mailbox
//! full" is `mailboxfull`.
//!
//! The phrase tables are data: lowercase substrings, each with where it comes
//! from. Order matters only between reasons: `classify` tries the reasons in
//! `PHRASES` order and the first reason with a matching phrase wins, so the
//! more specific reasons (mailbox full, spam) come before the generic ones.

use super::status::Status;
use super::types::{Action, Failure, Kind};

/// A bounce reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    AuthFailure,
    BadReputation,
    Blocked,
    ContentError,
    Delivered,
    ExceedLimit,
    Expired,
    FailedStartTls,
    Feedback,
    Filtered,
    HasMoved,
    HostUnknown,
    MailboxFull,
    MailerError,
    MesgTooBig,
    NetworkError,
    NoRelaying,
    NotAccept,
    NotCompliantRfc,
    OnHold,
    PolicyViolation,
    Rejected,
    RequirePtr,
    SecurityError,
    SpamDetected,
    Speeding,
    Suppressed,
    Suspend,
    SyntaxError,
    SystemError,
    SystemFull,
    TooManyConn,
    Undefined,
    UserUnknown,
    Vacation,
    VirusDetected,
}

impl Reason {
    /// The name used in the outputs (the corpus' names).
    pub fn as_str(self) -> &'static str {
        use Reason::*;
        match self {
            AuthFailure => "authfailure",
            BadReputation => "badreputation",
            Blocked => "blocked",
            ContentError => "contenterror",
            Delivered => "delivered",
            ExceedLimit => "exceedlimit",
            Expired => "expired",
            FailedStartTls => "failedstarttls",
            Feedback => "feedback",
            Filtered => "filtered",
            HasMoved => "hasmoved",
            HostUnknown => "hostunknown",
            MailboxFull => "mailboxfull",
            MailerError => "mailererror",
            MesgTooBig => "mesgtoobig",
            NetworkError => "networkerror",
            NoRelaying => "norelaying",
            NotAccept => "notaccept",
            NotCompliantRfc => "notcompliantrfc",
            OnHold => "onhold",
            PolicyViolation => "policyviolation",
            Rejected => "rejected",
            RequirePtr => "requireptr",
            SecurityError => "securityerror",
            SpamDetected => "spamdetected",
            Speeding => "speeding",
            Suppressed => "suppressed",
            Suspend => "suspend",
            SyntaxError => "syntaxerror",
            SystemError => "systemerror",
            SystemFull => "systemfull",
            TooManyConn => "toomanyconn",
            Undefined => "undefined",
            UserUnknown => "userunknown",
            Vacation => "vacation",
            VirusDetected => "virusdetected",
        }
    }
}

/// Diagnostic phrases per reason (lowercase substrings). Sources: the
/// default texts of the MTAs named, providers' published error pages, and
/// RFC 3463 descriptions.
pub const PHRASES: &[(Reason, &[&str])] = &[
    (
        Reason::MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox_full",
            "mailbox size limit exceeded", // Postfix, Exim
            "over quota",
            "overquota",
            "quota exceeded",
            "exceeded storage allocation", // Sendmail, Courier
            "user is over quota",
            "mailbox has exceeded",
            "is over its quota",
            "disk quota exceeded",
            "insufficient disk space",
            "account is full",
            "mailbox is over quota",
            "the email account that you tried to reach is over quota", // Gmail
            "mailfolder is full",
            "too much mail data",
            "user's mailbox is full",
        ],
    ),
    (
        Reason::MesgTooBig,
        &[
            "message too large",
            "message size exceeds",
            "message is too big",
            "message too big",
            "exceeds size limit",
            "message length exceeds",
            "size limit",
            "mail size limit exceeded",
            "message file too big",
            "exceeded maximum inbound message size",
        ],
    ),
    (
        Reason::VirusDetected,
        &["virus", "malware detected", "infected"],
    ),
    (
        Reason::SpamDetected,
        &[
            "spam",
            "junk mail",
            "message content rejected",
            "content rejected",
            "rejected due to content",
            "bulk mail",
            "detected as spam",
            "considered unsolicited",
            "unsolicited mail",
            "listed in spamhaus",
            "high probability of being spam",
        ],
    ),
    (
        Reason::Suspend,
        &[
            "account disabled",
            "account has been disabled",
            "mailbox disabled",
            "is disabled",
            "account is disabled",
            "account inactive",
            "inactive account",
            "mailbox is inactive",
            "suspended",
            "account has been suspended",
            "mailbox unavailable: disabled",
            "this account has been disabled",
            "deactivated",
        ],
    ),
    (
        Reason::HasMoved,
        &["has been moved", "address changed", "has moved"],
    ),
    (
        Reason::UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "user not found",
            "no such mailbox",
            "recipient not found",
            "unknown recipient",
            "recipient address rejected: user unknown",
            "mailbox not found",
            "address does not exist",
            "does not exist",
            "doesn't exist",
            "invalid recipient",
            "recipient unknown",
            "unknown address",
            "no mailbox here",
            "unrouteable address",
            "no such recipient",
            "user doesn't have a",
            "not our customer",
            "recipientnotfound",
            "resolver.adr.recipientnotfound",
            "invalid mailbox",
            "mailbox unavailable",
            "account that you tried to reach does not exist",
            "no longer available",
            "addressee unknown",
            "bad recipient address",
            "unknown local part",
            "this user doesn't have",
            "recipient no longer on server",
            "not a valid mailbox",
            "user does not exist",
            "mailbox does not exist",
            "no such address",
            "undeliverable address",
            "address rejected",
            "is not a valid",
            "not listed in",
            "unknown or illegal alias",
            "550 5.1.1",
            "#5.1.1",
            "said: 550 5.1.1",
        ],
    ),
    (
        Reason::HostUnknown,
        &[
            "host unknown",
            "host not found",
            "unknown host",
            "domain not found",
            "no such domain",
            "name or service not known",
            "domain does not exist",
            "unrouteable mail domain",
            "host or domain name not found",
            "no mx",
            "nxdomain",
            "domain must exist",
            "mail for the domain",
            "unrouteable domain",
        ],
    ),
    (
        Reason::NoRelaying,
        &[
            "relaying denied",
            "relay access denied",
            "relay not permitted",
            "not permitted to relay",
            "we do not relay",
            "relaying mail to",
            "unable to relay",
            "relay denied",
            "not allowed to relay",
        ],
    ),
    (
        Reason::Expired,
        &[
            "retry timeout exceeded",
            "delivery time expired",
            "message expired",
            "queue too long",
            "giving up on",
            "could not be delivered for",
            "has been delayed",
            "retry time not reached",
            "was not delivered within",
            "time limit exceeded",
            "expired",
            "too long in queue",
        ],
    ),
    (
        Reason::AuthFailure,
        &["spf", "dkim", "dmarc", "authentication failed"],
    ),
    (
        Reason::RequirePtr,
        &[
            "reverse dns",
            "no ptr",
            "ptr record",
            "cannot find your hostname",
            "cannot resolve your address",
        ],
    ),
    (
        Reason::BadReputation,
        &["reputation", "ip addresses that have a poor"],
    ),
    (
        Reason::Blocked,
        &[
            "blocked",
            "blacklist",
            "block list",
            "blocklist",
            "denylist",
            "rbl",
            "dnsbl",
            "access denied",
            "client host rejected",
            "connection refused",
            "refused to talk",
            "listed at",
            "is listed",
            "your ip",
            "poor reputation",
            "banned",
            "not allowed to send",
        ],
    ),
    (
        Reason::TooManyConn,
        &[
            "too many connections",
            "too many recipients",
            "connection limit",
        ],
    ),
    (
        Reason::Speeding,
        &["rate limit", "too many messages", "sending rate", "throttl"],
    ),
    (
        Reason::ExceedLimit,
        &["exceeded the limit", "limit exceeded"],
    ),
    (
        Reason::SecurityError,
        &["security policy", "tls required", "encryption required"],
    ),
    (Reason::FailedStartTls, &["starttls"]),
    (
        Reason::SyntaxError,
        &[
            "syntax error",
            "command unrecognized",
            "bad sequence of commands",
        ],
    ),
    (
        Reason::NotAccept,
        &[
            "does not accept mail",
            "null mx",
            "accepts no mail",
            "not accept mail",
        ],
    ),
    (
        Reason::PolicyViolation,
        &["policy", "prohibited", "not allowed", "violat"],
    ),
    (
        Reason::ContentError,
        &[
            "header error",
            "invalid header",
            "content error",
            "message header",
        ],
    ),
    (
        Reason::NetworkError,
        &[
            "network error",
            "connection timed out",
            "loop detected",
            "mail loop",
            "too many hops",
        ],
    ),
    (
        Reason::SystemFull,
        &["system full", "insufficient system storage", "out of disk"],
    ),
    (
        Reason::SystemError,
        &[
            "system error",
            "internal error",
            "local error",
            "server error",
            "temporary failure",
        ],
    ),
    (
        Reason::MailerError,
        &[
            "mailer error",
            "command failed",
            "exit code",
            "unknown mailer",
            "program",
        ],
    ),
    (
        Reason::Rejected,
        &[
            "sender rejected",
            "sender address rejected",
            "domain of sender",
            "rejected",
        ],
    ),
];

/// Reason from an enhanced status code alone (RFC 3463 subjects/details).
fn from_status(s: Status) -> Option<Reason> {
    use Reason::*;
    Some(match (s.subject, s.detail) {
        (1, 1) | (1, 10) => UserUnknown,
        (1, 2) => HostUnknown,
        (1, 3) => SyntaxError,
        (1, 6) => HasMoved,
        (1, 8) => Rejected,
        (2, 1) => Suspend,
        (2, 2) => MailboxFull,
        (2, 3) => MesgTooBig,
        (2, 4) => MailerError,
        (3, 1) => SystemFull,
        (3, 4) => MesgTooBig,
        (3, _) => SystemError,
        (4, 1) | (4, 2) => NetworkError,
        (4, 3) => SystemError,
        (4, 4) | (4, 6) => NetworkError,
        (4, 7) => Expired,
        (5, 3) => TooManyConn,
        (5, _) => SyntaxError,
        (6, _) => ContentError,
        (7, 1) => Blocked,
        (7, 25) | (7, 27) => RequirePtr,
        (7, 23) | (7, 24) | (7, 26) => AuthFailure,
        (7, 7) | (7, 8) | (7, 9) => SecurityError,
        (7, _) => PolicyViolation,
        _ => return None,
    })
}

/// Decides a failure's reason.
pub fn classify(f: &Failure, kind: Kind) -> Reason {
    match kind {
        Kind::Autoreply => return Reason::Vacation,
        Kind::Feedback => return Reason::Feedback,
        _ => {}
    }
    if f.action == Some(Action::Delivered)
        || f.action == Some(Action::Relayed)
        || f.action == Some(Action::Expanded)
    {
        return Reason::Delivered;
    }
    if let Some(d) = &f.diagnostic {
        if let Some(r) = from_text(d) {
            return r;
        }
    }
    if let Some(s) = f.status.filter(|s| s.is_real()) {
        if let Some(r) = from_status(s) {
            return r;
        }
    }
    if f.action == Some(Action::Delayed) {
        return Reason::Expired;
    }
    match f.reply_code {
        Some(550 | 551 | 553) => Reason::UserUnknown,
        Some(552) => Reason::MailboxFull,
        Some(554) => Reason::Rejected,
        Some(421) => Reason::Blocked,
        _ => Reason::Undefined,
    }
}

/// The reason a diagnostic text names, if any.
pub fn from_text(text: &str) -> Option<Reason> {
    let lower = text.to_lowercase();
    PHRASES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| lower.contains(p)))
        .map(|(r, _)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(diag: &str, status: &str) -> Failure {
        Failure {
            diagnostic: Some(diag.into()),
            status: Status::parse(status),
            ..Default::default()
        }
    }

    #[test]
    fn text_beats_status() {
        assert_eq!(
            classify(&f("552 5.1.1 mailbox full", "5.1.1"), Kind::Dsn),
            Reason::MailboxFull
        );
        assert_eq!(
            classify(&f("550 5.1.1 <a@b>: User unknown", "5.1.1"), Kind::Dsn),
            Reason::UserUnknown
        );
        assert_eq!(classify(&f("", "5.2.2"), Kind::Dsn), Reason::MailboxFull);
        assert_eq!(classify(&f("", ""), Kind::Autoreply), Reason::Vacation);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = PHRASES.iter().map(|(r, _)| r.as_str()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
