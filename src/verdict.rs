//! Stage 6b: the verdict per campaign and per mailbox — compromised,
//! backscatter, inconclusive or clean — with the sentence of evidence that
//! supports it.
//!
//! Takes a mailbox's rows (with `campaign` set) and campaign ids, its account
//! and the Message-IDs of its Sent folder; summarises each campaign in a
//! [`CampaignRow`] with its `verdict` and `evidence`, and hands on the
//! mailbox's [`Verdict`] and evidence.
//!
//! Per campaign, counting rows:
//!
//! - *supporting* (the mail passed the account's own provider): the original
//!   records authenticated submission (`smtp-auth:`, `authenticated-sender:`,
//!   `smtp.auth=`, `auth=pass`, `ms-authas:internal`), carries a DKIM
//!   signature of the account's domain, or its Message-ID is in the Sent
//!   folder. A forger has neither the password nor the provider's DKIM key.
//! - *contrary* (forged): `spf=fail`/`softfail`, `dmarc=fail` or
//!   `direct-to-mx`, and nothing supporting.
//!
//! `compromised` when at least [`MIN_SUPPORTING`] rows support and they are
//! at least as many as the contrary ones (one or two could be the owner's own
//! mail bouncing during someone else's flood); else `backscatter` when some rows are contrary; else
//! `inconclusive` (originals missing, or present but showing neither). The
//! mailbox takes its most serious campaign's verdict; `clean` without one.

use std::collections::{BTreeSet, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::campaign::{Account, CampaignRow};
use crate::record::Record;

/// A verdict; the order is the order of seriousness (batch sorting).
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

    /// Every verdict, most serious first.
    pub const ALL: [Verdict; 4] = [
        Verdict::Compromised,
        Verdict::Backscatter,
        Verdict::Inconclusive,
        Verdict::Clean,
    ];
}

/// Fewest supporting rows for `compromised`.
pub const MIN_SUPPORTING: usize = 3;

/// Labels in `auth` that record authenticated submission.
fn is_auth_label(l: &str) -> bool {
    l.starts_with("smtp-auth:")
        || l.starts_with("authenticated-sender:")
        || l.starts_with("smtp.auth=")
        || l == "auth=pass"
        || l == "ms-authas:internal"
}

/// Labels in `auth` that mark a forged original.
fn is_forged_label(l: &str) -> bool {
    matches!(
        l,
        "spf=fail" | "spf=softfail" | "dmarc=fail" | "direct-to-mx"
    )
}

/// What the rows of one campaign show (IPs only counted: borrowed, hashed).
#[derive(Default)]
struct Facts<'a> {
    rows: usize,
    with_original: usize,
    authed: usize,
    protocols: BTreeSet<String>,
    auth_ips: foldhash::HashSet<&'a str>,
    own_dkim: usize,
    in_sent: usize,
    supporting: usize,
    contrary: usize,
    spf_fail: usize,
    dmarc_fail: usize,
    direct: usize,
    forged_ips: foldhash::HashSet<&'a str>,
}

