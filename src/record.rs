//! The one output schema: a `Record` per bounce × affected recipient. The CSV
//! header, the JSONL keys and every writer come from this struct's fields,
//! in this order; the first 22 are the documented contract.

use std::sync::Arc;

use serde::Serialize;

use crate::bounce::status::Status;
use crate::bounce::Bounce;
use crate::date;
use crate::evidence;

/// One timeline row.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Record {
    /// When the original was sent (its Date), else when the bounce arrived; ISO 8601 UTC.
    pub time: Option<String>,
    /// The bounce's own Date, ISO 8601 UTC.
    pub bounce_time: Option<String>,
    /// The mailbox and source names are the same for every row of a file:
    /// shared, not copied into each row.
    #[serde(serialize_with = "shared_str")]
    pub mailbox: Arc<str>,
    #[serde(serialize_with = "shared_str")]
    pub source: Arc<str>,
    /// Byte offset of the bounce in its source file.
    pub offset: u64,
    /// dsn, mta-text, autoreply, feedback.
    pub kind: &'static str,
    pub action: Option<&'static str>,
    pub recipient: String,
    pub recipient_domain: Option<String>,
    pub status: Option<String>,
    pub reply_code: Option<u16>,
    pub reason: Option<&'static str>,
    pub diagnostic: Option<String>,
    pub reporting_mta: Option<String>,
    pub remote_mta: Option<String>,
    pub original_from: Option<String>,
    pub original_subject: Option<String>,
    pub original_message_id: Option<String>,
    pub origin_ip: Option<String>,
    /// Public hop IPs of the original, origin first, space separated.
    pub relay_ips: Option<String>,
    /// Authentication evidence, labelled, space separated.
    pub auth: Option<String>,
    /// Campaign id (`<mailbox#>-<n>`), empty for isolated bounces.
    pub campaign: Option<String>,
    // ---- beyond the contract ----
    /// The decoder that recognised the bounce.
    pub family: &'static str,
    /// report, text or derived (status computed from the reply code).
    pub status_source: Option<&'static str>,
    /// The SMTP command whose answer is reported: CONN, MAIL, RCPT, DATA.
    pub smtp_command: Option<&'static str>,
    pub original_to: Option<String>,
    /// The original's Date, raw.
    pub original_date: Option<String>,
    pub x_mailer: Option<String>,
    pub dkim_domains: Option<String>,
    pub feedback_type: Option<String>,
    pub bounce_from: Option<String>,
    pub bounce_subject: Option<String>,
    /// Index of the message in its source (0-based).
    pub message_index: u64,
    /// Which date `time` came from: original, bounce, or none.
    pub time_source: &'static str,
    /// False when the date had no usable zone (taken as UTC).
    pub time_exact: Option<bool>,
    /// Unix seconds of `time`, for sorting.
    #[serde(skip)]
    pub time_unix: Option<i64>,
    /// Unix seconds of the bounce's own Date: when the mailbox saw it (the
    /// campaign clock; an original's Date may be forged).
    #[serde(skip)]
    pub bounce_unix: Option<i64>,
    /// Position of the source in discovery order, for sorting.
    #[serde(skip)]
    pub source_index: usize,
    /// Mailbox index, for aggregation.
    #[serde(skip)]
    pub mailbox_index: usize,
    /// Sender of the original, lowercase address, for campaign grouping.
    #[serde(skip)]
    pub sender: Option<String>,
    /// The original's subject and Message-ID reduced to what a spam run
    /// keeps constant (`campaign::normalise_subject`,
    /// `campaign::message_id_pattern`): set by campaign grouping.
    #[serde(skip)]
    pub subject_pattern: Option<String>,
    #[serde(skip)]
    pub message_id_pattern: Option<String>,
}

