//! The four end-to-end mailboxes the integration tests scan.
//!
//! Each constructor takes a seed and returns a [`Scenario`]: inbox and Sent
//! messages in arrival order plus the [`Planted`] rows and the verdict the
//! tool should reach.
//!
//! - `hijacked`: spam submitted with SMTP AUTH through the account's own
//!   provider from 2-3 outside IPs, DKIM-signed with the account's domain,
//!   copies in Sent; a 6-30 hour burst of bounces from many MTA families.
//! - `backscatter`: the account's address forged by a botnet; bounces return
//!   originals that came straight from outside IPs with SPF/DMARC failing.
//! - `no-originals`: a flood of short notices that return nothing of the
//!   original, so the tool cannot tell hijack from forgery.
//! - `clean`: ordinary mail and one unrelated typo bounce.
//!
//! Decoys that must *not* be reported (a forwarded old bounce, a human "Re:
//! Undelivered Mail" reply) are mixed in where the brief asks for them.

use super::bounce::{host_ip, mx_for};
use super::text::{
    encode_word_iso2022jp, iso2022jp, mua_message_id, ordinary, spam_body, spam_subject,
};
use super::{
    days_from_civil, public_ip, render_arf, render_autoreply, render_bounce, rfc5322_date, stamp,
    AutoReplyKind, BounceSpec, Msg, MtaStyle, Planted, Rng, ALNUM, HEX, LOWER_DIGIT,
};

/// A generated mailbox with the facts planted in it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// "hijacked", "backscatter", "no-originals", "clean".
    pub name: &'static str,
    /// The mailbox owner's address.
    pub account: String,
    /// Messages (LF line ends, RFC 5322, no mbox From_ line), in arrival order.
    pub inbox: Vec<Vec<u8>>,
    /// The account's Sent folder (the spam copies for "hijacked"); may be empty.
    pub sent: Vec<Vec<u8>>,
    /// One row per bounce recipient the tool must report.
    pub planted: Vec<Planted>,
    /// "compromised" | "backscatter" | "inconclusive" | "clean".
    pub expected_verdict: &'static str,
    /// Unix seconds of the first and last planted campaign bounce (inclusive);
    /// (0, 0) when there is no campaign.
    pub window: (i64, i64),
}

/// 2026-10-01 00:00 JST: the start of every scenario's mail history.
fn t0() -> i64 {
    days_from_civil(2026, 10, 1) * 86_400 - 9 * 3600
}

/// Collects timestamped messages and sorts them into arrival order at the end.
struct Mailbox {
    inbox: Vec<(i64, Vec<u8>)>,
    sent: Vec<(i64, Vec<u8>)>,
    planted: Vec<Planted>,
}

impl Mailbox {
    fn new() -> Mailbox {
        Mailbox {
            inbox: Vec::new(),
            sent: Vec::new(),
            planted: Vec::new(),
        }
    }

    fn finish(mut self, name: &'static str, account: &str, verdict: &'static str) -> Scenario {
        // Stable sort: equal timestamps keep generation order.
        self.inbox.sort_by_key(|(t, _)| *t);
        self.sent.sort_by_key(|(t, _)| *t);
        self.planted.sort_by_key(|p| p.bounce_unix);
        let camp: Vec<i64> = self
            .planted
            .iter()
            .filter(|p| p.in_campaign)
            .map(|p| p.bounce_unix)
            .collect();
        let window = match (camp.iter().min(), camp.iter().max()) {
            (Some(a), Some(b)) => (*a, *b),
            _ => (0, 0),
        };
        Scenario {
            name,
            account: account.to_string(),
            inbox: self.inbox.into_iter().map(|(_, m)| m).collect(),
            sent: self.sent.into_iter().map(|(_, m)| m).collect(),
            planted: self.planted,
            expected_verdict: verdict,
            window,
        }
    }

    fn bounce(&mut self, spec: &BounceSpec, rng: &mut Rng, in_campaign: bool) {
        let (b, mut p) = render_bounce(spec, rng);
        for row in &mut p {
            row.in_campaign = in_campaign;
        }
        self.inbox.push((spec.date, b));
        self.planted.extend(p);
    }
}

/// A business-hours time (JST, weekdays mostly) on day `day` after t0.
fn office_time(rng: &mut Rng, day: i64) -> i64 {
    t0() + day * 86_400 + rng.range(8 * 3600, 20 * 3600)
}

/// Ordinary mail spread over `days` days, skipping `[skip.0, skip.1)`.
fn ordinary_mail(
    mb: &mut Mailbox,
    rng: &mut Rng,
    account: &str,
    count: usize,
    days: i64,
    skip: (i64, i64),
) {
    let mut made = 0;
    while made < count {
        let day = rng.range(0, days - 1);
        // Weekends are quieter: 2026-10-01 was a Thursday, so days 2,3 mod 7 are Sat/Sun.
        if matches!(day % 7, 2 | 3) && rng.chance(0.75) {
            continue;
        }
        let t = office_time(rng, day);
        if t >= skip.0 && t < skip.1 {
            continue;
        }
        mb.inbox.push((t, ordinary(rng, account, t)));
        made += 1;
    }
}