fn facts<'a>(rows: &[&'a Record], domains: &[String], sent_ids: &HashSet<String>) -> Facts<'a> {
    let mut f = Facts {
        rows: rows.len(),
        ..Default::default()
    };
    // `d=example.jp` or a subdomain of it, the suffixes built once.
    let subdomains: Vec<String> = domains.iter().map(|d| format!(".{d}")).collect();
    let own_domain = |d: &str| {
        domains.iter().any(|dom| d == dom) || subdomains.iter().any(|s| d.ends_with(s.as_str()))
    };
    for &r in rows {
        // The labels, read in one pass.
        let (mut authed, mut forged, mut spf, mut dmarc, mut direct) =
            (false, false, false, false, false);
        for l in r.auth.as_deref().unwrap_or("").split(' ') {
            authed |= is_auth_label(l);
            forged |= is_forged_label(l);
            spf |= l.starts_with("spf=");
            dmarc |= l == "dmarc=fail";
            direct |= l == "direct-to-mx";
        }
        if r.original_message_id.is_some() || r.relay_ips.is_some() {
            f.with_original += 1;
        }
        if authed {
            f.authed += 1;
            for l in r.auth.as_deref().unwrap_or("").split(' ') {
                if let Some(p) = l.strip_prefix("smtp-auth:") {
                    f.protocols.insert(p.to_ascii_uppercase());
                }
            }
            if let Some(ip) = &r.origin_ip {
                f.auth_ips.insert(ip);
            }
        }
        let dkim = r
            .dkim_domains
            .as_deref()
            .is_some_and(|ds| ds.split(' ').any(own_domain));
        f.own_dkim += usize::from(dkim);
        let sent = r
            .original_message_id
            .as_ref()
            .is_some_and(|m| sent_ids.contains(m));
        f.in_sent += usize::from(sent);
        if authed || dkim || sent {
            f.supporting += 1;
        } else if forged {
            f.contrary += 1;
            if let Some(ip) = &r.origin_ip {
                f.forged_ips.insert(ip);
            }
        }
        f.spf_fail += usize::from(spf);
        f.dmarc_fail += usize::from(dmarc);
        f.direct += usize::from(direct);
    }
    f
}

/// "1 auto-reply", "3 auto-replies".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "31 h" or "45 min".
fn duration(hours: f64) -> String {
    if hours >= 1.0 {
        format!("{} h", hours.round() as i64)
    } else {
        format!("{} min", (hours * 60.0).round() as i64)
    }
}

/// Judges one campaign from its rows; returns the verdict and the evidence sentence.
pub fn judge(
    c: &CampaignRow,
    rows: &[&Record],
    account: &Account,
    sent_ids: &HashSet<String>,
) -> (Verdict, String) {
    let domains = account.domains();
    let f = facts(rows, &domains, sent_ids);
    let dom = domains.join(" ");
    let replies = rows.iter().filter(|r| r.kind == "autoreply").count();
    let reports = rows.iter().filter(|r| r.kind == "feedback").count();
    let mut extra = Vec::new();
    if replies > 0 {
        extra.push(plural(replies, "auto-reply", "auto-replies"));
    }
    if reports > 0 {
        extra.push(plural(reports, "abuse report", "abuse reports"));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" and {}", extra.join(" and "))
    };
    let mut parts = vec![format!(
        "{} bounces{extra} in {} ({} to {})",
        f.rows - replies - reports,
        duration(c.duration_hours),
        c.first_seen.as_deref().unwrap_or("?"),
        c.last_seen.as_deref().unwrap_or("?")
    )];
    if f.supporting >= MIN_SUPPORTING && f.supporting >= f.contrary {
        if f.authed > 0 {
            let how = if f.protocols.is_empty() {
                "authentication".to_string()
            } else {
                f.protocols.iter().cloned().collect::<Vec<_>>().join("/")
            };
            parts.push(format!(
                "{} originals submitted with {how} from {} IP(s)",
                f.authed,
                f.auth_ips.len()
            ));
        }
        if f.own_dkim > 0 {
            parts.push(format!("{} signed with DKIM d={dom}", f.own_dkim));
        }
        if f.in_sent > 0 {
            parts.push(format!(
                "{} Message-IDs also in the account's Sent folder",
                f.in_sent
            ));
        }
        if f.contrary > 0 {
            parts.push(format!("{} others look forged", f.contrary));
        }
        return (Verdict::Compromised, parts.join("; "));
    }
    if f.contrary > 0 {
        if f.direct > 0 {
            parts.push(format!(
                "{} originals went straight from {} outside IP(s) to the recipients' servers",
                f.direct,
                f.forged_ips.len()
            ));
        }
        let mut fails = Vec::new();
        if f.spf_fail > 0 {
            fails.push(format!("SPF fail on {}", f.spf_fail));
        }
        if f.dmarc_fail > 0 {
            fails.push(format!("DMARC fail on {}", f.dmarc_fail));
        }
        if !fails.is_empty() {
            parts.push(fails.join(", "));
        }
        let own = if dom.is_empty() {
            String::new()
        } else {
            format!(", no DKIM of {dom}")
        };
        parts.push(format!("no authenticated submission{own}"));
        return (Verdict::Backscatter, parts.join("; "));
    }
    if f.with_original * 2 < f.rows {
        let which = match f.with_original {
            0 => "none".to_string(),
            n => format!("only {n}"),
        };
        parts.push(format!(
            "{which} return the original, so hijack and forgery cannot be told apart; ask the provider for the account's submission log"
        ));
    } else {
        parts.push(format!(
            "{} originals returned but show neither authenticated submission nor forgery",
            f.with_original
        ));
    }
    (Verdict::Inconclusive, parts.join("; "))
}