impl crate::output::Row for Record {
    const COLUMNS: &'static [&'static str] = &[
        "time",
        "bounce_time",
        "mailbox",
        "source",
        "offset",
        "kind",
        "action",
        "recipient",
        "recipient_domain",
        "status",
        "reply_code",
        "reason",
        "diagnostic",
        "reporting_mta",
        "remote_mta",
        "original_from",
        "original_subject",
        "original_message_id",
        "origin_ip",
        "relay_ips",
        "auth",
        "campaign",
        "family",
        "status_source",
        "smtp_command",
        "original_to",
        "original_date",
        "x_mailer",
        "dkim_domains",
        "feedback_type",
        "bounce_from",
        "bounce_subject",
        "message_index",
        "time_source",
        "time_exact",
    ];

    fn cells(&self, to: &mut impl crate::output::Values) {
        // Every field named (no `..`): a new field does not compile until
        // it is written here or marked as not written.
        let Record {
            time,
            bounce_time,
            mailbox,
            source,
            offset,
            kind,
            action,
            recipient,
            recipient_domain,
            status,
            reply_code,
            reason,
            diagnostic,
            reporting_mta,
            remote_mta,
            original_from,
            original_subject,
            original_message_id,
            origin_ip,
            relay_ips,
            auth,
            campaign,
            family,
            status_source,
            smtp_command,
            original_to,
            original_date,
            x_mailer,
            dkim_domains,
            feedback_type,
            bounce_from,
            bounce_subject,
            message_index,
            time_source,
            time_exact,
            // #[serde(skip)]
            time_unix: _,
            bounce_unix: _,
            source_index: _,
            mailbox_index: _,
            sender: _,
            subject_pattern: _,
            message_id_pattern: _,
        } = self;
        // `plain`: values this program makes (ISO times, status codes,
        // names from its tables), never one to escape.
        to.opt_plain(time.as_deref());
        to.opt_plain(bounce_time.as_deref());
        to.text(mailbox);
        to.text(source);
        to.uint(*offset);
        to.plain(kind);
        to.opt_plain(*action);
        to.text(recipient);
        to.opt_text(recipient_domain.as_deref());
        to.opt_plain(status.as_deref());
        to.opt_uint(reply_code.map(u64::from));
        to.opt_plain(*reason);
        to.opt_text(diagnostic.as_deref());
        to.opt_text(reporting_mta.as_deref());
        to.opt_text(remote_mta.as_deref());
        to.opt_text(original_from.as_deref());
        to.opt_text(original_subject.as_deref());
        to.opt_text(original_message_id.as_deref());
        to.opt_text(origin_ip.as_deref());
        to.opt_text(relay_ips.as_deref());
        to.opt_text(auth.as_deref());
        to.opt_text(campaign.as_deref());
        to.plain(family);
        to.opt_plain(*status_source);
        to.opt_plain(*smtp_command);
        to.opt_text(original_to.as_deref());
        to.opt_text(original_date.as_deref());
        to.opt_text(x_mailer.as_deref());
        to.opt_text(dkim_domains.as_deref());
        to.opt_text(feedback_type.as_deref());
        to.opt_text(bounce_from.as_deref());
        to.opt_text(bounce_subject.as_deref());
        to.uint(*message_index);
        to.plain(time_source);
        to.opt_boolean(*time_exact);
    }
}

/// A shared name as the string it is (serde's `Arc` support is behind a
/// feature the crate does not need otherwise).
fn shared_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// Where a bounce was found.
pub struct Place<'a> {
    pub mailbox: &'a Arc<str>,
    pub mailbox_index: usize,
    pub source: &'a Arc<str>,
    pub source_index: usize,
    pub offset: u64,
    pub index: u64,
    /// The rows are kept for the stages after the scan (`scan::RowsTo::Keep`),
    /// not only written out.
    pub kept: bool,
}