/// A legitimate mail the owner sent from the office through authenticated
/// submission (used for the typo bounce and the Sent folder).
fn legit_sent(
    rng: &mut Rng,
    account: &str,
    to: &str,
    subject: &str,
    date: i64,
    office_ip: &str,
) -> (Vec<u8>, Vec<u8>) {
    let dom = account.split('@').nth(1).unwrap_or("example.co.jp");
    let qid = format!("4{}", rng.token(ALNUM, 11));
    let mid = format!("{}.{}@{}", stamp(date), rng.token(HEX, 12), dom);
    let mut copy = Msg::new();
    copy.h(
        "From",
        format!("{} <{}>", encode_word_iso2022jp("田中 浩"), account),
    )
    .h("To", to.to_string())
    .h("Subject", encode_word_iso2022jp(subject))
    .h("Date", rfc5322_date(date, 540))
    .h("Message-ID", format!("<{}>", mid))
    .h("MIME-Version", "1.0")
    .h("Content-Type", "text/plain; charset=ISO-2022-JP")
    .h("Content-Transfer-Encoding", "7bit")
    .h("User-Agent", "Mozilla Thunderbird 128.3.1");
    copy.body = iso2022jp("佐藤様\n\nいつもお世話になっております。田中です。\n資料の件、ご確認をお願いいたします。\n\n田中\n");
    let mut full = Msg::new();
    full.h(
        "Received",
        format!(
            "from [{}] (p{}-ipngn.example-isp.ne.jp [{}])\n\t(Authenticated sender: {})\n\tby smtp.{} (Postfix) with ESMTPSA id {}\n\tfor <{}>; {}",
            office_ip,
            rng.range(1000, 9999),
            office_ip,
            account,
            dom,
            qid,
            to,
            rfc5322_date(date + 1, 540)
        ),
    );
    full.h("DKIM-Signature", dkim(rng, dom, date));
    full.headers.extend(copy.headers.iter().cloned());
    full.body = copy.body.clone();
    (full.to_bytes(), copy.to_bytes())
}

/// A plausible DKIM-Signature header for `domain` (the signature is random:
/// nothing verifies it offline, the tool only reads `d=`).
fn dkim(rng: &mut Rng, domain: &str, date: i64) -> String {
    let b: String = (0..4)
        .map(|_| {
            rng.token(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                64,
            )
        })
        .collect::<Vec<_>>()
        .join("\n\t ");
    format!(
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d={};\n\ts=mo2024; t={}; bh={}=;\n\th=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\n\tb={}",
        domain,
        date,
        rng.token(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 43),
        b
    )
}

const X_MAILERS: &[&str] = &[
    "Microsoft Outlook 16.0",
    "PHPMailer 6.8.0 (https://github.com/PHPMailer/PHPMailer)",
    "Foxmail 7.2.25.228[cn]",
    "Mozilla Thunderbird 115.6.0",
    "The Bat! (v9.4.5) Professional",
];

/// Spam submitted through the provider with the stolen password: (original as
/// the provider's outbound MTA holds it, copy for the Sent folder, Message-ID).
fn hijack_spam(
    rng: &mut Rng,
    account: &str,
    rcpts: &[String],
    date: i64,
    ip: &str,
    outbound: &str,
) -> (Vec<u8>, Vec<u8>, String) {
    let dom = account.split('@').nth(1).unwrap_or("example.co.jp");
    let qid = format!(
        "4{}",
        rng.token(b"BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789", 11)
    );
    // The bulk tool sends no Message-ID; the provider's submission Postfix adds one.
    let mid = format!("{}.{}@smtp.{}", stamp(date), qid, dom);
    let subject = spam_subject(rng);
    let mut copy = Msg::new();
    let display = rng
        .pick(&[
            "Tanaka Hiroshi",
            "Customer Support",
            "Accounting Dept.",
            "tanaka",
        ])
        .to_string();
    copy.h("From", format!("\"{}\" <{}>", display, account))
        .h(
            "To",
            if rcpts.len() == 1 {
                rcpts[0].clone()
            } else {
                "undisclosed-recipients:;".into()
            },
        )
        .h(
            "Subject",
            if subject.is_ascii() {
                subject.clone()
            } else {
                super::text::encode_word_utf8(&subject)
            },
        )
        .h(
            "Date",
            rfc5322_date(date - rng.range(0, 40), *rng.pick(&[0, -420, 480, 180])),
        )
        .h("Message-ID", format!("<{}>", mid))
        .h("MIME-Version", "1.0")
        .h("Content-Type", "text/plain; charset=utf-8")
        .h("Content-Transfer-Encoding", "7bit")
        .h("X-Mailer", rng.pick(X_MAILERS).to_string());
    copy.body = spam_body(rng).into_bytes();
    let mut full = Msg::new();
    let out_ip = host_ip(&format!("smtp.{}", dom));
    full.h(
        "Received",
        format!(
            "from smtp.{} (smtp.{} [{}])\n\tby {} (Postfix) with ESMTP id {}\n\tfor <{}>; {}",
            dom,
            dom,
            out_ip,
            outbound,
            ["4", &rng.token(ALNUM, 11)].concat(),
            rcpts[0],
            rfc5322_date(date + 1, 540)
        ),
    );
    full.h(
        "Received",
        format!(
            "from [{}] (unknown [{}])\n\t(Authenticated sender: {})\n\tby smtp.{} (Postfix) with ESMTPSA id {}\n\tfor <{}>; {}",
            ip, ip, account, dom, qid, rcpts[0], rfc5322_date(date, 540)
        ),
    );
    full.h("DKIM-Signature", dkim(rng, dom, date));
    full.headers.extend(copy.headers.iter().cloned());
    full.body = copy.body.clone();
    (full.to_bytes(), copy.to_bytes(), mid)
}

