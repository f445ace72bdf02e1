//! Stage 6c: indicators of compromise from the campaigns, for a blocklist
//! or a SIEM search (iocs.csv).
//!
//! Takes every timeline row that belongs to a campaign and hands on one
//! [`IocRow`] per (type, value): origin IPs, relay IPs (the other public hops),
//! the domains of the originals' Message-IDs, subjects, X-Mailer values and
//! authenticated user names. Rows outside campaigns (a typo bounce) are not
//! indicators. Sorted by type, then most frequent, then value.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use serde::Serialize;

use crate::campaign::clock;
use crate::date::Timestamp;
use crate::record::Record;

/// One row of iocs.csv. Its text is borrowed from the timeline rows where
/// it can be (a flood has thousands of indicators, most seen once).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct IocRow<'a> {
    /// origin-ip, relay-ip, message-id-domain, subject, x-mailer, auth-user.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: Cow<'a, str>,
    /// Campaign rows that show it.
    pub count: usize,
    pub first_seen: Option<Cow<'a, str>>,
    pub last_seen: Option<Cow<'a, str>>,
    /// Campaign ids, space separated.
    pub campaigns: Cow<'a, str>,
}

impl crate::output::Row for IocRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "type",
        "value",
        "count",
        "first_seen",
        "last_seen",
        "campaigns",
    ];

    fn cells(&self, to: &mut impl crate::output::Values) {
        let IocRow {
            kind,
            value,
            count,
            first_seen,
            last_seen,
            campaigns,
        } = self;
        to.text(kind);
        to.text(value);
        to.uint(*count as u64);
        to.opt_text(first_seen.as_deref());
        to.opt_text(last_seen.as_deref());
        to.text(campaigns);
    }
}

/// The indicator types, in file order.
#[derive(Clone, Copy)]
enum Type {
    OriginIp,
    AuthUser,
    RelayIp,
    MessageIdDomain,
    Subject,
    XMailer,
}

impl Type {
    const ALL: [Type; 6] = [
        Type::OriginIp,
        Type::AuthUser,
        Type::RelayIp,
        Type::MessageIdDomain,
        Type::Subject,
        Type::XMailer,
    ];

    /// The name in iocs.csv `type`.
    fn as_str(self) -> &'static str {
        match self {
            Type::OriginIp => "origin-ip",
            Type::AuthUser => "auth-user",
            Type::RelayIp => "relay-ip",
            Type::MessageIdDomain => "message-id-domain",
            Type::Subject => "subject",
            Type::XMailer => "x-mailer",
        }
    }
}

/// What is known of one indicator value. Values and campaign ids are
/// borrowed from the rows, which outlive the collection.
struct Seen<'a> {
    count: usize,
    /// The earliest and latest clock, each with a row that has it.
    first: Option<(i64, &'a Record)>,
    last: Option<(i64, &'a Record)>,
    /// The campaign of the first row, and of later rows each time it
    /// changes (rows come campaign by campaign: nearly always none).
    campaign: &'a str,
    more: Vec<&'a str>,
}

impl<'a> Seen<'a> {
    /// The campaign ids, sorted, space separated.
    fn campaigns(&mut self) -> Cow<'a, str> {
        if self.more.is_empty() {
            return Cow::Borrowed(self.campaign);
        }
        self.more.push(self.campaign);
        self.more.sort_unstable();
        self.more.dedup();
        Cow::Owned(self.more.join(" "))
    }
}

/// A row's clock `t` in ISO 8601 UTC: the row's own text of it where it
/// has one (`bounce_time` and `time` are `bounce_unix` and `time_unix`
/// written out), else written here.
fn clock_text(r: &Record, t: i64) -> Cow<'_, str> {
    let own = if r.bounce_unix == Some(t) {
        r.bounce_time.as_deref()
    } else if r.time_unix == Some(t) {
        r.time.as_deref()
    } else {
        None
    };
    own.map_or_else(|| Cow::Owned(Timestamp(t).iso()), Cow::Borrowed)
}