/// Flattens one decoded bounce into rows, one per failure, appended to
/// `rows` (the caller's vector, kept from message to message: no vector
/// per bounce). The bounce (and its decoded From and Subject) is taken
/// whole: its strings move into the rows (the last row takes what all rows
/// share, the others a copy) instead of being copied and freed.
pub fn records(
    b: Bounce,
    place: &Place<'_>,
    bounce_date: Option<&str>,
    bounce_from: String,
    bounce_subject: String,
    rows: &mut Vec<Record>,
) {
    let bounce_ts = bounce_date.and_then(date::parse);
    let orig = b.original;
    let orig_ts = orig
        .as_ref()
        .and_then(|o| o.date.as_deref())
        .and_then(date::parse);
    let (ts, time_source) = match (orig_ts, bounce_ts) {
        (Some(t), _) => (Some(t), "original"),
        (None, Some(t)) => (Some(t), "bounce"),
        _ => (None, "none"),
    };
    let ev = orig.as_ref().map(evidence::analyse).unwrap_or_default();
    let mut orig = orig.unwrap_or_default();
    // The cleaned address (campaign grouping reads it) moves out of the
    // original into the rows. It is no column: rows that only go out as
    // JSON Lines go without, and the address is cleaned only if
    // `bounce::finish` or the evidence needed it.
    let sender = if place.kept {
        orig.sender();
        orig.sender.take().flatten()
    } else {
        None
    };
    let dkim_domains = join(std::mem::take(&mut orig.dkim_domains));
    // Everything of the bounce as a whole, for every row.
    let mut shared = Shared {
        time: ts.map(|t| t.0.iso()),
        bounce_time: bounce_ts.map(|t| t.0.iso()),
        reporting_mta: b.reporting_mta,
        original_from: orig.from,
        original_subject: orig.subject,
        original_message_id: orig.message_id,
        // A feedback report names the sending address itself (RFC 5965 Source-IP).
        origin_ip: ev.origin_ip.or(b.source_ip),
        relay_ips: join(ev.relay_ips),
        auth: join(ev.auth),
        original_to: orig.to,
        original_date: orig.date,
        x_mailer: orig.x_mailer,
        dkim_domains,
        bounce_from: Some(bounce_from).filter(|s| !s.is_empty()),
        bounce_subject: Some(bounce_subject).filter(|s| !s.is_empty()),
        sender,
    };
    let (kind, family) = (b.kind.as_str(), b.family);
    let n = b.failures.len();
    rows.extend(b.failures.into_iter().enumerate().map(|(i, f)| {
        let s = if i + 1 < n {
            shared.clone()
        } else {
            std::mem::take(&mut shared)
        };
        Record {
            time: s.time,
            bounce_time: s.bounce_time,
            mailbox: Arc::clone(place.mailbox),
            source: Arc::clone(place.source),
            offset: place.offset,
            kind,
            action: f.action.map(|a| a.as_str()),
            recipient_domain: memchr::memrchr(b'@', f.recipient.as_bytes())
                .map(|i| f.recipient[i + 1..].to_string()),
            recipient: f.recipient,
            status: f.status.map(status_text),
            reply_code: f.reply_code,
            reason: f.reason.map(|r| r.as_str()),
            diagnostic: f.diagnostic,
            reporting_mta: s.reporting_mta,
            remote_mta: f.remote_mta,
            original_from: s.original_from,
            original_subject: s.original_subject,
            original_message_id: s.original_message_id,
            origin_ip: s.origin_ip,
            relay_ips: s.relay_ips,
            auth: s.auth,
            campaign: None,
            family,
            status_source: f.status.map(|_| f.status_source.as_str()),
            smtp_command: f.command.map(|c| c.as_str()),
            original_to: s.original_to,
            original_date: s.original_date,
            x_mailer: s.x_mailer,
            dkim_domains: s.dkim_domains,
            feedback_type: f.feedback_type,
            bounce_from: s.bounce_from,
            bounce_subject: s.bounce_subject,
            message_index: place.index,
            time_source,
            time_exact: ts.map(|t| t.1 == date::Trust::Exact),
            time_unix: ts.map(|t| t.0 .0),
            bounce_unix: bounce_ts.map(|t| t.0 .0),
            source_index: place.source_index,
            mailbox_index: place.mailbox_index,
            sender: s.sender,
            subject_pattern: None,
            message_id_pattern: None,
        }
    }));
}

