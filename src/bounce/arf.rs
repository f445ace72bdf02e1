//! Feedback reports (RFC 5965 ARF): a mailbox provider tells the sender that
//! a recipient reported the message (abuse, fraud, opt-out). Feedback-Type,
//! Source-IP, Original-Rcpt-To and Arrival-Date are read from the
//! `message/feedback-report` part; the reported message comes back as
//! `message/rfc822` or `text/rfc822-headers`.

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
        input.hints.feedback || input.parsed.part(&["message/feedback-report"]).is_some()
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let part = input.parsed.part(&["message/feedback-report"])?;
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
        for r in recipients {
            b.failures.push(Failure {
                recipient: r,
                action: Some(Action::Reported),
                feedback_type: feedback_type.clone(),
                diagnostic: source_ip
                    .as_ref()
                    .map(|ip| format!("reported by recipient; Source-IP: {ip}")),
                ..Default::default()
            });
        }
        b.original = original;
        Some(b)
    }
}
