//! Stage 6: records → campaigns and a verdict per mailbox.
//!
//! A campaign is a burst of bounces for mail sent in the account's name:
//! rows whose original sender is the account (or, when the original did not
//! come back, any bounce row), ordered by time and cut where the gap to the
//! previous row exceeds `GAP`. A burst with fewer than `MIN_ROWS` rows is
//! not a campaign (a typo last month is one bounce, not an attack).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::record::Record;
use crate::scan::Tally;

/// Largest gap inside one campaign.
pub const GAP: i64 = 6 * 3600;
/// Fewest rows that make a campaign.
pub const MIN_ROWS: usize = 10;

/// One row of campaigns.csv.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CampaignRow {
    pub campaign: String,
    pub mailbox: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub bounces: usize,
    pub recipients: usize,
    pub recipient_domains: usize,
    pub senders: String,
    pub subjects: String,
    pub origin_ips: String,
    pub peak_hour_bounces: usize,
    pub verdict: String,
}

/// The inferred or given owner of a mailbox.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Account {
    pub address: Option<String>,
    /// How it was found: `--account`, `delivered-to`, `to`, `sent-from`, `bounced-sender`.
    pub source: &'static str,
}

/// Infers the account: Delivered-To/X-Original-To, else the From of sent
/// mail, else the To of ordinary mail, else the most frequent original
/// sender among the bounces. Ties go to the smaller address.
pub fn infer_account(given: &[String], tally: &Tally, records: &[&Record]) -> Account {
    if let Some(a) = given.first() {
        return Account {
            address: Some(a.clone()),
            source: "--account",
        };
    }
    let top = |m: &std::collections::HashMap<String, u64>| {
        m.iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, _)| k.clone())
    };
    if let Some(a) = top(&tally.delivered_to) {
        return Account {
            address: Some(a),
            source: "delivered-to",
        };
    }
    if let Some(a) = top(&tally.sent_from) {
        return Account {
            address: Some(a),
            source: "sent-from",
        };
    }
    if let Some(a) = top(&tally.to) {
        return Account {
            address: Some(a),
            source: "to",
        };
    }
    let mut senders: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        if let Some(s) = r.sender.as_deref() {
            *senders.entry(s).or_insert(0) += 1;
        }
    }
    let best = senders
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string());
    Account {
        address: best,
        source: if senders.is_empty() {
            ""
        } else {
            "bounced-sender"
        },
    }
}

/// Groups one mailbox's rows (sorted by time) into campaigns, setting
/// `campaign` on the rows that belong to one.
pub fn campaigns(
    mailbox_no: usize,
    mailbox: &str,
    account: &Account,
    rows: &mut [&mut Record],
) -> Vec<CampaignRow> {
    let candidate = |r: &Record| match (&r.sender, &account.address) {
        (Some(s), Some(a)) => s == a,
        (None, _) => true,
        (Some(_), None) => true,
    };
    let mut bursts: Vec<Vec<usize>> = Vec::new();
    let mut last: Option<i64> = None;
    for (i, r) in rows.iter().enumerate() {
        let Some(t) = r.time_unix else { continue };
        if !candidate(r) {
            continue;
        }
        match last {
            Some(l) if t - l <= GAP => bursts.last_mut().expect("burst open").push(i),
            _ => bursts.push(vec![i]),
        }
        last = Some(t);
    }
    let mut out = Vec::new();
    for burst in bursts.into_iter().filter(|b| b.len() >= MIN_ROWS) {
        let id = format!("m{}-c{}", mailbox_no + 1, out.len() + 1);
        let mut recips = BTreeSet::new();
        let mut domains = BTreeSet::new();
        let mut senders = BTreeSet::new();
        let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
        let mut ips: BTreeMap<String, usize> = BTreeMap::new();
        let mut hours: BTreeMap<i64, usize> = BTreeMap::new();
        for &i in &burst {
            let r = &mut rows[i];
            r.campaign = Some(id.clone());
            recips.insert(r.recipient.clone());
            if let Some(d) = &r.recipient_domain {
                domains.insert(d.clone());
            }
            if let Some(s) = &r.sender {
                senders.insert(s.clone());
            }
            if let Some(s) = &r.original_subject {
                *subjects.entry(s.clone()).or_insert(0) += 1;
            }
            if let Some(ip) = &r.origin_ip {
                *ips.entry(ip.clone()).or_insert(0) += 1;
            }
            if let Some(t) = r.time_unix {
                *hours.entry(t / 3600).or_insert(0) += 1;
            }
        }
        let first = &rows[burst[0]];
        let last = &rows[*burst.last().expect("nonempty")];
        out.push(CampaignRow {
            campaign: id,
            mailbox: mailbox.to_string(),
            first_seen: first.time.clone(),
            last_seen: last.time.clone(),
            bounces: burst.len(),
            recipients: recips.len(),
            recipient_domains: domains.len(),
            senders: senders.into_iter().collect::<Vec<_>>().join(" "),
            subjects: top_n(&subjects, 5),
            origin_ips: top_n(&ips, 10),
            peak_hour_bounces: hours.values().copied().max().unwrap_or(0),
            verdict: String::new(),
        });
    }
    out
}

/// The `n` most frequent keys, most frequent first, joined by " | ".
fn top_n(m: &BTreeMap<String, usize>, n: usize) -> String {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}
