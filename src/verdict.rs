//! The verdict per mailbox: compromised, backscatter, inconclusive or clean,
//! with the sentence of evidence that supports it.

use serde::Serialize;

use crate::campaign::{Account, CampaignRow};
use crate::record::Record;

/// A mailbox's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A flood whose originals went out through the account's own provider.
    Compromised,
    /// A flood of forged mail that never passed the account's provider.
    Backscatter,
    /// A flood whose bounces do not return enough of the original to tell.
    Inconclusive,
    /// No flood.
    #[default]
    Clean,
}

impl Verdict {
    /// The name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compromised => "compromised",
            Verdict::Backscatter => "backscatter",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Clean => "clean",
        }
    }
}

/// Decides the verdict from the campaign rows of one mailbox.
pub fn decide(
    account: &Account,
    campaigns: &[CampaignRow],
    rows: &[&Record],
    sent_ids: &std::collections::HashSet<String>,
) -> (Verdict, String) {
    if campaigns.is_empty() {
        return (
            Verdict::Clean,
            format!("{} bounce rows, no flood", rows.len()),
        );
    }
    let in_campaign: Vec<&&Record> = rows.iter().filter(|r| r.campaign.is_some()).collect();
    let n = in_campaign.len();
    let with_original = in_campaign
        .iter()
        .filter(|r| {
            r.original_message_id.is_some() || !r.relay_ips.as_deref().unwrap_or("").is_empty()
        })
        .count();
    let domain = account
        .address
        .as_deref()
        .and_then(|a| a.rsplit_once('@'))
        .map(|(_, d)| d.to_string());
    let authed = in_campaign
        .iter()
        .filter(|r| r.auth.as_deref().is_some_and(|a| a.contains("smtp-auth")))
        .count();
    let dkim = in_campaign
        .iter()
        .filter(|r| match (&r.dkim_domains, &domain) {
            (Some(d), Some(dom)) => d
                .split(' ')
                .any(|x| x == dom || x.ends_with(&format!(".{dom}"))),
            _ => false,
        })
        .count();
    let in_sent = in_campaign
        .iter()
        .filter(|r| {
            r.original_message_id
                .as_ref()
                .is_some_and(|m| sent_ids.contains(m))
        })
        .count();
    let span = match (
        campaigns.first().and_then(|c| c.first_seen.clone()),
        campaigns.last().and_then(|c| c.last_seen.clone()),
    ) {
        (Some(a), Some(b)) => format!(" from {a} to {b}"),
        _ => String::new(),
    };
    if authed + dkim + in_sent > 0 {
        let mut facts = vec![format!(
            "{n} bounces in {} campaign(s){span}",
            campaigns.len()
        )];
        if authed > 0 {
            facts.push(format!("{authed} originals submitted with SMTP AUTH"));
        }
        if dkim > 0 {
            facts.push(format!(
                "{dkim} signed with DKIM d={}",
                domain.clone().unwrap_or_default()
            ));
        }
        if in_sent > 0 {
            facts.push(format!(
                "{in_sent} Message-IDs found in the account's Sent folder"
            ));
        }
        return (Verdict::Compromised, facts.join("; "));
    }
    if with_original * 2 < n {
        return (
            Verdict::Inconclusive,
            format!(
                "{n} bounces in {} campaign(s){span}; only {with_original} return the original",
                campaigns.len()
            ),
        );
    }
    (Verdict::Backscatter, format!("{n} bounces in {} campaign(s){span}; originals show no submission through the account's provider", campaigns.len()))
}
