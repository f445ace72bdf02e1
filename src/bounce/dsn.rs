//! RFC 3464 delivery-status fields (and RFC 6533 `message/global-delivery-status`):
//! the shared reader every decoder may use, and the `rfc3464` decoder that
//! reads any report carrying such a part.

use super::status::Status;
use super::types::{Action, Bounce, Failure, Kind, StatusSource};
use super::{Decoder, Input};

/// Fields of a delivery-status report.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub reporting_mta: Option<String>,
    pub arrival_date: Option<String>,
    pub recipients: Vec<Failure>,
}

/// Strips an RFC 3464 type prefix (`rfc822;`, `dns;`, `smtp;`).
pub fn strip_type(v: &str) -> &str {
    match v.find(';') {
        Some(i)
            if i < 12
                && v[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            v[i + 1..].trim()
        }
        _ => v.trim(),
    }
}

/// Cleans an address field: type prefix, angle brackets, quotes, trailing
/// junk; lowercase. None when no `@` address remains.
pub fn clean_address(v: &str) -> Option<String> {
    let v = strip_type(v);
    let v = match (v.find('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    let v = v.trim().trim_matches(|c: char| {
        c == '"' || c == '\'' || c == ',' || c == ';' || c == '.' || c == ':'
    });
    let v = v.split_whitespace().next()?;
    let v = v.trim_matches(|c: char| c == '<' || c == '>' || c == '(' || c == ')');
    let at = v.rfind('@')?;
    if at == 0 || at + 1 >= v.len() || v.contains(['<', '>', ' ']) {
        return None;
    }
    Some(v.to_lowercase())
}

/// Reads the fields of a delivery-status body. Groups are separated by empty
/// lines; a `Final-Recipient`/`Original-Recipient` after a complete recipient
/// also starts a new group (some generators omit the empty lines).
pub fn read(text: &str) -> Report {
    let mut report = Report::default();
    let mut cur: Option<Failure> = None;
    let mut cur_has_final = false;
    let push = |cur: &mut Option<Failure>, report: &mut Report| {
        if let Some(f) = cur.take() {
            if !f.recipient.is_empty() {
                report.recipients.push(f);
            }
        }
    };
    for (name, value) in unfolded_fields(text) {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "reporting-mta" => {
                report.reporting_mta = report
                    .reporting_mta
                    .take()
                    .or(Some(strip_type(&value).to_string()))
            }
            "arrival-date" => {
                report.arrival_date = report.arrival_date.take().or(Some(value.clone()))
            }
            "final-recipient" | "original-recipient" => {
                let addr = clean_address(&value);
                let starts_new = match &cur {
                    None => true,
                    Some(f) => {
                        (name == "final-recipient" && cur_has_final)
                            || (name == "original-recipient" && f.original_recipient.is_some())
                    }
                };
                if starts_new {
                    push(&mut cur, &mut report);
                    cur = Some(Failure::default());
                    cur_has_final = false;
                }
                let f = cur.as_mut().expect("set above");
                if name == "final-recipient" {
                    cur_has_final = true;
                    if let Some(a) = addr {
                        f.recipient = a;
                    }
                } else {
                    f.original_recipient = addr.clone();
                    if f.recipient.is_empty() {
                        if let Some(a) = addr {
                            f.recipient = a;
                        }
                    }
                }
            }
            _ => {
                let Some(f) = cur.as_mut() else { continue };
                match name.as_str() {
                    "action" => f.action = Action::parse(&value),
                    "status" => {
                        let first = value.split_whitespace().next().unwrap_or("");
                        if let Some(s) = Status::parse(first).or_else(|| Status::find(&value)) {
                            f.status = Some(s);
                            f.status_source = StatusSource::Report;
                        }
                    }
                    "diagnostic-code" => {
                        let d = strip_type(&value).to_string();
                        if !d.is_empty() {
                            f.diagnostic = Some(d);
                        }
                    }
                    "remote-mta" => f.remote_mta = Some(strip_type(&value).to_string()),
                    "last-attempt-date" => f.last_attempt = Some(value.clone()),
                    _ => {}
                }
            }
        }
    }
    push(&mut cur, &mut report);
    report
}

/// `Name: value` fields of a text, continuation lines joined with one space;
/// lines that are not fields are skipped.
pub fn unfolded_fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut last_was_field = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            last_was_field = false;
            // Keep an empty marker so callers could see groups; not needed here.
            continue;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && last_was_field {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        match line.find(':') {
            Some(c)
                if c > 0
                    && line[..c]
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') =>
            {
                out.push((line[..c].to_string(), line[c + 1..].trim().to_string()));
                last_was_field = true;
            }
            _ => last_was_field = false,
        }
    }
    out
}

/// The RFC 3464 decoder: any message with a delivery-status part, or whose
/// text holds `Final-Recipient:` fields.
pub struct Rfc3464;

impl Decoder for Rfc3464 {
    fn name(&self) -> &'static str {
        "rfc3464"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        input.status_part().is_some()
            || input.hints.report
            || input.text().contains("Final-Recipient")
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let (text, kind) = match input.status_part() {
            Some(t) => (t, Kind::Dsn),
            None => (input.text().to_string(), Kind::MtaText),
        };
        let report = read(&text);
        if report.recipients.is_empty() {
            return None;
        }
        let mut b = Bounce::new(kind, self.name());
        b.reporting_mta = report.reporting_mta;
        b.arrival_date = report.arrival_date;
        b.failures = report.recipients;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups() {
        let t = "Reporting-MTA: dns; mx.example.jp\nArrival-Date: Tue, 3 Nov 2026 09:00:00 +0900\n\nFinal-Recipient: rfc822; Alice@Example.NET\nOriginal-Recipient: rfc822;alias@example.net\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 <alice@example.net>:\n    Recipient address rejected: User unknown\n\nFinal-Recipient: rfc822; bob@example.org\nAction: delayed\nStatus: 4.4.7\n";
        let r = read(t);
        assert_eq!(r.reporting_mta.as_deref(), Some("mx.example.jp"));
        assert_eq!(r.recipients.len(), 2);
        let a = &r.recipients[0];
        assert_eq!(a.recipient, "alice@example.net");
        assert_eq!(a.original_recipient.as_deref(), Some("alias@example.net"));
        assert_eq!(a.status.unwrap().to_string(), "5.1.1");
        assert_eq!(
            a.diagnostic.as_deref(),
            Some("550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown")
        );
        assert_eq!(r.recipients[1].action, Some(Action::Delayed));
    }

    #[test]
    fn groups_without_blank_lines() {
        let r = read("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.0.0\nFinal-Recipient: rfc822; b@x.example\nAction: failed\nStatus: 5.1.1\n");
        assert_eq!(r.recipients.len(), 2);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            clean_address("rfc822; <A@B.example>").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(
            clean_address("rfc822;\"x@y.example\"").as_deref(),
            Some("x@y.example")
        );
        assert_eq!(clean_address("rfc822; unknown"), None);
    }
}
