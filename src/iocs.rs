//! Stage 6c: indicators of compromise from the campaigns, for a blocklist
//! or a SIEM search (iocs.csv).
//!
//! Takes every timeline row that belongs to a campaign and hands on one
//! [`IocRow`] per (type, value): origin IPs, relay IPs (the other public hops),
//! the domains of the originals' Message-IDs, subjects, X-Mailer values and
//! authenticated user names. Rows outside campaigns (a typo bounce) are not
//! indicators. Sorted by type, then most frequent, then value.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::campaign::clock;
use crate::date::Timestamp;
use crate::record::Record;

/// One row of iocs.csv.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct IocRow {
    /// origin-ip, relay-ip, message-id-domain, subject, x-mailer, auth-user.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    /// Campaign rows that show it.
    pub count: usize,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Campaign ids, space separated.
    pub campaigns: String,
}

/// The order of types in the file.
const TYPES: &[&str] = &[
    "origin-ip",
    "auth-user",
    "relay-ip",
    "message-id-domain",
    "subject",
    "x-mailer",
];

/// What is known of one indicator value. Values and campaign ids are
/// borrowed from the rows, which outlive the collection.
#[derive(Default)]
struct Seen<'a> {
    count: usize,
    first: Option<i64>,
    last: Option<i64>,
    campaigns: BTreeSet<&'a str>,
}

/// One map per indicator type (index in `TYPES`; the last for "other").
type Maps<'a> = Vec<BTreeMap<Cow<'a, str>, Seen<'a>>>;

/// Collects the indicators of the campaign rows in `rows`. (One pass: most
/// values of a flood are distinct, so per-block maps merged afterwards cost
/// more than they save.)
pub fn collect(rows: &[Record]) -> Vec<IocRow> {
    let mut seen: Maps<'_> = (0..=TYPES.len()).map(|_| BTreeMap::new()).collect();
    for r in rows {
        add_row(&mut seen, r);
    }
    // Types in file order; within a type the map is in value order, so a
    // stable sort on the count alone gives "most frequent, then value".
    let mut out = Vec::new();
    for (k, m) in seen.into_iter().enumerate() {
        let mut entries: Vec<(Cow<'_, str>, Seen<'_>)> = m.into_iter().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.1.count));
        out.extend(entries.into_iter().map(|(value, s)| IocRow {
            kind: TYPES.get(k).copied().unwrap_or("other"),
            value: value.into_owned(),
            count: s.count,
            first_seen: s.first.map(|t| Timestamp(t).iso()),
            last_seen: s.last.map(|t| Timestamp(t).iso()),
            campaigns: s.campaigns.into_iter().collect::<Vec<_>>().join(" "),
        }));
    }
    out
}

/// Adds the indicators of one row, if it belongs to a campaign.
fn add_row<'a>(seen: &mut Maps<'a>, r: &'a Record) {
    let Some(c) = r.campaign.as_deref() else {
        return;
    };
    let time = clock(r);
    let mut add = |kind: &str, value: Cow<'a, str>| {
        let value = match value {
            Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
            Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
        };
        if value.is_empty() {
            return;
        }
        let k = TYPES.iter().position(|t| *t == kind).unwrap_or(TYPES.len());
        let s = seen[k].entry(value).or_default();
        s.count += 1;
        if let Some(t) = time {
            s.first = Some(s.first.map_or(t, |f| f.min(t)));
            s.last = Some(s.last.map_or(t, |l| l.max(t)));
        }
        s.campaigns.insert(c);
    };
    if let Some(ip) = &r.origin_ip {
        add("origin-ip", Cow::Borrowed(ip));
    }
    for ip in r.relay_ips.as_deref().unwrap_or("").split(' ') {
        if Some(ip) != r.origin_ip.as_deref() {
            add("relay-ip", Cow::Borrowed(ip));
        }
    }
    if let Some((_, d)) = r
        .original_message_id
        .as_deref()
        .and_then(|m| m.rsplit_once('@'))
    {
        // Lowercased only when it has capitals (most do not).
        if d.bytes().any(|b| b.is_ascii_uppercase()) {
            add("message-id-domain", Cow::Owned(d.to_ascii_lowercase()));
        } else {
            add("message-id-domain", Cow::Borrowed(d));
        }
    }
    if let Some(s) = &r.original_subject {
        add("subject", Cow::Borrowed(s));
    }
    if let Some(x) = &r.x_mailer {
        add("x-mailer", Cow::Borrowed(x));
    }
    for l in r.auth.as_deref().unwrap_or("").split(' ') {
        let user = l
            .strip_prefix("authenticated-sender:")
            .or_else(|| l.strip_prefix("smtp.auth="));
        if let Some(u) = user {
            add("auth-user", Cow::Borrowed(u));
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
    }
}