/// Collects the indicators of the campaign rows in `rows`: one pass over
/// the rows per type, the types on all threads (each type its own map, so
/// nothing is merged afterwards).
pub fn collect(rows: &[Record]) -> Vec<IocRow<'_>> {
    let per_type: Vec<Vec<IocRow>> = Type::ALL
        .into_par_iter()
        .map(|kind| collect_type(rows, kind))
        .collect();
    per_type.concat()
}

/// The indicators of one type, most frequent first, then by value. Hashed:
/// most values of a flood are distinct, and the order is made once at the
/// end.
fn collect_type(rows: &[Record], kind: Type) -> Vec<IocRow<'_>> {
    let mut seen: HashMap<Cow<'_, str>, Seen<'_>> = HashMap::new();
    for r in rows {
        // Only the rows of a campaign show indicators.
        let Some(c) = r.campaign.as_deref() else {
            continue;
        };
        let time = clock(r);
        values(r, kind, |value| {
            let value = match value {
                Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
                Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
            };
            if value.is_empty() {
                return;
            }
            let s = seen.entry(value).or_insert_with(|| Seen {
                count: 0,
                first: None,
                last: None,
                campaign: c,
                more: Vec::new(),
            });
            s.count += 1;
            if let Some(t) = time {
                if s.first.is_none_or(|(f, _)| t < f) {
                    s.first = Some((t, r));
                }
                if s.last.is_none_or(|(l, _)| t > l) {
                    s.last = Some((t, r));
                }
            }
            if s.more.last().unwrap_or(&s.campaign) != &c {
                s.more.push(c);
            }
        });
    }
    let mut entries: Vec<(Cow<'_, str>, Seen<'_>)> = seen.into_iter().collect();
    entries.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
    entries
        .into_iter()
        .map(|(value, mut s)| IocRow {
            kind: kind.as_str(),
            value,
            count: s.count,
            first_seen: s.first.map(|(t, r)| clock_text(r, t)),
            last_seen: s.last.map(|(t, r)| clock_text(r, t)),
            campaigns: s.campaigns(),
        })
        .collect()
}

