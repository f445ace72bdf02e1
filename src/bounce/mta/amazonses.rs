//! Amazon SES notifications in JSON: the body of an SNS e-mail
//! subscription ("AWS Notification Message"), either the SES event itself
//! (`{"notificationType":"Bounce",...}`) or the SNS envelope
//! (`{"Type":"Notification","Message":"{...}"}`).
//!
//! Recognizes: `notificationType` `Bounce` (one failure per
//! `bouncedRecipients` entry, with `status`, `action`, `diagnosticCode`),
//! `Complaint` (a feedback row per `complainedRecipients` entry) and
//! `Delivery` (a delivered row per `delivery.recipients`, with
//! `smtpResponse`). Field names from the Amazon SES developer guide,
//! "Contents of notifications for Amazon SES".
//!
//! Fixtures: the unit tests below (bounce, complaint, delivery, folded JSON).
//!
//! Known gaps: SES bounces sent as ordinary DSN mail (not JSON) are left to
//! the RFC 3464 reader; `bounceSubType` is not mapped to a reason here.

use serde_json::Value;

use super::{contains_ci, Needle};
use crate::bounce::dsn::clean_address;
use crate::bounce::types::{Action, Bounce, Failure, Kind};
use crate::bounce::{Decoder, Input};
use crate::original::Original;

/// The Amazon SES JSON decoder.
pub struct AmazonSes;

impl Decoder for AmazonSes {
    fn name(&self) -> &'static str {
        "amazonses"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        const AWS: Needle = Needle::new("amazonaws.com");
        const SES: Needle = Needle::new("amazonses.com");
        // Both domains start with "amazon": one search rules out both for
        // the other bounces' Froms.
        const AMAZON: Needle = Needle::new("amazon");
        contains_ci(&input.from, &AMAZON)
            && (contains_ci(&input.from, &AWS) || contains_ci(&input.from, &SES))
            && input.text().contains("notificationType")
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let event = event(input.text())?;
        let kind = event
            .get("notificationType")?
            .as_str()?
            .to_ascii_lowercase();
        let mut b = match kind.as_str() {
            "bounce" => bounce(event.get("bounce")?),
            "complaint" => complaint(event.get("complaint")?),
            "delivery" => delivery(event.get("delivery")?),
            _ => return None,
        };
        b.original = original(event.get("mail"));
        Some(b)
    }
}

/// The SES event object in a notification body: the JSON between the
/// first `{` and the last `}`, unfolded (SNS mail wraps long lines as
/// "\n " like a header), unwrapped from an SNS envelope when there is one.
fn event(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let json = text.get(start..=end)?;
    let json = json.replace("\r\n ", "").replace("\n ", "");
    let v: Value = serde_json::from_str(&json).ok()?;
    match v.get("Message").and_then(Value::as_str) {
        Some(inner) => serde_json::from_str(inner).ok(),
        None => Some(v),
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn bounce(v: &Value) -> Bounce {
    let mut b = Bounce::new(Kind::Dsn, "amazonses");
    b.reporting_mta =
        string(v, "reportingMTA").map(|m| crate::bounce::dsn::strip_type(&m).to_string());
    for r in v
        .get("bouncedRecipients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(rcpt) = string(r, "emailAddress").and_then(|a| clean_address(&a)) else {
            continue;
        };
        b.failures.push(Failure {
            recipient: rcpt,
            action: string(r, "action").and_then(|a| Action::parse(&a)),
            status: string(r, "status").and_then(|s| crate::bounce::status::Status::parse(&s)),
            status_source: if r.get("status").is_some() {
                crate::bounce::StatusSource::Report
            } else {
                crate::bounce::StatusSource::None
            },
            diagnostic: string(r, "diagnosticCode")
                .map(|d| crate::bounce::dsn::strip_type(&d).to_string()),
            ..Default::default()
        });
    }
    b
}

fn complaint(v: &Value) -> Bounce {
    let mut b = Bounce::new(Kind::Feedback, "amazonses");
    let feedback = string(v, "complaintFeedbackType").map(|t| t.to_ascii_lowercase());
    for r in v
        .get("complainedRecipients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(rcpt) = string(r, "emailAddress").and_then(|a| clean_address(&a)) {
            b.failures.push(Failure {
                recipient: rcpt,
                action: Some(Action::Reported),
                feedback_type: feedback.clone().or_else(|| Some("abuse".to_string())),
                ..Default::default()
            });
        }
    }
    b
}