/// Adds the hop into the recipient's MX on top of an original, for bounces
/// written by the recipient's side after it accepted the message.
fn with_remote_hop(
    rng: &mut Rng,
    original: &[u8],
    from_host: &str,
    rcpt: &str,
    date: i64,
) -> Vec<u8> {
    let dom = rcpt.split('@').nth(1).unwrap_or("example.com");
    let mut out = format!(
        "Received: from {} ({} [{}])\n\tby {} with ESMTPS id {}\n\tfor <{}>; {}\n",
        from_host,
        from_host,
        host_ip(from_host),
        mx_for(dom),
        rng.token(ALNUM, 14),
        rcpt,
        rfc5322_date(date, 0)
    )
    .into_bytes();
    out.extend_from_slice(original);
    out
}

/// Recipient domains for spam victims, and the style of server they run.
fn victim(rng: &mut Rng, style: MtaStyle) -> (String, String) {
    let local = match rng.below(4) {
        0 => format!(
            "{}.{}",
            rng.pick(&["k", "m", "y", "t", "s", "h"]),
            rng.pick(&[
                "sato",
                "suzuki",
                "kato",
                "kobayashi",
                "yoshida",
                "yamamoto",
                "nakamura"
            ])
        ),
        1 => rng
            .pick(&[
                "info", "sales", "contact", "support", "office", "admin", "recruit",
            ])
            .to_string(),
        2 => format!(
            "{}{}",
            rng.pick(&["john", "anna", "mike", "lisa", "ken", "yuki"]),
            rng.range(70, 99)
        ),
        _ => rng.token(LOWER_DIGIT, 8),
    };
    let company = || -> &'static [&'static str] {
        &[
            "example.com",
            "example.net",
            "example.org",
            "kanto.example.com",
            "osaka.example.jp",
            "trade.example.net",
            "corp.example.org",
            "example.ac.jp",
        ]
    };
    let dom = match style {
        MtaStyle::Gmail => "gmail.com".to_string(),
        MtaStyle::Yahoo => "yahoo.co.jp".to_string(),
        MtaStyle::Docomo => "docomo.ne.jp".to_string(),
        _ => rng.pick(company()).to_string(),
    };
    let reporting = match style {
        MtaStyle::Exim | MtaStyle::Sendmail | MtaStyle::Qmail => format!("mail.{}", dom),
        MtaStyle::Exchange => format!("EXCH0{}.{}", rng.range(1, 3), dom),
        MtaStyle::Office365 => format!(
            "TY{}PR01MB{}.jpnprd01.prod.outlook.com",
            rng.range(1, 4),
            rng.range(1000, 9999)
        ),
        MtaStyle::Gmail => format!("mail-sor-f{}.google.com", rng.range(41, 73)),
        MtaStyle::Yahoo => format!("mta10{:02}.mail.kks.yahoo.co.jp", rng.range(1, 40)),
        MtaStyle::AmazonSes => {
            format!("a27-{}.smtp-out.us-west-2.amazonses.com", rng.range(10, 60))
        }
        MtaStyle::Docomo => "mfsmax.docomo.ne.jp".into(),
        MtaStyle::Postfix => format!("mail.{}", dom),
    };
    (format!("{}@{}", local, dom), reporting)
}

fn reason_for(rng: &mut Rng, style: MtaStyle) -> &'static str {
    let r = rng.below(100);
    match r {
        0..=49 => "userunknown",
        50..=59 => "mailboxfull",
        60..=71 if style != MtaStyle::Docomo && style != MtaStyle::Yahoo => "blocked",
        60..=71 => "userunknown",
        72..=83 if style != MtaStyle::Yahoo => "spamdetected",
        72..=83 => "mailboxfull",
        84..=91
            if matches!(
                style,
                MtaStyle::Postfix | MtaStyle::Qmail | MtaStyle::Sendmail | MtaStyle::Office365
            ) =>
        {
            "hostunknown"
        }
        _ => "suspend",
    }
}