/// A list as one space-separated cell, `None` when empty. A list of one
/// (most lists of most bounces) is its only string, moved, not copied.
fn join(mut v: Vec<String>) -> Option<String> {
    match v.len() {
        0 => None,
        1 => v.pop(),
        _ => Some(v.join(" ")),
    }
}

/// The values of a row that come from the bounce as a whole.
#[derive(Clone, Default)]
struct Shared {
    time: Option<String>,
    bounce_time: Option<String>,
    reporting_mta: Option<String>,
    original_from: Option<String>,
    original_subject: Option<String>,
    original_message_id: Option<String>,
    origin_ip: Option<String>,
    relay_ips: Option<String>,
    auth: Option<String>,
    original_to: Option<String>,
    original_date: Option<String>,
    x_mailer: Option<String>,
    dkim_domains: Option<String>,
    bounce_from: Option<String>,
    bounce_subject: Option<String>,
    sender: Option<String>,
}

/// A status code as `Status` displays it (`5.1.1`), written digit by digit
/// rather than through the formatter: one per row.
fn status_text(s: Status) -> String {
    fn digits(out: &mut String, n: u16) {
        if n >= 10 {
            digits(out, n / 10);
        }
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    let mut out = String::with_capacity(11);
    digits(&mut out, s.class.into());
    out.push('.');
    digits(&mut out, s.subject);
    out.push('.');
    digits(&mut out, s.detail);
    out
}

/// The deterministic timeline order: time (unknown last), then where found.
pub fn sort(records: &mut [Record]) {
    // A row is hundreds of bytes: a merge sort would move each one about
    // log2(n) times. Sort small keys instead and move every row about once;
    // rows that are in order already (one mailbox, sorted in its own pass)
    // are not touched at all. Several mailboxes' rows, each sorted, are
    // ascending runs that the stable sort finds and merges.
    let key = |r: &Record| (r.time_unix.is_none(), r.time_unix, r.source_index, r.offset);
    let in_order = |a: &Record, b: &Record| (key(a), &a.recipient) <= (key(b), &b.recipient);
    if records.windows(2).all(|w| in_order(&w[0], &w[1])) {
        return;
    }
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&records[a], &records[b]);
        key(ra)
            .cmp(&key(rb))
            .then_with(|| ra.recipient.cmp(&rb.recipient))
    });
    permute(records, order);
}