fn delivery(v: &Value) -> Bounce {
    let mut b = Bounce::new(Kind::Dsn, "amazonses");
    b.reporting_mta = string(v, "reportingMTA");
    let response = string(v, "smtpResponse");
    for r in v
        .get("recipients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(rcpt) = r.as_str().and_then(clean_address) {
            b.failures.push(Failure {
                recipient: rcpt,
                action: Some(Action::Delivered),
                diagnostic: response.clone(),
                remote_mta: string(v, "remoteMtaIp"),
                ..Default::default()
            });
        }
    }
    b
}

/// The sent message as SES describes it (`mail` object).
fn original(mail: Option<&Value>) -> Option<Original> {
    let mail = mail?;
    let headers = mail.get("commonHeaders");
    let o = Original {
        from: string(mail, "source"),
        message_id: headers
            .and_then(|h| string(h, "messageId"))
            .map(|m| m.trim_matches(|c| c == '<' || c == '>').to_string()),
        subject: headers.and_then(|h| string(h, "subject")),
        date: headers.and_then(|h| string(h, "date")),
        headers_only: true,
        ..Default::default()
    };
    (o.from.is_some() || o.subject.is_some()).then_some(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::triage::Hints;

    fn decode(body: &str) -> Option<Bounce> {
        let m = format!("From: AWS Notifications <no-reply@sns.amazonaws.com>\nSubject: AWS Notification Message\nContent-Type: text/plain\n\n{body}\n--\nIf you wish to stop receiving notifications from this topic, please click\n");
        let p = parse(m.as_bytes());
        let input = Input::new(&p, Hints::default());
        assert!(AmazonSes.sniff(&input));
        AmazonSes.decode(&input)
    }

    #[test]
    fn bounce_event() {
        let b = decode(r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"Bob@example.net","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"reportingMTA":"dns; a1-2.smtp-out.amazonses.com"},"mail":{"source":"tanaka@example.jp","commonHeaders":{"subject":"hello"}}}"#).unwrap();
        assert_eq!(b.kind, Kind::Dsn);
        assert_eq!(b.failures[0].recipient, "bob@example.net");
        assert_eq!(b.failures[0].status.unwrap().to_string(), "5.1.1");
        assert_eq!(
            b.failures[0].diagnostic.as_deref(),
            Some("550 5.1.1 user unknown")
        );
        assert_eq!(b.original.unwrap().subject.as_deref(), Some("hello"));
    }

    #[test]
    fn complaint_and_delivery_folded() {
        let b = decode("{\"notificationType\":\"Complaint\",\"complaint\":{\"complainedRecipients\":[{\"emailAddress\":\"carol@exam\n ple.org\"}],\"complaintFeedbackType\":\"abuse\"}}").unwrap();
        assert_eq!(b.kind, Kind::Feedback);
        assert_eq!(b.failures[0].recipient, "carol@example.org");
        let b = decode(r#"{"notificationType":"Delivery","delivery":{"recipients":["dave@example.com"],"smtpResponse":"250 2.6.0 Message received"}}"#).unwrap();
        assert_eq!(b.failures[0].action, Some(Action::Delivered));
    }

    #[test]
    fn sns_envelope_and_junk() {
        let inner = r#"{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[{\"emailAddress\":\"e@example.com\"}]}}"#;
        let b = decode(&format!(r#"{{"Type":"Notification","Message":"{inner}"}}"#)).unwrap();
        assert_eq!(b.failures[0].recipient, "e@example.com");
        assert!(decode("notificationType { not json }").is_none());
    }
}