fn dsn_for(rng: &mut Rng, style: MtaStyle) -> bool {
    match style {
        MtaStyle::Postfix => rng.chance(0.9),
        MtaStyle::Exim => rng.chance(0.5),
        MtaStyle::Sendmail => rng.chance(0.7),
        MtaStyle::Qmail | MtaStyle::Yahoo | MtaStyle::Docomo => false,
        _ => true,
    }
}

/// Style mix for a hijack: the provider's own Postfix reports most SMTP-time
/// rejections; the rest come from recipients' systems after acceptance.
const HIJACK_STYLES: &[(MtaStyle, u64)] = &[
    (MtaStyle::Postfix, 34),
    (MtaStyle::Exim, 10),
    (MtaStyle::Sendmail, 8),
    (MtaStyle::Qmail, 8),
    (MtaStyle::Exchange, 8),
    (MtaStyle::Office365, 10),
    (MtaStyle::Gmail, 8),
    (MtaStyle::Yahoo, 6),
    (MtaStyle::AmazonSes, 4),
    (MtaStyle::Docomo, 4),
];

fn weighted(rng: &mut Rng, table: &[(MtaStyle, u64)]) -> MtaStyle {
    let total: u64 = table.iter().map(|x| x.1).sum();
    let mut k = rng.below(total);
    for &(s, w) in table {
        if k < w {
            return s;
        }
        k -= w;
    }
    table[0].0
}