/// Judges every campaign of a mailbox (filling `verdict` and `evidence`)
/// and returns the mailbox's verdict and evidence. `members[i]` are the
/// rows of `campaigns[i]`, `rows` all the mailbox's rows.
pub fn decide(
    account: &Account,
    campaigns: &mut [CampaignRow],
    members: &[Vec<&Record>],
    rows: &[&Record],
    sent_ids: &HashSet<String>,
) -> (Verdict, String) {
    let mut worst: Option<(Verdict, usize)> = None;
    for (i, (c, members)) in campaigns.iter_mut().zip(members).enumerate() {
        let (v, ev) = judge(c, members, account, sent_ids);
        c.verdict = v.as_str().to_string();
        c.evidence = ev;
        // Most serious first; among equals, the earliest campaign speaks.
        if worst.is_none_or(|(wv, _)| v < wv) {
            worst = Some((v, i));
        }
    }
    let Some((v, i)) = worst else {
        let bounces = rows.iter().filter(|r| r.kind != "autoreply").count();
        return (
            Verdict::Clean,
            format!(
                "{bounces} bounce(s), none in a flood (a campaign needs {} bounces to {} recipients)",
                crate::campaign::MIN_ROWS,
                crate::campaign::MIN_RECIPIENTS
            ),
        );
    };
    let ev = if campaigns.len() > 1 {
        format!(
            "{} campaigns; worst: {}",
            campaigns.len(),
            campaigns[i].evidence
        )
    } else {
        campaigns[i].evidence.clone()
    };
    (v, ev)
}

/// A mailbox's forensics: its campaigns and verdict.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    pub campaigns: Vec<CampaignRow>,
    pub verdict: Verdict,
    pub evidence: String,
    /// Distinct recipients and recipient domains over the campaigns.
    pub recipients: usize,
    pub recipient_domains: usize,
    /// Sums of the campaigns' estimates.
    pub estimated_sent_min: u64,
    pub estimated_sent_max: u64,
}