/// Rearranges `items` in place so that `items[k]` is what was at
/// `items[order[k]]` (`order` a permutation of the indices). Each cycle of
/// the permutation is followed with swaps: no second vector of rows, and
/// every row moved about once.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        // A position already filled points at itself.
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start || from == at {
                break;
            }
            // `items[at]` takes its row; the row that was at `start` moves
            // on to `from`, the next position of the cycle.
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_is_display() {
        for (c, s, d) in [(5, 1, 1), (4, 7, 0), (2, 0, 0), (5, 999, 999), (5, 10, 100)] {
            let st = Status {
                class: c,
                subject: s,
                detail: d,
            };
            assert_eq!(status_text(st), st.to_string());
        }
    }

    /// Rows with every kind of value: the direct writers' bytes are serde's.
    pub(crate) fn tricky_records() -> Vec<Record> {
        let full = Record {
            time: Some("2025-01-06T00:01:32Z".into()),
            bounce_time: Some("2025-01-06T00:06:08Z".into()),
            mailbox: "/tmp/a b,c.mbox".into(),
            source: "=cmd|' /C calc'!A0".into(),
            offset: u64::MAX,
            kind: "dsn",
            action: Some("failed"),
            recipient: "-x@example.jp".into(),
            recipient_domain: Some("example.jp".into()),
            status: Some("5.1.1".into()),
            reply_code: Some(550),
            reason: Some("userunknown"),
            diagnostic: Some("550 \"no\" such user,\r\n here\\ \u{1}".into()),
            reporting_mta: Some("＝mx.example".into()),
            remote_mta: Some("@mx".into()),
            original_from: Some("\"Shop\" <a@b>".into()),
            original_subject: Some("件名 with a long tail of text, a comma and \t tab".into()),
            original_message_id: Some("+1@x".into()),
            origin_ip: Some("192.0.2.1".into()),
            relay_ips: Some("192.0.2.1 198.51.100.7".into()),
            auth: Some("spf=fail dmarc=fail".into()),
            campaign: Some("m1-c1".into()),
            family: "postfix",
            status_source: Some("report"),
            smtp_command: Some("RCPT"),
            original_to: Some("\tx".into()),
            original_date: Some("Sun, 05 Jan 2025 21:01:32 -0300".into()),
            x_mailer: Some("\r".into()),
            dkim_domains: Some(String::new()),
            feedback_type: Some("abuse".into()),
            bounce_from: Some("MAILER-DAEMON".into()),
            bounce_subject: Some("\"".into()),
            message_index: 7,
            time_source: "original",
            time_exact: Some(false),
            time_unix: Some(1),
            ..Default::default()
        };
        let exact = Record {
            time_exact: Some(true),
            reply_code: Some(0),
            ..full.clone()
        };
        vec![Record::default(), full, exact]
    }

    #[test]
    fn direct_writers_write_serde_bytes() {
        let rows = tricky_records();
        for excel in [false, true] {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            crate::output::csv::write_rows(&mut got, &rows, excel).unwrap();
            crate::output::csv::write(&mut want, &rows, excel).unwrap();
            assert_eq!(String::from_utf8(got), String::from_utf8(want));
        }
        let mut got = Vec::new();
        crate::output::json::write_rows(&mut got, &rows).unwrap();
        let mut want = Vec::new();
        for r in &rows {
            serde_json::to_writer(&mut want, r).unwrap();
            want.push(b'\n');
        }
        assert_eq!(String::from_utf8(got), String::from_utf8(want));
    }

    #[test]
    fn permute_follows_every_cycle() {
        // Identity, one long cycle, fixed points mixed with 2- and 3-cycles.
        for order in [
            vec![0, 1, 2, 3],
            vec![1, 2, 3, 4, 0],
            vec![4, 0, 1, 2, 3],
            vec![0, 3, 2, 1, 6, 4, 5, 7],
            vec![],
        ] {
            let mut items: Vec<usize> = (100..100 + order.len()).collect();
            let want: Vec<usize> = order.iter().map(|&i| items[i]).collect();
            permute(&mut items, order);
            assert_eq!(items, want);
        }
    }

    #[test]
    fn sort_is_stable_by_time_place_and_recipient() {
        let row = |t: Option<i64>, source: usize, offset: u64, rcpt: &str, n: u64| Record {
            time_unix: t,
            source_index: source,
            offset,
            recipient: rcpt.into(),
            message_index: n,
            ..Default::default()
        };
        let mut rows = vec![
            row(None, 0, 0, "a", 0),
            row(Some(50), 1, 10, "b", 1),
            row(Some(50), 1, 10, "a", 2),
            row(Some(10), 2, 0, "z", 3),
            row(Some(50), 0, 99, "c", 4),
            row(Some(10), 2, 0, "z", 5),
            row(None, 0, 0, "a", 6),
        ];
        // Two sorted runs (two mailboxes) merge as well as a shuffle sorts.
        let mut runs = rows.clone();
        runs.sort_by_key(|r| r.source_index == 1);
        sort(&mut rows);
        sort(&mut runs);
        let got: Vec<u64> = rows.iter().map(|r| r.message_index).collect();
        assert_eq!(got, vec![3, 5, 4, 2, 1, 0, 6]);
        assert_eq!(rows, runs);
    }
}