/// Spam sent with the account's stolen password: ordinary mail for five
/// weeks, a typo bounce two weeks before, then a 6-30 hour bounce burst.
pub fn hijacked(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed ^ 0x4849_4a41_434b);
    let account = "tanaka@example.co.jp";
    let outbound = format!("mo{}.example.co.jp", rng.range(11, 39));
    let mut mb = Mailbox::new();

    let burst_start = t0() + 35 * 86_400 + rng.range(3600, 4 * 3600); // small hours JST
    let dur = rng.range(6, 30) * 3600;
    let burst_end = burst_start + dur;

    ordinary_mail(
        &mut mb,
        &mut rng,
        account,
        150,
        35,
        (burst_start, burst_end),
    );
    // Life goes on during the burst: a few ordinary mails arrive in between.
    for _ in 0..5 {
        let t = burst_start + rng.range(0, dur);
        mb.inbox.push((t, ordinary(&mut rng, account, t)));
    }

    // The owner's own sent mail, and the unrelated typo bounce.
    let office_ip = format!("203.0.113.{}", rng.range(30, 60));
    for i in 0..8 {
        let t = office_time(&mut rng, 2 + i * 4);
        let (_, copy) = legit_sent(
            &mut rng,
            account,
            "k.sato@example-trading.co.jp",
            "資料の件",
            t,
            &office_ip,
        );
        mb.sent.push((t, copy));
    }
    let typo_t = office_time(&mut rng, 21);
    let (typo_full, typo_copy) = legit_sent(
        &mut rng,
        account,
        "k.sato@example-tradng.co.jp",
        "お見積りの件",
        typo_t,
        &office_ip,
    );
    mb.sent.push((typo_t, typo_copy));
    let spec = BounceSpec {
        style: MtaStyle::Postfix,
        dsn: true,
        recipients: vec![("k.sato@example-tradng.co.jp".into(), "hostunknown")],
        original: typo_full,
        return_headers_only: false,
        include_original: true,
        date: typo_t + rng.range(2, 20),
        reporting_mta: outbound.clone(),
        delayed: false,
    };
    mb.bounce(&spec, &mut rng, false);

    // 2-3 outside IPs used in turn by the attacker.
    let n_ips = rng.range(2, 3) as usize;
    let mut ips: Vec<String> = Vec::new();
    while ips.len() < n_ips {
        let ip = public_ip(&mut rng);
        if ip != office_ip && !ips.contains(&ip) && !ip.starts_with("203.0.113") {
            ips.push(ip);
        }
    }
    let ip_at = |t: i64| -> String {
        ips[(((t - burst_start) * ips.len() as i64) / (dur + 1)).clamp(0, ips.len() as i64 - 1)
            as usize]
            .clone()
    };

    // Delayed-then-failed pair for one slow host.
    {
        let t = burst_start + 600;
        let rcpt = format!(
            "{}@slow.example.org",
            rng.pick(&["info", "kobayashi", "office"])
        );
        let (full, copy, _) = hijack_spam(
            &mut rng,
            account,
            std::slice::from_ref(&rcpt),
            t,
            &ip_at(t),
            &outbound,
        );
        mb.sent.push((t, copy));
        for (delayed, at) in [(true, t + 4 * 3600 + 300), (false, burst_end - 300)] {
            let spec = BounceSpec {
                style: MtaStyle::Postfix,
                dsn: true,
                recipients: vec![(rcpt.clone(), "expired")],
                original: full.clone(),
                return_headers_only: false,
                include_original: true,
                date: at,
                reporting_mta: outbound.clone(),
                delayed,
            };
            mb.bounce(&spec, &mut rng, true);
        }
    }

    // The bounce burst proper.
    let target = rng.range(40, 76) as usize;
    let mut t = burst_start;
    let gap = (dur - 3600) / target as i64;
    let mut rows = 2;
    let mut i = 0;
    while rows < target {
        // Spread by rows, not events: a Postfix bounce may carry three rows.
        t = t.max(burst_start + (dur - 3600) * rows as i64 / target as i64 + rng.range(0, gap / 2));
        // Make sure the style list is covered early, then draw by weight.
        let style = if i < 10 {
            MtaStyle::ALL[i]
        } else {
            weighted(&mut rng, HIJACK_STYLES)
        };
        i += 1;
        let n = if style == MtaStyle::Postfix {
            rng.range(1, 3) as usize
        } else {
            1
        };
        let mut rcpts = Vec::new();
        let mut reporting = String::new();
        for _ in 0..n {
            let (r, rep) = victim(&mut rng, style);
            reporting = rep;
            if !rcpts.iter().any(|(x, _): &(String, &str)| x == &r) {
                rcpts.push((r, reason_for(&mut rng, style)));
            }
        }
        let addrs: Vec<String> = rcpts.iter().map(|x| x.0.clone()).collect();
        let (full, copy, _) = hijack_spam(&mut rng, account, &addrs, t, &ip_at(t), &outbound);
        mb.sent.push((t, copy));
        let (original, reporting_mta, delay) = if style == MtaStyle::Postfix {
            // Rejected during the provider's own SMTP session: immediate bounce.
            (full, outbound.clone(), rng.range(2, 90))
        } else {
            (
                with_remote_hop(&mut rng, &full, &outbound, &addrs[0], t + 2),
                reporting,
                rng.range(60, 2400),
            )
        };
        let spec = BounceSpec {
            style,
            dsn: dsn_for(&mut rng, style),
            recipients: rcpts,
            original,
            return_headers_only: rng.chance(0.2),
            include_original: !rng.chance(0.08),
            date: t + delay,
            reporting_mta,
            delayed: false,
        };
        rows += spec.recipients.len();
        mb.bounce(&spec, &mut rng, true);
    }

    // Auto-replies from spam recipients whose mailboxes answered.
    for (k, kind) in [
        AutoReplyKind::VacationEn,
        AutoReplyKind::FuzaiJa,
        AutoReplyKind::AddressChangedJa,
    ]
    .into_iter()
    .enumerate()
    {
        let at = burst_start + dur * (k as i64 + 1) / 5;
        let replier = match kind {
            AutoReplyKind::VacationEn => format!(
                "{}@example.com",
                rng.pick(&["m.johnson", "purchasing", "d.lee"])
            ),
            AutoReplyKind::FuzaiJa => format!(
                "{}@osaka.example.jp",
                rng.pick(&["nakamura", "eigyo", "h.kato"])
            ),
            AutoReplyKind::AddressChangedJa => format!(
                "{}@example.ne.jp",
                rng.pick(&["yuki_0420", "hanako.m", "taro-y"])
            ),
        };
        // The replier's system accepted the spam; only the Sent copy remains.
        let (_, copy, _) = hijack_spam(
            &mut rng,
            account,
            std::slice::from_ref(&replier),
            at,
            &ip_at(at),
            &outbound,
        );
        mb.sent.push((at, copy));
        let subj = spam_subject(&mut rng);
        let (m, mut p) = render_autoreply(
            kind,
            &replier,
            account,
            &subj,
            at + rng.range(30, 900),
            &mut rng,
        );
        p.in_campaign = true;
        mb.inbox.push((p.bounce_unix, m));
        mb.planted.push(p);
    }

    // A feedback-loop report from a receiving provider.
    {
        let at = burst_start + dur / 2;
        let rcpt = format!("{}@example.net", rng.token(LOWER_DIGIT, 7));
        let (full, copy, _) = hijack_spam(&mut rng, account, &[rcpt], at, &ip_at(at), &outbound);
        mb.sent.push((at, copy));
        let (m, p) = render_arf("fbl.example.net", &full, account, at + 1800, &mut rng);
        mb.inbox.push((p.bounce_unix, m));
        mb.planted.push(p);
    }

    // Decoy 1: a colleague forwards an old bounce of her own (not planted).
    {
        let at = burst_start + dur / 3 + 1234;
        mb.inbox
            .push((at, forwarded_old_bounce(&mut rng, account, at)));
    }
    // Decoy 2: a person replies to "Undelivered Mail" (not planted).
    {
        let at = burst_end + rng.range(1800, 7200);
        mb.inbox.push((at, human_reply(&mut rng, account, at)));
    }

    mb.finish("hijacked", account, "compromised")
}