/// Judges one mailbox whose rows (in time order) `campaign::group` put in
/// the campaigns `ids`: summarises each campaign from its rows, judges them
/// and the mailbox.
pub fn assess(
    mailbox: &str,
    account: &Account,
    ids: &[String],
    rows: &[&Record],
    sent_ids: &HashSet<String>,
) -> Assessment {
    // The rows of each campaign, in the order of `ids`.
    let index: foldhash::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut members: Vec<Vec<&Record>> = vec![Vec::new(); ids.len()];
    for &r in rows {
        if let Some(&i) = r.campaign.as_deref().and_then(|c| index.get(c)) {
            members[i].push(r);
        }
    }
    let mut campaigns: Vec<CampaignRow> = ids
        .par_iter()
        .zip(&members)
        .map(|(id, m)| crate::campaign::summarise(id, mailbox, m))
        .collect();
    let (verdict, evidence) = decide(account, &mut campaigns, &members, rows, sent_ids);
    // Only counted: hashed, not ordered.
    let in_campaign = members.iter().flatten();
    let recipients: foldhash::HashSet<&str> =
        in_campaign.clone().map(|r| r.recipient.as_str()).collect();
    let domains: foldhash::HashSet<&str> = in_campaign
        .filter_map(|r| r.recipient_domain.as_deref())
        .collect();
    Assessment {
        recipients: recipients.len(),
        recipient_domains: domains.len(),
        estimated_sent_min: campaigns.iter().map(|c| c.estimated_sent_min).sum(),
        estimated_sent_max: campaigns.iter().map(|c| c.estimated_sent_max).sum(),
        campaigns,
        verdict,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(auth: &str, dkim: Option<&str>, mid: Option<&str>) -> Record {
        Record {
            recipient: "v@example.com".into(),
            auth: (!auth.is_empty()).then(|| auth.to_string()),
            dkim_domains: dkim.map(String::from),
            original_message_id: mid.map(String::from),
            relay_ips: mid.map(|_| "45.83.64.7".to_string()),
            origin_ip: mid.map(|_| "45.83.64.7".to_string()),
            campaign: Some("m1-c1".into()),
            kind: "dsn",
            ..Default::default()
        }
    }

    fn account() -> Account {
        Account {
            addresses: vec!["me@example.jp".into()],
            source: "--account".into(),
        }
    }

    fn camp() -> CampaignRow {
        CampaignRow {
            campaign: "m1-c1".into(),
            bounces: 12,
            duration_hours: 31.0,
            first_seen: Some("2026-11-04T19:00:00Z".into()),
            last_seen: Some("2026-11-06T02:00:00Z".into()),
            ..Default::default()
        }
    }

    fn verdict_of(rows: &[Record], sent: &[&str]) -> (Verdict, String) {
        let mut c = vec![camp()];
        let sent: HashSet<String> = sent.iter().map(|s| s.to_string()).collect();
        let rows: Vec<&Record> = rows.iter().collect();
        decide(
            &account(),
            &mut c,
            std::slice::from_ref(&rows),
            &rows,
            &sent,
        )
    }

    #[test]
    fn authenticated_submission_is_compromised() {
        let rows: Vec<Record> = (0..12)
            .map(|i| {
                row(
                    "smtp-auth:esmtpsa authenticated-sender:me@example.jp",
                    Some("example.jp"),
                    Some(&format!("{i}@smtp.example.jp")),
                )
            })
            .collect();
        let (v, ev) = verdict_of(&rows, &["1@smtp.example.jp"]);
        assert_eq!(v, Verdict::Compromised);
        assert_eq!(ev, "12 bounces in 31 h (2026-11-04T19:00:00Z to 2026-11-06T02:00:00Z); 12 originals submitted with ESMTPSA from 1 IP(s); 12 signed with DKIM d=example.jp; 1 Message-IDs also in the account's Sent folder");
    }

    #[test]
    fn sent_folder_alone_is_enough_but_not_one_stray_row() {
        let rows: Vec<Record> = (0..12)
            .map(|i| row("", None, Some(&format!("{i}@x"))))
            .collect();
        assert_eq!(
            verdict_of(&rows, &["1@x", "2@x", "3@x"]).0,
            Verdict::Compromised
        );
        // One authenticated original (the owner's own typo) among a forged flood.
        let mut rows: Vec<Record> = (0..11)
            .map(|i| row("direct-to-mx spf=fail", None, Some(&format!("{i}@bot"))))
            .collect();
        rows.push(row(
            "smtp-auth:esmtpsa",
            Some("example.jp"),
            Some("own@smtp.example.jp"),
        ));
        let (v, ev) = verdict_of(&rows, &[]);
        assert_eq!(v, Verdict::Backscatter);
        assert!(
            ev.contains("11 originals went straight from 1 outside IP(s)"),
            "{ev}"
        );
        assert!(ev.contains("SPF fail on 11"), "{ev}");
    }

    #[test]
    fn missing_originals_are_inconclusive_and_no_campaign_is_clean() {
        let rows: Vec<Record> = (0..12).map(|_| row("", None, None)).collect();
        let (v, ev) = verdict_of(&rows, &[]);
        assert_eq!(v, Verdict::Inconclusive);
        assert!(ev.contains("; none return the original"), "{ev}");
        let (v, ev) = decide(&account(), &mut [], &[], &[], &HashSet::new());
        assert_eq!(v, Verdict::Clean);
        assert!(ev.starts_with("0 bounce(s), none in a flood"), "{ev}");
    }
}