/// Hands `add` the values of one indicator type in a row.
fn values<'a>(r: &'a Record, kind: Type, mut add: impl FnMut(Cow<'a, str>)) {
    match kind {
        Type::OriginIp => {
            if let Some(ip) = &r.origin_ip {
                add(Cow::Borrowed(ip));
            }
        }
        Type::RelayIp => {
            for ip in r.relay_ips.as_deref().unwrap_or("").split(' ') {
                if Some(ip) != r.origin_ip.as_deref() {
                    add(Cow::Borrowed(ip));
                }
            }
        }
        Type::MessageIdDomain => {
            if let Some((_, d)) = r
                .original_message_id
                .as_deref()
                .and_then(|m| m.rsplit_once('@'))
            {
                // Lowercased only when it has capitals (most do not).
                if d.bytes().any(|b| b.is_ascii_uppercase()) {
                    add(Cow::Owned(d.to_ascii_lowercase()));
                } else {
                    add(Cow::Borrowed(d));
                }
            }
        }
        Type::Subject => {
            if let Some(s) = &r.original_subject {
                add(Cow::Borrowed(s));
            }
        }
        Type::XMailer => {
            if let Some(x) = &r.x_mailer {
                add(Cow::Borrowed(x));
            }
        }
        Type::AuthUser => {
            for l in r.auth.as_deref().unwrap_or("").split(' ') {
                let user = l
                    .strip_prefix("authenticated-sender:")
                    .or_else(|| l.strip_prefix("smtp.auth="));
                if let Some(u) = user {
                    add(Cow::Borrowed(u));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_rows_only_grouped_and_ordered() {
        let mk = |t: i64, ip: &str, camp: Option<&str>| Record {
            bounce_unix: Some(t),
            origin_ip: Some(ip.into()),
            relay_ips: Some(format!("{ip} 192.0.2.50")),
            original_message_id: Some(format!("{t}.x@SMTP.example.jp")),
            original_subject: Some("Invoice".into()),
            x_mailer: Some("PHPMailer 6.8.0".into()),
            auth: Some("smtp-auth:esmtpsa authenticated-sender:me@example.jp".into()),
            campaign: camp.map(String::from),
            ..Default::default()
        };
        let rows = [
            mk(100, "45.83.64.7", Some("m1-c1")),
            mk(200, "91.92.109.3", Some("m1-c1")),
            mk(300, "45.83.64.7", Some("m1-c1")),
            mk(50, "198.51.100.1", None),
        ];
        let iocs = collect(&rows);
        let got: Vec<String> = iocs
            .iter()
            .map(|i| {
                format!(
                    "{} {} {} {}",
                    i.kind,
                    i.value,
                    i.count,
                    i.first_seen.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                "origin-ip 45.83.64.7 2 1970-01-01T00:01:40Z",
                "origin-ip 91.92.109.3 1 1970-01-01T00:03:20Z",
                "auth-user me@example.jp 3 1970-01-01T00:01:40Z",
                "relay-ip 192.0.2.50 3 1970-01-01T00:01:40Z",
                "message-id-domain smtp.example.jp 3 1970-01-01T00:01:40Z",
                "subject Invoice 3 1970-01-01T00:01:40Z",
                "x-mailer PHPMailer 6.8.0 3 1970-01-01T00:01:40Z",
            ]
        );
        assert_eq!(iocs[0].last_seen.as_deref(), Some("1970-01-01T00:05:00Z"));
        assert_eq!(iocs[0].campaigns, "m1-c1");
        assert_eq!(iocs[1].last_seen, iocs[1].first_seen);
    }

    #[test]
    fn times_are_the_rows_own_text_and_rows_are_written_as_serde_writes_them() {
        let mk = |t: i64, subject: &str| Record {
            bounce_unix: Some(t),
            bounce_time: Some(Timestamp(t).iso()),
            original_subject: Some(subject.into()),
            campaign: Some("m1-c1".into()),
            ..Default::default()
        };
        let mut rows = vec![
            mk(100, "=1+1, \"quoted\""),
            mk(50, "=1+1, \"quoted\""),
            mk(7200, "plain"),
        ];
        // No text of its clock: written here.
        rows.push(Record {
            time_unix: Some(10),
            bounce_time: None,
            ..mk(0, "plain")
        });
        rows[3].bounce_unix = None;
        let iocs = collect(&rows);
        let times: Vec<_> = iocs
            .iter()
            .map(|i| (i.first_seen.as_deref(), i.last_seen.as_deref()))
            .collect();
        assert_eq!(
            times,
            vec![
                (Some("1970-01-01T00:00:50Z"), Some("1970-01-01T00:01:40Z")),
                (Some("1970-01-01T00:00:10Z"), Some("1970-01-01T02:00:00Z")),
            ]
        );
        for excel in [false, true] {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            crate::output::csv::write_rows(&mut got, &iocs, excel).unwrap();
            crate::output::csv::write(&mut want, &iocs, excel).unwrap();
            assert_eq!(String::from_utf8(got), String::from_utf8(want));
        }
    }

    #[test]
    fn campaigns_of_a_value_are_listed_once_in_order() {
        let mk = |camp: &str| Record {
            origin_ip: Some("45.83.64.7".into()),
            campaign: Some(camp.into()),
            ..Default::default()
        };
        // Mailboxes interleave in time: a value's campaigns come and go.
        let rows = [
            mk("m2-c1"),
            mk("m1-c3"),
            mk("m1-c3"),
            mk("m2-c1"),
            mk("m1-c1"),
        ];
        let iocs = collect(&rows);
        assert_eq!(iocs.len(), 1);
        assert_eq!(iocs[0].count, 5);
        assert_eq!(iocs[0].campaigns, "m1-c1 m1-c3 m2-c1");
        assert_eq!(iocs[0].first_seen, None);
    }
}