/// "Fwd: Undelivered Mail Returned to Sender" from a colleague, quoting an
/// old Postfix bounce inline.
fn forwarded_old_bounce(rng: &mut Rng, account: &str, at: i64) -> Vec<u8> {
    let old = at - 200 * 86_400;
    let mut m = Msg::new();
    m.h("Return-Path", "<y-ito@example.co.jp>")
        .h("Received", format!("from smtp.example.co.jp (smtp.example.co.jp [{}])\n\tby mx.example.co.jp (Postfix) with ESMTPS id 4{}\n\tfor <{}>; {}", host_ip("smtp.example.co.jp"), rng.token(ALNUM, 11), account, rfc5322_date(at + 2, 540)))
        .h("From", format!("{} <y-ito@example.co.jp>", encode_word_iso2022jp("伊藤 由美")))
        .h("To", account.to_string())
        .h("Subject", "Fwd: Undelivered Mail Returned to Sender")
        .h("Date", rfc5322_date(at, 540))
        .h("Message-ID", format!("<{}>", mua_message_id(rng, "example.co.jp", at)))
        .h("MIME-Version", "1.0")
        .h("Content-Type", "text/plain; charset=us-ascii")
        .h("Content-Transfer-Encoding", "7bit");
    m.body_str(&format!(
        "Tanaka-san,\n\nI found this old error mail in my inbox - is this related to the strange\nmails today? Forwarding just in case.\n\nIto\n\n---------- Forwarded message ---------\nFrom: MAILER-DAEMON@mo11.example.co.jp (Mail Delivery System)\nDate: {}\nSubject: Undelivered Mail Returned to Sender\nTo: y-ito@example.co.jp\n\nThis is the mail system at host mo11.example.co.jp.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n<old.client@example.org>: host mx.example.org[{}] said: 550 5.1.1\n    <old.client@example.org>: Recipient address rejected: User unknown in\n    virtual mailbox table (in reply to RCPT TO command)\n\nFinal-Recipient: rfc822; old.client@example.org\nAction: failed\nStatus: 5.1.1\n",
        rfc5322_date(old, 540),
        host_ip("mx.example.org")
    ));
    m.to_bytes()
}

/// A person's reply to "Undelivered Mail Returned to Sender" (not planted).
fn human_reply(rng: &mut Rng, account: &str, at: i64) -> Vec<u8> {
    let mut m = Msg::new();
    m.h("Return-Path", "<emily.carter@example.com>")
        .h("Received", format!("from mail.example.com (mail.example.com [{}])\n\tby mx.example.co.jp (Postfix) with ESMTPS id 4{}\n\tfor <{}>; {}", host_ip("mail.example.com"), rng.token(ALNUM, 11), account, rfc5322_date(at + 3, 540)))
        .h("From", "Emily Carter <emily.carter@example.com>")
        .h("To", account.to_string())
        .h("Subject", "Re: Undelivered Mail Returned to Sender")
        .h("Date", rfc5322_date(at, -300))
        .h("Message-ID", format!("<{}>", mua_message_id(rng, "example.com", at)))
        .h("In-Reply-To", format!("<{}.{}@example.co.jp>", stamp(at - 7200), rng.token(HEX, 12)))
        .h("MIME-Version", "1.0")
        .h("Content-Type", "text/plain; charset=us-ascii; format=flowed")
        .h("Content-Transfer-Encoding", "7bit");
    m.body_str("Hi Tanaka-san,\n\nWe also received several odd messages from your address last night\n(\"account statement\", \"invoice overdue\"). I think your mailbox may have been\ncompromised - please change your password.\n\nRegards,\nEmily\n\n> Sorry, did you get my earlier mail? I received an \"Undelivered Mail\n> Returned to Sender\" notice for it.\n");
    m.to_bytes()
}

/// A forged original as a recipient's MX received it straight from a bot.
fn forged_spam(
    rng: &mut Rng,
    account: &str,
    rcpt: &str,
    date: i64,
    bot_ip: &str,
    style: MtaStyle,
) -> Vec<u8> {
    let dom = rcpt.split('@').nth(1).unwrap_or("example.com");
    let acct_dom = account.split('@').nth(1).unwrap_or("example.jp");
    let helo = match rng.below(3) {
        0 => format!(
            "{}.{}",
            rng.token(LOWER_DIGIT, 6),
            rng.pick(&["com", "net", "ru", "br"])
        ),
        1 => format!("[{}]", bot_ip),
        _ => rng.token(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 8),
    };
    // The host that accepted the forgery also stamps Authentication-Results.
    let by_host = match style {
        MtaStyle::Exim | MtaStyle::Qmail | MtaStyle::Sendmail => format!("mail.{}", dom),
        _ => mx_for(dom),
    };
    let by = match style {
        MtaStyle::Exim => format!(
            "mail.{} with esmtp (Exim 4.97)\n\t(envelope-from <{}>)\n\tid 1{}-{}-{}",
            dom,
            account,
            rng.token(ALNUM, 5),
            rng.token(ALNUM, 6),
            rng.token(ALNUM, 2)
        ),
        MtaStyle::Qmail => format!("mail.{} with SMTP", dom),
        MtaStyle::Sendmail => format!(
            "mail.{} (8.17.1/8.17.1) with ESMTP id {}{}",
            dom,
            rng.token(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
            rng.range(100_000, 999_999)
        ),
        _ => format!(
            "{} (Postfix) with ESMTP id {}",
            mx_for(dom),
            rng.token(ALNUM, 12)
        ),
    };
    let mut m = Msg::new();
    m.h("Received", format!("from unknown (HELO {}) ([{}])\n\tby {}\n\tfor <{}>; {}", helo, bot_ip, by, rcpt, rfc5322_date(date, 540)))
        .h(
            "Authentication-Results",
            format!(
                "{};\n\tspf=fail (domain of {} does not designate {} as permitted sender) smtp.mailfrom={};\n\tdkim=none (message not signed);\n\tdmarc=fail (p=NONE sp=NONE dis=NONE) header.from={}",
                by_host,
                account,
                bot_ip,
                acct_dom,
                acct_dom
            ),
        )
        .h("From", format!("\"{}\" <{}>", rng.pick(&["Shop Support", "Sales Team", "Billing"]), account))
        .h("To", rcpt.to_string())
        .h("Subject", spam_subject(rng))
        .h("Date", rfc5322_date(date - rng.range(0, 300), *rng.pick(&[0, 180, 480, -180])))
        .h("Message-ID", format!("<{}{}@{}>", rng.token(HEX, 16), rng.token(HEX, 8), helo.trim_matches(|c| c == '[' || c == ']')))
        .h("MIME-Version", "1.0")
        .h("Content-Type", "text/plain; charset=\"utf-8\"")
        .h("X-Mailer", rng.pick(X_MAILERS).to_string());
    m.body = spam_body(rng).into_bytes();
    m.to_bytes()
}

const BACKSCATTER_STYLES: &[(MtaStyle, u64)] = &[
    (MtaStyle::Postfix, 20),
    (MtaStyle::Exim, 18),
    (MtaStyle::Sendmail, 12),
    (MtaStyle::Qmail, 14),
    (MtaStyle::Exchange, 12),
    (MtaStyle::Office365, 10),
    (MtaStyle::Yahoo, 7),
    (MtaStyle::Docomo, 7),
];

/// The account's address forged by a botnet: accept-then-bounce systems
/// return originals that came straight from many outside IPs.
pub fn backscatter(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed ^ 0x4241_434b);
    let account = "sales@shop.example.jp";
    let mut mb = Mailbox::new();
    let burst_start = t0() + 20 * 86_400 + rng.range(0, 6 * 3600);
    let dur = rng.range(8, 20) * 3600;
    ordinary_mail(
        &mut mb,
        &mut rng,
        account,
        60,
        24,
        (burst_start, burst_start + dur),
    );
    let target = rng.range(30, 45) as usize;
    let mut rows = 0;
    let mut i = 0;
    while rows < target {
        let t = burst_start + rng.range(0, dur - 3600);
        let style = if i < 8 {
            BACKSCATTER_STYLES[i].0
        } else {
            weighted(&mut rng, BACKSCATTER_STYLES)
        };
        i += 1;
        let (rcpt, reporting) = victim(&mut rng, style);
        let bot = public_ip(&mut rng);
        let original = forged_spam(&mut rng, account, &rcpt, t, &bot, style);
        let spec = BounceSpec {
            style,
            dsn: dsn_for(&mut rng, style),
            recipients: vec![(rcpt, reason_for(&mut rng, style))],
            original,
            return_headers_only: rng.chance(0.25),
            include_original: !rng.chance(0.1),
            date: t + rng.range(5, 1800),
            reporting_mta: reporting,
            delayed: false,
        };
        rows += 1;
        mb.bounce(&spec, &mut rng, true);
    }
    let at = burst_start + dur / 2;
    let (m, p) = render_autoreply(
        AutoReplyKind::VacationEn,
        "j.miller@example.com",
        account,
        &spam_subject(&mut rng),
        at,
        &mut rng,
    );
    mb.inbox.push((at, m));
    mb.planted.push(p);
    mb.finish("backscatter", account, "backscatter")
}

/// A flood of short notices that return nothing of the original.
pub fn no_originals(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed ^ 0x4e4f_4f52);
    let account = "yamada@example.ne.jp";
    let mut mb = Mailbox::new();
    let burst_start = t0() + 14 * 86_400 + rng.range(0, 10 * 3600);
    let dur = rng.range(6, 16) * 3600;
    ordinary_mail(
        &mut mb,
        &mut rng,
        account,
        40,
        16,
        (burst_start, burst_start + dur),
    );
    let styles = [
        MtaStyle::Qmail,
        MtaStyle::Yahoo,
        MtaStyle::Exim,
        MtaStyle::Docomo,
        MtaStyle::Postfix,
        MtaStyle::Sendmail,
        MtaStyle::Office365,
        MtaStyle::Gmail,
    ];
    let target = rng.range(30, 40);
    for k in 0..target {
        let t = burst_start + rng.range(0, dur);
        let style = if (k as usize) < styles.len() {
            styles[k as usize]
        } else {
            *rng.pick(&styles)
        };
        let (rcpt, reporting) = victim(&mut rng, style);
        // Only what the renderer needs for To:/Subject:; it is never returned.
        let stub = format!(
            "From: {}\nTo: {}\nSubject: {}\nDate: {}\nMessage-ID: <{}@localhost>\n\n",
            account,
            rcpt,
            spam_subject(&mut rng),
            rfc5322_date(t - 60, 0),
            rng.token(HEX, 20)
        )
        .into_bytes();
        let spec = BounceSpec {
            style,
            dsn: style != MtaStyle::Exim && dsn_for(&mut rng, style),
            recipients: vec![(rcpt, reason_for(&mut rng, style))],
            original: stub,
            return_headers_only: false,
            include_original: false,
            date: t,
            reporting_mta: reporting,
            delayed: false,
        };
        mb.bounce(&spec, &mut rng, true);
    }
    mb.finish("no-originals", account, "inconclusive")
}

/// Ordinary mail and one unrelated typo bounce: nothing to report as a campaign.
pub fn clean(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed ^ 0x0043_4c45_414e);
    let account = "suzuki@example.or.jp";
    let mut mb = Mailbox::new();
    ordinary_mail(&mut mb, &mut rng, account, 80, 30, (0, 0));
    let office_ip = format!("198.51.100.{}", rng.range(100, 200));
    let t = office_time(&mut rng, 12);
    let (full, copy) = legit_sent(
        &mut rng,
        account,
        "info@exmaple.com",
        "資料送付のご連絡",
        t,
        &office_ip,
    );
    mb.sent.push((t, copy));
    let spec = BounceSpec {
        style: MtaStyle::Postfix,
        dsn: true,
        recipients: vec![("info@exmaple.com".into(), "hostunknown")],
        original: full,
        return_headers_only: false,
        include_original: true,
        date: t + 5,
        reporting_mta: "mo17.example.or.jp".into(),
        delayed: false,
    };
    mb.bounce(&spec, &mut rng, false);
    mb.finish("clean", account, "clean")
}

/// One random bounce about a random spam original, for the benchmark corpus.
pub(crate) fn random_bounce(rng: &mut Rng, account: &str, date: i64) -> Vec<u8> {
    let style = *rng.pick(&MtaStyle::ALL);
    let (rcpt, reporting) = victim(rng, style);
    let ip = public_ip(rng);
    let original = if rng.chance(0.5) {
        hijack_spam(
            rng,
            account,
            std::slice::from_ref(&rcpt),
            date - 60,
            &ip,
            "mo21.example.co.jp",
        )
        .0
    } else {
        forged_spam(rng, account, &rcpt, date - 60, &ip, style)
    };
    let spec = BounceSpec {
        style,
        dsn: dsn_for(rng, style),
        recipients: vec![(rcpt, reason_for(rng, style))],
        original,
        return_headers_only: rng.chance(0.2),
        include_original: rng.chance(0.9),
        date,
        reporting_mta: reporting,
        delayed: false,
    };
    render_bounce(&spec, rng).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hijack_originals_carry_auth_and_dkim() {
        let mut rng = Rng::new(1);
        let (full, copy, mid) = hijack_spam(
            &mut rng,
            "tanaka@example.co.jp",
            &["a@example.com".into()],
            t0(),
            "198.51.100.23",
            "mo21.example.co.jp",
        );
        let s = String::from_utf8(full).unwrap();
        assert!(s.contains("(Authenticated sender: tanaka@example.co.jp)"));
        assert!(s.contains("with ESMTPSA"));
        assert!(s.contains("d=example.co.jp;"));
        assert!(s.contains(&mid));
        assert!(!String::from_utf8(copy).unwrap().contains("Received:"));
    }

    #[test]
    fn forged_originals_fail_spf() {
        let mut rng = Rng::new(2);
        let f = forged_spam(
            &mut rng,
            "sales@shop.example.jp",
            "x@example.com",
            t0(),
            "203.0.113.77",
            MtaStyle::Exim,
        );
        let s = String::from_utf8(f).unwrap();
        assert!(s.contains("spf=fail"));
        assert!(!s.contains("DKIM-Signature"));
        assert_eq!(
            super::super::origin_ip_of(s.as_bytes()).as_deref(),
            Some("203.0.113.77")
        );
    }

    #[test]
    fn hijack_counts() {
        let h = hijacked(11);
        assert!(h.planted.iter().any(|p| p.style == "fuzai-ja"));
        assert!(h.planted.iter().any(|p| p.style == "address-changed-ja"));
        assert!(h.planted.iter().any(|p| p.kind == "feedback"));
        let delayed = h.planted.iter().find(|p| p.action == "delayed").unwrap();
        assert!(h.planted.iter().any(|p| p.action == "failed"
            && p.recipient == delayed.recipient
            && p.status.as_deref() == Some("5.4.7")));
    }
}
