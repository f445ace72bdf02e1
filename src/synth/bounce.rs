//! Bounces, auto-replies and abuse reports in the shapes real MTAs write.
//!
//! Takes a [`BounceSpec`] (style, failed recipients with a reason, the original
//! message) and returns the bounce bytes plus one [`Planted`] row per failed
//! recipient. The texts follow what each family emits: Postfix's `bounce(8)`
//! templates, Exim's `bounce_message_text`, sendmail's `savemail.c` transcript
//! headings, qmail-send's "Hi. This is the qmail-send program", Exchange and
//! Office 365 NDRs ("Diagnostic information for administrators"), Gmail's
//! "Delivery Status Notification (Failure)", Yahoo's "Failure Notice", Amazon
//! SES DSNs and a Japanese carrier notice. DSN parts follow RFC 3464, reports
//! RFC 6522, auto-replies RFC 3834 and abuse reports RFC 5965.
//!
//! The `Planted` row only claims what the rendered bytes actually carry: a
//! status code is recorded when it appears in a DSN part or in the text, the
//! original Message-ID and origin IP only when the original is returned.

use super::text::{encode_word_iso2022jp, iso2022jp};
use super::{
    bare_address, header_block, header_value, message_id_of, origin_ip_of, postfix_date,
    rfc5322_date, stamp, Msg, MtaStyle, Planted, Rng, ALNUM, HEX, LOWER_DIGIT, UPPER_DIGIT,
};

/// One bounce message to render.
#[derive(Debug, Clone)]
pub struct BounceSpec {
    /// MTA family whose format is imitated.
    pub style: MtaStyle,
    /// RFC 3464 multipart/report (true) or the MTA's plain-text form (false).
    /// qmail, Yahoo and the Japanese carrier only have a text form.
    pub dsn: bool,
    /// Failed recipients and their sisimai-style reasons.
    pub recipients: Vec<(String, &'static str)>,
    /// The full original message (headers and body).
    pub original: Vec<u8>,
    /// Return only the original's headers (text/rfc822-headers).
    pub return_headers_only: bool,
    /// Return the original at all; false gives the short notices that name
    /// only the recipient and the error.
    pub include_original: bool,
    /// Unix time of the bounce.
    pub date: i64,
    /// Host name of the MTA writing the bounce.
    pub reporting_mta: String,
    /// A "delayed" warning (Action: delayed, 4.x.x) instead of a failure.
    /// Honoured by Postfix, Sendmail, Exchange, Office 365 and Gmail; the
    /// others have no warning form and render a failure.
    pub delayed: bool,
}

/// Auto-reply flavours (RFC 3834 `Auto-Submitted: auto-replied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoReplyKind {
    /// English out-of-office.
    VacationEn,
    /// Japanese 「不在」 notice, ISO-2022-JP.
    FuzaiJa,
    /// Japanese 「アドレスが変わりました」 notice, ISO-2022-JP.
    AddressChangedJa,
}

/// What the remote (or local) side said about one recipient.
struct Diag {
    code: Option<u16>,
    status: String,
    /// The server's response as the bounce quotes it (with code and status
    /// when it has them), or the MTA's own words when there was no SMTP reply.
    line: String,
    /// Remote MX (host, ip), None for DNS failures.
    remote: Option<(String, String)>,
    /// SMTP stage of the rejection, for "in reply to RCPT TO command".
    stage: &'static str,
}

/// A stable documentation-range IP for a host name (so the same MX always has
/// the same address within a mailbox).
pub(crate) fn host_ip(host: &str) -> String {
    let h = host.bytes().fold(0xcbf2_9ce4_8422_2325u64, |a, b| {
        (a ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    // Infrastructure lives in 192.0.2.0/24 only; origin IPs come from other
    // ranges, so a test can tell a relay from the submitting client.
    format!("192.0.2.{}", 10 + h % 240)
}

/// The first bracketed IPv4 of the top-most Received header: the relay that
/// handed the message to the MTA now writing the bounce.
fn relay_ip_of(msg: &[u8]) -> Option<String> {
    let top = super::header_value(msg, "Received")?;
    let i = top.find('[')?;
    let j = top[i..].find(']')?;
    Some(top[i + 1..i + j].to_string()).filter(|ip| super::is_public_ipv4(ip))
}

/// The MX host a sending MTA would talk to for `domain`.
pub(crate) fn mx_for(domain: &str) -> String {
    match domain {
        "gmail.com" | "googlemail.com" => "gmail-smtp-in.l.google.com".into(),
        d if d.starts_with("yahoo.") => format!("mx.mail.{}", d),
        "docomo.ne.jp" => "mfsmax.docomo.ne.jp".into(),
        "ezweb.ne.jp" | "au.com" => "lsean.ezweb.ne.jp".into(),
        d if d.contains("outlook") || d.contains("hotmail") => {
            format!("{}.olc.protection.outlook.com", d.replace('.', "-"))
        }
        d => format!("mx.{}", d),
    }
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit('@').next().unwrap_or(addr)
}

/// Remote responses by reason, as commonly seen (Postfix `smtpd`, Gmail,
/// sendmail, Exchange); `{r}` is the recipient, `{ip}` the sending MTA, `{t}`
/// a random token.
fn diag(
    style: MtaStyle,
    reason: &str,
    rcpt: &str,
    delayed: bool,
    sending_ip: &str,
    rng: &mut Rng,
) -> Diag {
    let dom = domain_of(rcpt);
    let mx = mx_for(dom);
    let remote = Some((mx.clone(), host_ip(&mx)));
    let t = rng.token(ALNUM, 14);
    let sub = |s: &str| {
        s.replace("{r}", rcpt)
            .replace("{ip}", sending_ip)
            .replace("{t}", &t)
            .replace("{d}", dom)
    };
    let mk = |code: Option<u16>,
              status: &str,
              line: String,
              remote: Option<(String, String)>,
              stage: &'static str| Diag {
        code,
        status: status.to_string(),
        line,
        remote,
        stage,
    };
    if delayed || reason == "expired" {
        // A host that never answers: the queue gives up after the lifetime.
        let status = if delayed { "4.4.7" } else { "5.4.7" };
        let line = match style {
            MtaStyle::Exchange | MtaStyle::Office365 => {
                if delayed {
                    "400 4.4.7 Message delayed".to_string()
                } else {
                    "550 5.4.7 QUEUE.Expired; message expired".to_string()
                }
            }
            _ => format!(
                "connect to {}[{}]:25: Connection timed out",
                mx,
                host_ip(&mx)
            ),
        };
        let code = match style {
            MtaStyle::Exchange | MtaStyle::Office365 => Some(if delayed { 400 } else { 550 }),
            _ => None,
        };
        return mk(code, status, line, remote, "connect");
    }
    match (style, reason) {
        (MtaStyle::Office365, "userunknown") => mk(
            Some(550),
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup".into(),
            None,
            "RCPT TO",
        ),
        (MtaStyle::Exchange, "userunknown") => {
            mk(Some(550), "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found".into(), None, "RCPT TO")
        }
        (MtaStyle::Exchange | MtaStyle::Office365, "mailboxfull") => mk(
            Some(554),
            "5.2.2",
            "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded".into(),
            None,
            "end of DATA",
        ),
        (MtaStyle::Exchange | MtaStyle::Office365, "blocked") => mk(
            Some(550),
            "5.7.606",
            sub("550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this list please visit https://sender.office.com/ and follow the directions."),
            remote,
            "MAIL FROM",
        ),
        (MtaStyle::Exchange | MtaStyle::Office365, "spamdetected") => mk(
            Some(550),
            "5.7.350",
            "550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected as spam by Content Filtering".into(),
            remote,
            "end of DATA",
        ),
        (MtaStyle::Exchange | MtaStyle::Office365, "hostunknown") => mk(
            Some(554),
            "5.4.4",
            "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain".into(),
            None,
            "connect",
        ),
        (MtaStyle::Yahoo, "userunknown") => mk(
            Some(554),
            "5.0.0",
            sub("554 delivery error: dd This user doesn't have a {d} account ({r}) [0] - mta1004.mail.kks.yahoo.co.jp"),
            None,
            "RCPT TO",
        ),
        (MtaStyle::Yahoo, "mailboxfull") => mk(
            Some(554),
            "5.0.0",
            sub("554 delivery error: dd Sorry your message to {r} cannot be delivered. This mailbox is full - mta1021.mail.kks.yahoo.co.jp"),
            None,
            "RCPT TO",
        ),
        (MtaStyle::Yahoo, "suspend") => mk(
            Some(554),
            "5.0.0",
            sub("554 delivery error: dd Sorry your message to {r} cannot be delivered. This account has been disabled or discontinued [-20] - mta1007.mail.kks.yahoo.co.jp"),
            None,
            "RCPT TO",
        ),
        (MtaStyle::Docomo, "userunknown") => mk(Some(550), "5.1.1", sub("550 Unknown user {r}"), remote, "RCPT TO"),
        (MtaStyle::Docomo, "mailboxfull") => mk(Some(552), "5.2.2", sub("552 Mailbox full {r}"), remote, "RCPT TO"),
        (MtaStyle::Docomo, "blocked" | "spamdetected") => {
            mk(Some(554), "5.7.1", "554 Rejected due to recipient's reception settings".into(), remote, "RCPT TO")
        }
        (MtaStyle::Qmail, "hostunknown") => {
            mk(None, "5.1.2", sub("Sorry, I couldn't find any host named {d}. (#5.1.2)"), None, "connect")
        }
        (MtaStyle::Exim, "hostunknown") => mk(None, "5.0.0", "Unrouteable address".into(), None, "connect"),
        (MtaStyle::Sendmail, "hostunknown") => mk(
            Some(550),
            "5.1.2",
            sub("550 5.1.2 {r}... Host unknown (Name server: {d}: host not found)"),
            None,
            "connect",
        ),
        (_, "hostunknown") => mk(
            None,
            "5.4.4",
            sub("Host or domain name not found. Name service error for name={d} type=A: Host not found"),
            None,
            "connect",
        ),
        (_, "userunknown") => {
            let lines = [
                ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
                ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in local recipient table"),
                ("5.1.1", "550 5.1.1 <{r}>... User unknown"),
                ("5.1.1", "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser {t} - gsmtp"),
                ("5.1.1", "550 5.1.1 Recipient address rejected: {r}: no such user here"),
            ];
            let &(st, l) = if dom == "gmail.com" { &lines[3] } else { rng.pick(&lines[..]) };
            mk(Some(550), st, sub(l), remote, "RCPT TO")
        }
        (_, "mailboxfull") => {
            let lines = [
                (552u16, "5.2.2", "552 5.2.2 <{r}>: Recipient address rejected: Mailbox full"),
                (552, "5.2.2", "552 5.2.2 The email account that you tried to reach is over quota and inactive. For more information, go to https://support.google.com/mail/?p=OverQuotaPerm {t} - gsmtp"),
                (550, "5.2.2", "550 5.2.2 {r}... Mailbox full"),
            ];
            let &(c, st, l) = rng.pick(&lines[..]);
            mk(Some(c), st, sub(l), remote, "RCPT TO")
        }
        (_, "blocked") => {
            let lines = [
                (554u16, "5.7.1", "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"),
                (550, "5.7.1", "550 5.7.1 [{ip}] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked. {t} - gsmtp"),
                (554, "5.7.1", "554 5.7.1 Rejected: IP {ip} listed at bl.spamcop.net"),
            ];
            let &(c, st, l) = rng.pick(&lines[..]);
            mk(Some(c), st, sub(l), remote, "MAIL FROM")
        }
        (_, "spamdetected") => {
            let lines = [
                (550u16, "5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering."),
                (554, "5.7.1", "554 5.7.1 The message was rejected because it contains prohibited virus or spam content"),
                (550, "5.7.1", "550 5.7.1 [{ip}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. {t} - gsmtp"),
            ];
            let &(c, st, l) = rng.pick(&lines[..]);
            mk(Some(c), st, sub(l), remote, "end of DATA")
        }
        (_, "suspend") => mk(
            Some(550),
            "5.2.1",
            sub("550 5.2.1 <{r}>: Recipient address rejected: This mailbox has been disabled"),
            remote,
            "RCPT TO",
        ),
        // Anything else: a generic permanent rejection.
        _ => mk(Some(550), "5.0.0", "550 5.0.0 Requested action not taken".into(), remote, "RCPT TO"),
    }
}

/// The original as it is returned: the whole message or just its headers.
fn returned(spec: &BounceSpec) -> Vec<u8> {
    if spec.return_headers_only {
        header_block(&spec.original).to_vec()
    } else {
        spec.original.clone()
    }
}

/// Wraps a long line at `width` columns with `indent` continuation, the way
/// Postfix folds diagnostics in its notification text.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for (i, w) in text.split(' ').enumerate() {
        if i > 0 {
            if col + 1 + w.len() > width {
                out.push('\n');
                out.push_str(indent);
                col = indent.len();
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(w);
        col += w.len();
    }
    out
}

fn postfix_queue_id(rng: &mut Rng) -> String {
    // Postfix "long" queue IDs (enable_long_queue_ids): time-derived prefix then base-52 inode.
    format!(
        "4{}{}",
        rng.token(b"BCDFGHJKLMNPQRSTVWXYZ", 1),
        rng.token(b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz", 10)
    )
}

/// The time zone a reporting MTA writes its dates in.
fn offset_for(style: MtaStyle, host: &str) -> i32 {
    if host.ends_with(".jp") {
        return 540;
    }
    match style {
        MtaStyle::Gmail => -480,
        MtaStyle::Yahoo | MtaStyle::AmazonSes | MtaStyle::Office365 | MtaStyle::Exchange => 0,
        _ => 60,
    }
}

/// Renders one bounce; returns its bytes and one [`Planted`] row per recipient
/// (with `in_campaign` true; callers clear it for unrelated bounces).
pub fn render_bounce(spec: &BounceSpec, rng: &mut Rng) -> (Vec<u8>, Vec<Planted>) {
    let style = spec.style;
    let host = spec.reporting_mta.as_str();
    let offset = offset_for(style, host);
    let date_s = rfc5322_date(spec.date, offset);
    let orig_from = header_value(&spec.original, "From")
        .map(|v| bare_address(&v))
        .unwrap_or_else(|| "postmaster".into());
    let orig_subject = header_value(&spec.original, "Subject").unwrap_or_default();
    let orig_date = header_value(&spec.original, "Date")
        .and_then(|d| super::parse_date(&d))
        .unwrap_or(spec.date - 60);
    let sending_ip = host_ip(host);
    let delayed = spec.delayed
        && matches!(
            style,
            MtaStyle::Postfix
                | MtaStyle::Sendmail
                | MtaStyle::Exchange
                | MtaStyle::Office365
                | MtaStyle::Gmail
        );
    let diags: Vec<(String, &'static str, Diag)> = spec
        .recipients
        .iter()
        .map(|(r, reason)| {
            (
                r.clone(),
                *reason,
                diag(style, reason, r, delayed, &sending_ip, rng),
            )
        })
        .collect();
    let action = if delayed { "delayed" } else { "failed" };
    let orig = returned(spec);
    let orig_part_type = if spec.return_headers_only {
        "text/rfc822-headers"
    } else {
        "message/rfc822"
    };

    let mut m = Msg::new();
    m.h("Return-Path", "<>");
    // The hop into the account's own mailbox server.
    let acct_dom = domain_of(&orig_from).to_string();
    m.h(
        "Received",
        format!(
            "from {} ({} [{}])\n\tby mx.{} (Postfix) with ESMTPS id {}\n\tfor <{}>; {}",
            host,
            host,
            sending_ip,
            acct_dom,
            postfix_queue_id(rng),
            orig_from,
            rfc5322_date(spec.date + rng.range(1, 30), 540)
        ),
    );
    let dsn_part_present;
    let text: String;
    match style {
        MtaStyle::Postfix => {
            let qid = postfix_queue_id(rng);
            let boundary = format!("{}.{}/{}", qid, spec.date, host);
            m.h("Date", date_s.clone())
                .h(
                    "From",
                    format!("MAILER-DAEMON@{} (Mail Delivery System)", host),
                )
                .h(
                    "Subject",
                    if delayed {
                        "Delayed Mail (still being retried)"
                    } else {
                        "Undelivered Mail Returned to Sender"
                    },
                )
                .h("To", orig_from.clone())
                .h("Auto-Submitted", "auto-replied")
                .h("MIME-Version", "1.0");
            // Postfix before 2.3 sent multipart/mixed without a DSN part; that
            // is the "plain" variant here.
            m.h(
                "Content-Type",
                if spec.dsn {
                    format!(
                        "multipart/report; report-type=delivery-status;\n\tboundary=\"{}\"",
                        boundary
                    )
                } else {
                    format!("multipart/mixed; boundary=\"{}\"", boundary)
                },
            )
            .h("Content-Transfer-Encoding", "8bit")
            .h(
                "Message-Id",
                format!("<{}.{}@{}>", stamp(spec.date), qid, host),
            );
            let mut t = format!("This is the mail system at host {}.\n\n", host);
            if delayed {
                t.push_str("####################################################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################\n\nYour message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\nFor further assistance, please send mail to postmaster.\n\nIf you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n                   The mail system\n\n");
            } else {
                t.push_str("I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\nIf you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n                   The mail system\n\n");
            }
            for (r, _, d) in &diags {
                let para = match (&d.remote, d.code) {
                    (Some((mx, ip)), Some(_)) => {
                        format!(
                            "<{}>: host {}[{}] said: {} (in reply to {} command)",
                            r, mx, ip, d.line, d.stage
                        )
                    }
                    _ if delayed => format!("<{}>: delivery temporarily suspended: {}", r, d.line),
                    _ => format!("<{}>: {}", r, d.line),
                };
                t.push_str(&wrap(&para, 78, "    "));
                t.push_str("\n\n");
            }
            let mut b = String::from("This is a MIME-encapsulated message.\n\n");
            b.push_str(&format!("--{}\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n{}", boundary, t));
            if spec.dsn {
                b.push_str(&format!(
                    "--{}\nContent-Description: {}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; {}\nX-Postfix-Queue-ID: {}\nX-Postfix-Sender: rfc822; {}\nArrival-Date: {}\n",
                    boundary,
                    "Delivery report",
                    host,
                    postfix_queue_id(rng),
                    orig_from,
                    postfix_date(orig_date, offset)
                ));
                for (r, _, d) in &diags {
                    b.push_str(&format!("\nFinal-Recipient: rfc822; {}\nOriginal-Recipient: rfc822;{}\nAction: {}\nStatus: {}\n", r, r, action, d.status));
                    if let Some((mx, _)) = &d.remote {
                        b.push_str(&format!("Remote-MTA: dns; {}\n", mx));
                    }
                    let diag_line = if d.code.is_some() {
                        format!("Diagnostic-Code: smtp; {}", d.line)
                    } else if delayed {
                        format!(
                            "Diagnostic-Code: X-Postfix; delivery temporarily suspended: {}",
                            d.line
                        )
                    } else {
                        format!("Diagnostic-Code: X-Postfix; {}", d.line)
                    };
                    b.push_str(&wrap(&diag_line, 78, "    "));
                    b.push('\n');
                    if delayed {
                        b.push_str(&format!(
                            "Will-Retry-Until: {}\n",
                            postfix_date(orig_date + 5 * 86_400, offset)
                        ));
                    }
                }
                b.push('\n');
            }
            b.push_str(&format!(
                "--{}\nContent-Description: Undelivered Message{}\nContent-Type: {}\n{}\n",
                boundary,
                if spec.return_headers_only || delayed {
                    " Headers"
                } else {
                    ""
                },
                if delayed {
                    "text/rfc822-headers"
                } else {
                    orig_part_type
                },
                if spec.return_headers_only || delayed {
                    ""
                } else {
                    "Content-Transfer-Encoding: 8bit\n"
                }
            ));
            m.body.extend_from_slice(b.as_bytes());
            // Postfix returns only headers with a delay warning.
            let o = if delayed {
                header_block(&spec.original).to_vec()
            } else {
                orig.clone()
            };
            if spec.include_original {
                m.body.extend_from_slice(&o);
            } else {
                // Nothing returned: drop the empty part header again.
                let cut = m.body.len() - b.len()
                    + b.rfind(&format!("--{}\nContent-Description: Undelivered", boundary))
                        .unwrap_or(b.len());
                m.body.truncate(cut);
            }
            if !m.body.ends_with(b"\n") {
                m.body.push(b'\n');
            }
            m.body
                .extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
            dsn_part_present = spec.dsn;
            text = t;
        }
        MtaStyle::Exim => {
            let id = format!(
                "E1{}-{}-{}",
                rng.token(ALNUM, 5),
                rng.token(ALNUM, 6),
                rng.token(ALNUM, 2)
            );
            m.h(
                "From",
                format!("Mail Delivery System <Mailer-Daemon@{}>", host),
            )
            .h("To", orig_from.clone())
            .h(
                "References",
                header_value(&spec.original, "Message-ID")
                    .filter(|_| spec.include_original)
                    .unwrap_or_default(),
            )
            .h(
                "Subject",
                "Mail delivery failed: returning message to sender",
            )
            .h("Message-Id", format!("<{}@{}>", id, host))
            .h("Date", date_s.clone())
            .h(
                "X-Failed-Recipients",
                diags
                    .iter()
                    .map(|d| d.0.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .h("Auto-Submitted", "auto-replied");
            // Only keep References when there is an original to point at.
            m.headers
                .retain(|(n, v)| !(n == "References" && v.is_empty()));
            let mut t = String::from("This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n");
            for (r, _, d) in &diags {
                match (&d.remote, d.code) {
                    (Some((mx, ip)), Some(_)) => t.push_str(&format!(
                        "  {}\n    host {} [{}]\n    SMTP error from remote mail server after {}:\n    {}\n",
                        r,
                        mx,
                        ip,
                        // Exim's wording per stage (transports/smtp.c).
                        match d.stage {
                            "RCPT TO" => format!("RCPT TO:<{}>", r),
                            "MAIL FROM" => format!("MAIL FROM:<{}> SIZE={}", orig_from, spec.original.len()),
                            _ => "end of data".to_string(),
                        },
                        d.line
                    )),
                    _ => t.push_str(&format!("  {}\n    {}\n", r, d.line)),
                }
            }
            let copy_head = if spec.return_headers_only {
                "------ This is a copy of the message's headers. ------\n\n"
            } else {
                "------ This is a copy of the message, including all the headers. ------\n\n"
            };
            if spec.dsn {
                // Exim 4.8x+ with DSN: multipart/report around the same text.
                let boundary = format!(
                    "{}-eximdsn-{}",
                    spec.date,
                    rng.range(100_000_000, 999_999_999)
                );
                m.h("MIME-Version", "1.0");
                m.h(
                    "Content-Type",
                    format!(
                        "multipart/report; report-type=delivery-status; boundary={}",
                        boundary
                    ),
                );
                let mut b = format!("--{}\nContent-type: text/plain; charset=us-ascii\n\n{}\n--{}\nContent-type: message/delivery-status\n\nReporting-MTA: dns; {}\n", boundary, t, boundary, host);
                for (r, _, d) in &diags {
                    b.push_str(&format!(
                        "\nAction: failed\nFinal-Recipient: rfc822;{}\nStatus: {}\n",
                        r, d.status
                    ));
                    if let Some((mx, _)) = &d.remote {
                        b.push_str(&format!(
                            "Remote-MTA: dns; {}\nDiagnostic-Code: smtp; {}\n",
                            mx, d.line
                        ));
                    } else {
                        b.push_str(&format!("X-Exim-Diagnostic: X-str; {}\n", d.line));
                    }
                }
                if spec.include_original {
                    b.push_str(&format!(
                        "\n--{}\nContent-type: {}\n\n",
                        boundary, orig_part_type
                    ));
                    m.body.extend_from_slice(b.as_bytes());
                    m.body.extend_from_slice(&orig);
                } else {
                    m.body.extend_from_slice(b.as_bytes());
                }
                if !m.body.ends_with(b"\n") {
                    m.body.push(b'\n');
                }
                m.body
                    .extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
            } else {
                m.body.extend_from_slice(t.as_bytes());
                if spec.include_original {
                    m.body.extend_from_slice(b"\n");
                    m.body.extend_from_slice(copy_head.as_bytes());
                    m.body.extend_from_slice(&orig);
                }
            }
            dsn_part_present = spec.dsn;
            text = t;
        }
        MtaStyle::Sendmail | MtaStyle::Docomo if style == MtaStyle::Sendmail || !spec.dsn => {
            if style == MtaStyle::Docomo {
                let (b, t) =
                    docomo_text(spec, &diags, &orig, host, rng, &mut m, &date_s, &orig_from);
                m.body = b;
                dsn_part_present = false;
                text = t;
            } else {
                let qid = format!(
                    "{}{}",
                    rng.token(UPPER_DIGIT, 8),
                    rng.range(100_000, 999_999)
                );
                let boundary = format!("{}.{}/{}", qid, spec.date, host);
                m.h("Date", date_s.clone())
                    .h(
                        "From",
                        format!("Mail Delivery Subsystem <MAILER-DAEMON@{}>", host),
                    )
                    .h(
                        "Message-Id",
                        format!("<{}.{}@{}>", &stamp(spec.date)[..12], qid, host),
                    )
                    .h("To", format!("<{}>", orig_from))
                    .h("MIME-Version", "1.0")
                    .h(
                        "Subject",
                        if delayed {
                            "Warning: could not send message for past 4 hours"
                        } else {
                            "Returned mail: see transcript for details"
                        },
                    )
                    .h(
                        "Auto-Submitted",
                        if delayed {
                            "auto-generated (warning-timeout)"
                        } else {
                            "auto-generated (failure)"
                        },
                    );
                // The client IP line would leak the origin when nothing else is returned.
                // Sendmail names the host that handed the message to it: the
                // top Received hop of the original, not the first submitter.
                let client = relay_ip_of(&spec.original)
                    .filter(|_| spec.include_original)
                    .unwrap_or_else(|| host_ip(host));
                let mut t = format!(
                    "The original message was received at {}\nfrom [{}]\n\n",
                    postfix_date(orig_date, offset)
                        .replace(" (JST)", "")
                        .replace(" (CET)", ""),
                    client
                );
                if delayed {
                    t.push_str("   **********************************************\n   **      THIS IS A WARNING MESSAGE ONLY      **\n   **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n   **********************************************\n\n   ----- The following addresses had transient non-fatal errors -----\n");
                } else {
                    t.push_str(
                        "   ----- The following addresses had permanent fatal errors -----\n",
                    );
                }
                for (r, _, d) in &diags {
                    t.push_str(&format!(
                        "<{}>\n    (reason: {})\n",
                        r,
                        if d.code.is_some() {
                            d.line.clone()
                        } else {
                            format!("Deferred: {}", d.line)
                        }
                    ));
                }
                t.push_str("\n   ----- Transcript of session follows -----\n");
                for (r, reason, d) in &diags {
                    match (&d.remote, d.code) {
                        (Some((mx, _)), Some(_)) => t.push_str(&format!(
                            "... while talking to {}.:\n>>> {}\n<<< {}\n{} {} <{}>... {}\n",
                            mx,
                            if d.stage == "end of DATA" {
                                ".".to_string()
                            } else if d.stage == "MAIL FROM" {
                                format!("MAIL From:<{}>", orig_from)
                            } else {
                                format!("RCPT To:<{}>", r)
                            },
                            d.line,
                            d.code.unwrap_or(550),
                            d.status,
                            r,
                            match *reason {
                                "userunknown" => "User unknown",
                                "mailboxfull" => "Mailbox full",
                                "suspend" => "Mailbox disabled",
                                _ => "Service unavailable",
                            }
                        )),
                        _ => t.push_str(&format!("<{}>... {}\n", r, d.line)),
                    }
                }
                if spec.dsn {
                    m.h(
                        "Content-Type",
                        format!(
                            "multipart/report; report-type=delivery-status;\n\tboundary=\"{}\"",
                            boundary
                        ),
                    );
                    let mut b = format!("This is a MIME-encapsulated message\n\n--{}\n\n{}\n--{}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; {}\nReceived-From-MTA: DNS; [{}]\nArrival-Date: {}\n", boundary, t, boundary, host, client, rfc5322_date(orig_date, offset));
                    for (r, _, d) in &diags {
                        b.push_str(&format!(
                            "\nFinal-Recipient: RFC822; {}\nAction: {}\nStatus: {}\n",
                            r, action, d.status
                        ));
                        if let Some((mx, _)) = &d.remote {
                            b.push_str(&format!("Remote-MTA: DNS; {}\n", mx));
                        }
                        if d.code.is_some() {
                            b.push_str(&format!("Diagnostic-Code: SMTP; {}\n", d.line));
                        }
                        b.push_str(&format!("Last-Attempt-Date: {}\n", date_s));
                        if delayed {
                            b.push_str(&format!(
                                "Will-Retry-Until: {}\n",
                                rfc5322_date(orig_date + 5 * 86_400, offset)
                            ));
                        }
                    }
                    m.body.extend_from_slice(b.as_bytes());
                    if spec.include_original {
                        m.body.extend_from_slice(
                            format!("\n--{}\nContent-Type: {}\n\n", boundary, orig_part_type)
                                .as_bytes(),
                        );
                        m.body.extend_from_slice(&orig);
                    }
                    if !m.body.ends_with(b"\n") {
                        m.body.push(b'\n');
                    }
                    m.body
                        .extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
                } else {
                    m.body.extend_from_slice(t.as_bytes());
                    if spec.include_original {
                        m.body
                            .extend_from_slice(b"\n   ----- Original message follows -----\n\n");
                        m.body.extend_from_slice(&orig);
                    }
                }
                dsn_part_present = spec.dsn;
                text = t;
            }
        }
        MtaStyle::Qmail | MtaStyle::Yahoo => {
            let (from, subject, intro, below) = if style == MtaStyle::Qmail {
                (
                    format!("MAILER-DAEMON@{}", host),
                    "failure notice",
                    format!("Hi. This is the qmail-send program at {}.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n", host),
                    "--- Below this line is a copy of the message.\n\n",
                )
            } else {
                (
                    format!("MAILER-DAEMON@{}", host),
                    "Failure Notice",
                    "Sorry, we were unable to deliver your message to the following address.\n\n"
                        .to_string(),
                    "--- Below this line is a copy of the message.\n\n",
                )
            };
            m.h("Date", date_s.clone())
                .h("From", from)
                .h("To", orig_from.clone())
                .h("Subject", subject)
                .h(
                    "Message-ID",
                    match style {
                        MtaStyle::Qmail => format!(
                            "<{}.{}.qmail@{}>",
                            stamp(spec.date),
                            rng.range(1000, 65_000),
                            host
                        ),
                        _ => format!(
                            "<{}.{}.{}@{}>",
                            spec.date,
                            rng.range(100_000, 999_999),
                            rng.token(HEX, 6),
                            host
                        ),
                    },
                );
            let mut t = intro;
            for (r, _, d) in &diags {
                if style == MtaStyle::Yahoo {
                    t.push_str(&format!("<{}>:\n{}\n\n", r, d.line.replacen(' ', ": ", 1)));
                } else {
                    match (&d.remote, d.code) {
                        (Some((_, ip)), Some(_)) => t.push_str(&format!(
                            "<{}>:\n{} does not like recipient.\nRemote host said: {}\nGiving up on {}.\n\n",
                            r, ip, d.line, ip
                        )),
                        _ => t.push_str(&format!("<{}>:\n{}\n\n", r, d.line)),
                    }
                }
            }
            m.body.extend_from_slice(t.as_bytes());
            if spec.include_original {
                m.body.extend_from_slice(below.as_bytes());
                m.body.extend_from_slice(&orig);
            }
            dsn_part_present = false;
            text = t;
        }
        MtaStyle::Exchange | MtaStyle::Office365 => {
            let (b, t) = exchange(
                spec,
                &diags,
                &orig,
                host,
                delayed,
                rng,
                &mut m,
                &date_s,
                &orig_from,
                &orig_subject,
                orig_date,
                offset,
            );
            m.body = b;
            dsn_part_present = spec.dsn;
            text = t;
        }
        MtaStyle::Gmail | MtaStyle::AmazonSes | MtaStyle::Docomo => {
            let (b, t) = if style == MtaStyle::Gmail {
                gmail(
                    spec, &diags, &orig, delayed, rng, &mut m, &date_s, &orig_from, orig_date,
                )
            } else if style == MtaStyle::AmazonSes {
                ses(
                    spec, &diags, &orig, host, rng, &mut m, &date_s, &orig_from, orig_date,
                )
            } else {
                docomo_text(spec, &diags, &orig, host, rng, &mut m, &date_s, &orig_from)
            };
            m.body = b;
            dsn_part_present = spec.dsn && style != MtaStyle::Docomo;
            text = t;
        }
        MtaStyle::Sendmail => unreachable!("handled above"),
    }

    let kind = if dsn_part_present { "dsn" } else { "mta-text" };
    let planted = diags
        .iter()
        .map(|(r, reason, d)| Planted {
            kind,
            style: style.name(),
            recipient: r.to_lowercase(),
            status: if dsn_part_present || text.contains(&d.status) {
                Some(d.status.clone())
            } else {
                None
            },
            reply_code: d.code.filter(|c| {
                text.contains(&c.to_string()) || dsn_part_present && d.line.contains(&c.to_string())
            }),
            reason,
            original_message_id: if spec.include_original {
                message_id_of(&spec.original)
            } else {
                None
            },
            origin_ip: if spec.include_original {
                origin_ip_of(&spec.original)
            } else {
                None
            },
            bounce_date: date_s.clone(),
            in_campaign: true,
            action,
            bounce_unix: spec.date,
        })
        .collect();
    (m.to_bytes(), planted)
}

/// Exchange 2013+/Office 365 NDR: text + HTML alternative, DSN part, original.
#[allow(clippy::too_many_arguments)]
fn exchange(
    spec: &BounceSpec,
    diags: &[(String, &'static str, Diag)],
    orig: &[u8],
    host: &str,
    delayed: bool,
    rng: &mut Rng,
    m: &mut Msg,
    date_s: &str,
    orig_from: &str,
    orig_subject: &str,
    orig_date: i64,
    offset: i32,
) -> (Vec<u8>, String) {
    let o365 = spec.style == MtaStyle::Office365;
    let from = if o365 {
        format!(
            "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@{}>",
            domain_of(&diags[0].0)
        )
    } else {
        format!("postmaster@{}", domain_of(&diags[0].0))
    };
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        rng.token(HEX, 8),
        rng.token(HEX, 4),
        rng.token(HEX, 4),
        rng.token(HEX, 4),
        rng.token(HEX, 12)
    );
    let boundary = format!("_{:03}_{}_", rng.range(0, 999), rng.token(UPPER_DIGIT, 24));
    let alt = format!("_{:03}_{}_", rng.range(0, 999), rng.token(UPPER_DIGIT, 24));
    m.h("From", from)
        .h("To", format!("<{}>", orig_from))
        .h("Date", date_s.to_string())
        .h(
            "Content-Type",
            format!(
                "multipart/report; report-type=delivery-status;\n\tboundary=\"{}\"",
                boundary
            ),
        )
        .h("MIME-Version", "1.0")
        .h("Message-ID", format!("<{}@{}>", uuid, host))
        .h(
            "Subject",
            format!(
                "{}: {}",
                if delayed {
                    "Delivery delayed"
                } else {
                    "Undeliverable"
                },
                orig_subject
            ),
        )
        .h("Auto-Submitted", "auto-replied")
        .h("X-MS-Exchange-Message-Is-Ndr", "")
        .h("Content-Language", "en-US");
    if spec.include_original {
        if let Some(id) = header_value(&spec.original, "Message-ID") {
            m.h("In-Reply-To", id.clone()).h("References", id);
        }
    }
    let mut t = String::new();
    if delayed {
        t.push_str("Delivery is delayed to these recipients or groups:\n\n");
        for (r, _, _) in diags {
            t.push_str(&format!("{} ({})\n\n", r, r));
        }
        t.push_str("Subject: ");
        t.push_str(orig_subject);
        t.push_str("\n\nThis message hasn't been delivered yet. Delivery will continue to be attempted.\n\nThe server will keep trying to deliver this message for the next 1 days, 19 hours and 52 minutes. You'll be notified if the message can't be delivered by that time.\n\n");
    } else if o365 {
        for (r, reason, _) in diags {
            let local = r.split('@').next().unwrap_or("");
            // The headline and "Action Required" box differ by failure type.
            let (line, box_) = match *reason {
                "userunknown" => (format!("{} wasn't found at {}.", local, domain_of(r)), "Unknown To address"),
                "mailboxfull" => (format!("{}'s mailbox is full.", local), "Recipient's mailbox is full"),
                "blocked" | "spamdetected" => ("Your message wasn't delivered because the recipient's email provider rejected it.".to_string(), "Message rejected by recipient's email provider"),
                _ => (format!("{} couldn't be delivered to.", local), "Message couldn't be delivered"),
            };
            t.push_str(&format!("Your message to {} couldn't be delivered.\n\n{}\n\n{}    Office 365    {}\nAction Required                 Recipient\n\n{}\n\n", r, line, orig_from.split('@').next().unwrap_or(""), local, box_));
        }
        t.push_str("How to Fix It\nTry one or more of the following, then resend the message.\n\n");
    } else {
        t.push_str("Delivery has failed to these recipients or groups:\n\n");
        for (r, reason, _) in diags {
            let why = match *reason {
                "userunknown" => "The e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message. If the problem continues, please contact your helpdesk.",
                "mailboxfull" => "The recipient's mailbox is full and can't accept messages now. Please try resending this message later, or contact the recipient directly.",
                _ => "Your message wasn't delivered because the recipient's e-mail provider rejected it.",
            };
            t.push_str(&format!("{} ({})\n{}\n\n", r, r, why));
        }
    }
    t.push_str(&format!(
        "\n\n\nDiagnostic information for administrators:\n\nGenerating server: {}\n",
        host
    ));
    if let Some((mx, _)) = diags.iter().find_map(|d| d.2.remote.clone()) {
        t.push_str(&format!("Receiving server: {} ({})\n", mx, host_ip(&mx)));
    }
    for (r, _, d) in diags {
        t.push_str(&format!("\n{}\nRemote Server returned '{}'\n", r, d.line));
    }
    if spec.include_original {
        t.push_str(&format!(
            "\nOriginal message headers:\n\n{}",
            String::from_utf8_lossy(header_block(&spec.original))
        ));
    }
    let html = format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=us-ascii\"></head><body><p><b><font color=\"#000066\" size=\"3\" face=\"Arial\">Delivery has failed to these recipients or groups:</font></b></p>{}<p><font face=\"Tahoma\" size=\"2\">Diagnostic information for administrators:</font></p><p><font face=\"Tahoma\" size=\"2\">Generating server: {}</font></p>{}</body></html>\n",
        diags.iter().map(|d| format!("<p><a href=\"mailto:{0}\">{0}</a></p>", d.0)).collect::<String>(),
        host,
        diags.iter().map(|d| format!("<p><font face=\"Tahoma\" size=\"2\">{}<br>Remote Server returned '{}'</font></p>", d.0, d.2.line.replace('<', "&lt;").replace('>', "&gt;"))).collect::<String>()
    );
    let mut b = format!(
        "--{}\nContent-Type: multipart/alternative; differences=Content-Type;\n\tboundary=\"{}\"\n\n--{}\nContent-Type: text/plain; charset=\"us-ascii\"\nContent-Transfer-Encoding: quoted-printable\n\n{}\n--{}\nContent-Type: text/html; charset=\"us-ascii\"\nContent-Transfer-Encoding: quoted-printable\n\n{}\n--{}--\n\n",
        boundary, alt, alt, qp_soft(&t), alt, qp_soft(&html), alt
    );
    if spec.dsn {
        b.push_str(&format!(
            "--{}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;{}\nReceived-From-MTA: dns;{}\nArrival-Date: {}\n",
            boundary,
            host,
            host.replacen(|c: char| c.is_ascii_digit(), "3", 1),
            rfc5322_date(orig_date, offset)
        ));
        for (r, _, d) in diags {
            b.push_str(&format!(
                "\nFinal-Recipient: rfc822;{}\nAction: {}\nStatus: {}\nDiagnostic-Code: smtp;{}\n",
                r,
                if delayed { "delayed" } else { "failed" },
                d.status,
                d.line
            ));
            if let Some((mx, _)) = &d.remote {
                b.push_str(&format!("Remote-MTA: dns;{}\n", mx));
            }
            b.push_str(&format!("X-Display-Name: {}\n", r));
        }
        b.push('\n');
    }
    let mut body = b.into_bytes();
    if spec.include_original {
        let ptype = if spec.return_headers_only || delayed {
            "text/rfc822-headers"
        } else {
            "message/rfc822"
        };
        body.extend_from_slice(format!("--{}\nContent-Type: {}\n\n", boundary, ptype).as_bytes());
        if delayed {
            body.extend_from_slice(header_block(&spec.original));
        } else {
            body.extend_from_slice(orig);
        }
        if !body.ends_with(b"\n") {
            body.push(b'\n');
        }
        body.push(b'\n');
    }
    body.extend_from_slice(format!("--{}--\n", boundary).as_bytes());
    // The text part is quoted-printable; for planting, what counts is the text.
    (body, t)
}

/// Minimal quoted-printable: escapes '=' and soft-wraps lines over 76 columns.
fn qp_soft(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 70 * 3);
    for line in s.split('\n') {
        let esc = line.replace('=', "=3D");
        let mut col = 0;
        let mut cur = String::new();
        for ch in esc.chars() {
            if col >= 73 && !cur.ends_with('=') && !cur.ends_with("=3") {
                cur.push_str("=\n");
                col = 0;
            }
            cur.push(ch);
            col += 1;
        }
        out.push_str(&cur);
        out.push('\n');
    }
    out
}

/// Gmail "Delivery Status Notification (Failure)".
#[allow(clippy::too_many_arguments)]
fn gmail(
    spec: &BounceSpec,
    diags: &[(String, &'static str, Diag)],
    orig: &[u8],
    delayed: bool,
    rng: &mut Rng,
    m: &mut Msg,
    date_s: &str,
    orig_from: &str,
    orig_date: i64,
) -> (Vec<u8>, String) {
    let boundary = format!("000000000000{}", rng.token(HEX, 16));
    let alt = format!("000000000000{}", rng.token(HEX, 16));
    let id = format!(
        "{}.{}.{}.{}GMR@mx.google.com",
        rng.token(HEX, 8),
        rng.token(HEX, 8),
        rng.token(HEX, 6),
        rng.token(HEX, 4)
    );
    m.h(
        "Received",
        format!(
            "by 2002:a05:6a10:{}:b0:{}:{} with SMTP id {};\n\t{}",
            rng.token(HEX, 4),
            rng.token(HEX, 3),
            rng.token(HEX, 4),
            rng.token(LOWER_DIGIT, 10),
            date_s
        ),
    )
    .h(
        "From",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    )
    .h("To", orig_from.to_string())
    .h("Auto-Submitted", "auto-replied")
    .h("Message-ID", format!("<{}>", id))
    .h("Date", date_s.to_string())
    .h(
        "Subject",
        if delayed {
            "Delivery Status Notification (Delay)"
        } else {
            "Delivery Status Notification (Failure)"
        },
    );
    if spec.include_original {
        if let Some(oid) = header_value(&spec.original, "Message-ID") {
            m.h("References", oid.clone()).h("In-Reply-To", oid);
        }
    }
    if !delayed {
        m.h(
            "X-Failed-Recipients",
            diags
                .iter()
                .map(|d| d.0.clone())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    m.h(
        "Content-Type",
        format!(
            "multipart/report; boundary=\"{}\"; report-type=delivery-status",
            boundary
        ),
    );
    let mut t = String::new();
    for (r, reason, d) in diags {
        let (title, expl) = match (*reason, delayed) {
            (_, true) => ("** Delivery incomplete **", format!("There was a temporary problem delivering your message to {}. Gmail will retry for 46 more hours. You'll be notified if the delivery fails permanently.", r)),
            ("userunknown", _) => ("** Address not found **", format!("Your message wasn't delivered to {} because the address couldn't be found, or is unable to receive mail.", r)),
            ("hostunknown", _) => ("** Address not found **", format!("Your message wasn't delivered to {} because the domain {} couldn't be found. Check for typos or unnecessary spaces and try again.", r, domain_of(r))),
            ("blocked" | "spamdetected", _) => ("** Message blocked **", format!("Your message to {} has been blocked. See technical details below for more information.", r)),
            _ => ("** Message not delivered **", format!("There was a problem delivering your message to {}. See the technical details below.", r)),
        };
        t.push_str(&format!("\n{}\n\n{}\n\n", title, wrap(&expl, 76, "")));
        if d.code.is_some() {
            t.push_str(&format!(
                "The response from the remote server was:\n{}\n",
                d.line
            ));
        } else {
            t.push_str(&format!("The response was:\n\n{}\n", d.line));
        }
    }
    let html = format!(
        "<html><head></head><body><h2>{}</h2></body></html>\n",
        t.lines().find(|l| l.starts_with("**")).unwrap_or("")
    );
    let mut b = format!(
        "--{}\nContent-Type: multipart/alternative; boundary=\"{}\"\n\n--{}\nContent-Type: text/plain; charset=\"UTF-8\"\n{}\n--{}\nContent-Type: text/html; charset=\"UTF-8\"\n\n{}\n--{}--\n",
        boundary, alt, alt, t, alt, html, alt
    );
    if spec.dsn {
        b.push_str(&format!(
            "--{}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; googlemail.com\nReceived-From-MTA: dns; {}\nArrival-Date: {}\n",
            boundary,
            orig_from,
            rfc5322_date(orig_date, -480),
        ));
        if let Some(id) =
            header_value(&spec.original, "Message-ID").filter(|_| spec.include_original)
        {
            b.push_str(&format!("X-Original-Message-ID: {}\n", id));
        }
        for (r, _, d) in diags {
            b.push_str(&format!(
                "\nFinal-Recipient: rfc822; {}\nAction: {}\nStatus: {}\n",
                r,
                if delayed { "delayed" } else { "failed" },
                d.status
            ));
            if let Some((mx, _)) = &d.remote {
                b.push_str(&format!(
                    "Remote-MTA: dns; {}. ({}, the server for the domain {}.)\n",
                    mx,
                    host_ip(mx),
                    domain_of(r)
                ));
            }
            // Gmail writes multi-line replies with "550-5.1.1" continuation style.
            b.push_str(&format!(
                "Diagnostic-Code: smtp; {}\nLast-Attempt-Date: {}\n",
                d.line, date_s
            ));
            if delayed {
                b.push_str(&format!(
                    "Will-Retry-Until: {}\n",
                    rfc5322_date(orig_date + 2 * 86_400, -480)
                ));
            }
        }
    }
    let mut body = b.into_bytes();
    if spec.include_original {
        let ptype = if spec.return_headers_only {
            "text/rfc822-headers"
        } else {
            "message/rfc822"
        };
        body.extend_from_slice(format!("\n--{}\nContent-Type: {}\n\n", boundary, ptype).as_bytes());
        body.extend_from_slice(orig);
        if !body.ends_with(b"\n") {
            body.push(b'\n');
        }
    }
    body.extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
    (body, t)
}

/// Amazon SES bounce DSN.
#[allow(clippy::too_many_arguments)]
fn ses(
    spec: &BounceSpec,
    diags: &[(String, &'static str, Diag)],
    orig: &[u8],
    host: &str,
    rng: &mut Rng,
    m: &mut Msg,
    date_s: &str,
    orig_from: &str,
    orig_date: i64,
) -> (Vec<u8>, String) {
    let boundary = format!(
        "===============_{}==",
        rng.range(1_000_000_000, 9_999_999_999)
    );
    let id = format!(
        "0100019{}-{}-{}-{}-{}-000000",
        rng.token(HEX, 9),
        rng.token(HEX, 8),
        rng.token(HEX, 4),
        rng.token(HEX, 4),
        rng.token(HEX, 12)
    );
    m.h("From", "MAILER-DAEMON@amazonses.com")
        .h("To", orig_from.to_string())
        .h("Subject", "Delivery Status Notification (Failure)")
        .h("MIME-Version", "1.0")
        .h(
            "Content-Type",
            format!(
                "multipart/report; report-type=delivery-status;\n\tboundary=\"{}\"",
                boundary
            ),
        )
        .h("Message-ID", format!("<{}@email.amazonses.com>", id))
        .h("Date", date_s.to_string())
        .h("X-SES-Outgoing", {
            let st = stamp(spec.date);
            format!("{}.{}.{}-{}", &st[..4], &st[4..6], &st[6..8], host_ip(host))
        });
    let mut t = String::from(
        "An error occurred while trying to deliver the mail to the following recipients:\n",
    );
    for (r, _, _) in diags {
        t.push_str(r);
        t.push('\n');
    }
    let mut b = format!(
        "--{}\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\n{}\n",
        boundary, t
    );
    if spec.dsn {
        b.push_str(&format!(
            "--{}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; {}\n",
            boundary, host
        ));
        for (r, _, d) in diags {
            b.push_str(&format!("\nAction: failed\nFinal-Recipient: rfc822; {}\nDiagnostic-Code: smtp; {}\nStatus: {}\n", r, d.line, d.status));
            if let Some((mx, _)) = &d.remote {
                b.push_str(&format!("Remote-MTA: dns; {}\n", mx));
            }
        }
        b.push_str(&format!("Arrival-Date: {}\n", rfc5322_date(orig_date, 0)));
        b.push('\n');
    } else {
        // The text-only variant quotes the diagnostic in the notice itself.
        for (r, _, d) in diags {
            b.push_str(&format!("{}: {}\n", r, d.line));
            t.push_str(&format!("{}: {}\n", r, d.line));
        }
        b.push('\n');
    }
    let mut body = b.into_bytes();
    if spec.include_original {
        let ptype = if spec.return_headers_only {
            "text/rfc822-headers"
        } else {
            "message/rfc822"
        };
        body.extend_from_slice(format!("--{}\nContent-Type: {}\n\n", boundary, ptype).as_bytes());
        body.extend_from_slice(orig);
        if !body.ends_with(b"\n") {
            body.push(b'\n');
        }
        body.push(b'\n');
    }
    body.extend_from_slice(format!("--{}--\n", boundary).as_bytes());
    (body, t)
}

/// Japanese carrier notice: ISO-2022-JP text, headers of the original only.
#[allow(clippy::too_many_arguments)]
fn docomo_text(
    spec: &BounceSpec,
    diags: &[(String, &'static str, Diag)],
    _orig: &[u8],
    host: &str,
    rng: &mut Rng,
    m: &mut Msg,
    date_s: &str,
    orig_from: &str,
) -> (Vec<u8>, String) {
    m.h("Date", date_s.to_string())
        .h(
            "From",
            format!("Mail Delivery Subsystem <MAILER-DAEMON@{}>", host),
        )
        .h("To", orig_from.to_string())
        .h(
            "Subject",
            format!(
                "{} (Mail Delivery Failure)",
                encode_word_iso2022jp("メール送信エラー")
            ),
        )
        .h(
            "Message-ID",
            format!("<{}.{}@{}>", stamp(spec.date), rng.token(HEX, 10), host),
        )
        .h("MIME-Version", "1.0")
        .h("Content-Type", "text/plain; charset=ISO-2022-JP")
        .h("Content-Transfer-Encoding", "7bit");
    let mut t = String::from("お客様が送信されたメールは、以下の宛先に配信できませんでした。\nThe following recipient(s) could not receive your message.\n\n");
    for (r, reason, d) in diags {
        let why = match *reason {
            "userunknown" => "宛先のメールアドレスが存在しません",
            "mailboxfull" => "宛先のメールボックスが一杯です",
            "blocked" | "spamdetected" => "宛先の受信設定により受信が拒否されました",
            "suspend" => "宛先のメールアドレスは現在利用停止中です",
            _ => "宛先に配信できませんでした",
        };
        t.push_str(&format!(
            "宛先 (Recipient): <{}>\n理由 (Reason): {}\n詳細 (Detail): {}\n\n",
            r, why, d.line
        ));
    }
    let mut body = iso2022jp(&t);
    if spec.include_original {
        body.extend_from_slice(&iso2022jp(
            "------ 送信されたメールのヘッダ (Original message headers) ------\n\n",
        ));
        body.extend_from_slice(header_block(&spec.original));
    }
    (body, t)
}

/// An RFC 3834 auto-reply to a message the account (apparently) sent.
pub fn render_autoreply(
    kind: AutoReplyKind,
    from_replier: &str,
    to: &str,
    original_subject: &str,
    date: i64,
    rng: &mut Rng,
) -> (Vec<u8>, Planted) {
    let dom = domain_of(from_replier);
    let mut m = Msg::new();
    let offset = if dom.ends_with(".jp") { 540 } else { -300 };
    let date_s = rfc5322_date(date, offset);
    m.h("Return-Path", format!("<{}>", from_replier)).h(
        "Received",
        format!(
            "from mail.{} (mail.{} [{}])\n\tby mx.{} (Postfix) with ESMTPS id {}\n\tfor <{}>; {}",
            dom,
            dom,
            host_ip(&format!("mail.{}", dom)),
            domain_of(to),
            postfix_queue_id(rng),
            to,
            rfc5322_date(date + 3, 540)
        ),
    );
    let (style, reason, subject, body, ctype): (&'static str, &'static str, String, Vec<u8>, &str) = match kind {
        AutoReplyKind::VacationEn => (
            "vacation-en",
            "vacation",
            format!("Automatic reply: {}", original_subject),
            format!("Thank you for your email. I am out of the office with limited access to email\nand will return on Monday. For urgent matters please contact\nsupport@{}.\n\nBest regards,\n{}\n", dom, from_replier.split('@').next().unwrap_or("")).into_bytes(),
            "text/plain; charset=us-ascii",
        ),
        AutoReplyKind::FuzaiJa => (
            "fuzai-ja",
            "vacation",
            encode_word_iso2022jp("【自動返信】不在のお知らせ"),
            iso2022jp("メールありがとうございます。\n\n誠に勝手ながら、ただいま不在にしております。\n戻り次第、順次ご返信いたしますので、今しばらくお待ちください。\n急ぎのご用件は、代表番号までお電話ください。\n\n※このメールは自動送信されています。\n"),
            "text/plain; charset=ISO-2022-JP",
        ),
        AutoReplyKind::AddressChangedJa => (
            "address-changed-ja",
            "hasmoved",
            encode_word_iso2022jp("アドレスが変わりました"),
            iso2022jp(&format!("このメールアドレスは現在使用しておりません。\nメールアドレスが変わりました。お手数ですが、新しいアドレス\n  {}.new@{}\nへ送り直してください。\n\n※このメールは自動送信されています。\n", from_replier.split('@').next().unwrap_or(""), dom)),
            "text/plain; charset=ISO-2022-JP",
        ),
    };
    m.h("From", from_replier.to_string())
        .h("To", to.to_string())
        .h("Subject", subject)
        .h("Date", date_s.clone())
        .h(
            "Message-ID",
            format!("<{}.{}@{}>", stamp(date), rng.token(ALNUM, 12), dom),
        )
        .h("Auto-Submitted", "auto-replied")
        .h("X-Auto-Response-Suppress", "All")
        .h("Precedence", "bulk")
        .h("MIME-Version", "1.0")
        .h("Content-Type", ctype)
        .h("Content-Transfer-Encoding", "7bit");
    m.body = body;
    let p = Planted {
        kind: "autoreply",
        style,
        recipient: from_replier.to_lowercase(),
        status: None,
        reply_code: None,
        reason,
        original_message_id: None,
        origin_ip: None,
        bounce_date: date_s,
        in_campaign: true,
        action: "autoreply",
        bounce_unix: date,
    };
    (m.to_bytes(), p)
}

/// An RFC 5965 abuse report (feedback loop) about `original`, sent by the
/// feedback desk of `reporter_domain` to `to` (the account's postmaster or the
/// account itself).
pub fn render_arf(
    reporter_domain: &str,
    original: &[u8],
    to: &str,
    date: i64,
    rng: &mut Rng,
) -> (Vec<u8>, Planted) {
    let boundary = format!(
        "----=_Part_{}_{}.{}",
        rng.range(100_000, 999_999),
        rng.range(100_000_000, 999_999_999),
        date
    );
    let date_s = rfc5322_date(date, 0);
    let rcpt = header_value(original, "To")
        .map(|v| bare_address(&v))
        .unwrap_or_default();
    let from = header_value(original, "From")
        .map(|v| bare_address(&v))
        .unwrap_or_default();
    let ip = origin_ip_of(original);
    let mut m = Msg::new();
    m.h("Return-Path", format!("<feedback@{}>", reporter_domain))
        .h(
            "From",
            format!("Feedback Loop <feedback@{}>", reporter_domain),
        )
        .h("To", to.to_string())
        .h(
            "Subject",
            format!(
                "FW: {}",
                header_value(original, "Subject").unwrap_or_default()
            ),
        )
        .h("Date", date_s.clone())
        .h(
            "Message-ID",
            format!("<{}.{}@{}>", date, rng.token(ALNUM, 16), reporter_domain),
        )
        .h("MIME-Version", "1.0")
        .h(
            "Content-Type",
            format!(
                "multipart/report; report-type=feedback-report;\n\tboundary=\"{}\"",
                boundary
            ),
        );
    let mut b = format!(
        "--{}\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\nThis is an email abuse report for an email message received from IP {} on {}.\nFor more information about this format please see http://www.mipassoc.org/arf/.\n\n--{}\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: {}-FBL/1.0\nVersion: 1\nOriginal-Mail-From: <{}>\nOriginal-Rcpt-To: <{}>\nArrival-Date: {}\nReported-Domain: {}\n",
        boundary,
        ip.clone().unwrap_or_else(|| "unknown".into()),
        date_s,
        boundary,
        reporter_domain,
        from,
        rcpt,
        header_value(original, "Date").unwrap_or_default(),
        domain_of(&from)
    );
    if let Some(ip) = &ip {
        b.push_str(&format!("Source-IP: {}\n", ip));
    }
    b.push_str(&format!(
        "\n--{}\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n",
        boundary
    ));
    m.body.extend_from_slice(b.as_bytes());
    m.body.extend_from_slice(original);
    if !m.body.ends_with(b"\n") {
        m.body.push(b'\n');
    }
    m.body
        .extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
    let p = Planted {
        kind: "feedback",
        style: "arf",
        recipient: rcpt.to_lowercase(),
        status: None,
        reply_code: None,
        reason: "feedback",
        original_message_id: message_id_of(original),
        origin_ip: ip,
        bounce_date: date_s,
        in_campaign: true,
        action: "feedback",
        bounce_unix: date,
    };
    (m.to_bytes(), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn original() -> Vec<u8> {
        b"Received: from smtp.example.co.jp (smtp.example.co.jp [192.0.2.25])\n\tby mo21.example.co.jp (Postfix) with ESMTP id 4XAbc; Tue, 03 Nov 2026 09:14:02 +0900\nReceived: from [198.51.100.23] (unknown [198.51.100.23])\n\t(Authenticated sender: tanaka@example.co.jp)\n\tby smtp.example.co.jp (Postfix) with ESMTPSA id 4XYz\n\tfor <victim@example.net>; Tue, 03 Nov 2026 09:14:01 +0900\nFrom: tanaka@example.co.jp\nTo: victim@example.net\nSubject: Invoice 123\nDate: Tue, 03 Nov 2026 09:14:00 +0900\nMessage-ID: <20261103001400.4XYz@smtp.example.co.jp>\n\nhello\nFrom here on\n".to_vec()
    }

    fn spec(style: MtaStyle, dsn: bool, include: bool) -> BounceSpec {
        BounceSpec {
            style,
            dsn,
            recipients: vec![("Victim@Example.net".into(), "userunknown")],
            original: original(),
            return_headers_only: false,
            include_original: include,
            date: 1_793_668_500,
            reporting_mta: "mo21.example.co.jp".into(),
            delayed: false,
        }
    }

    #[test]
    fn every_style_renders_and_plants() {
        for style in MtaStyle::ALL {
            for dsn in [true, false] {
                for include in [true, false] {
                    let (b, p) = render_bounce(&spec(style, dsn, include), &mut Rng::new(1));
                    let s = String::from_utf8_lossy(&b);
                    assert!(
                        header_value(&b, "Message-ID").is_some(),
                        "{:?}\n{}",
                        style,
                        s
                    );
                    assert!(header_value(&b, "Date").is_some(), "{:?}", style);
                    assert_eq!(p.len(), 1);
                    assert_eq!(p[0].recipient, "victim@example.net");
                    assert_eq!(p[0].original_message_id.is_some(), include, "{:?}", style);
                    if include {
                        assert_eq!(
                            p[0].origin_ip.as_deref(),
                            Some("198.51.100.23"),
                            "{:?}",
                            style
                        );
                        assert!(
                            s.contains("20261103001400.4XYz@smtp.example.co.jp"),
                            "{:?}",
                            style
                        );
                    } else {
                        assert!(
                            !s.contains("20261103001400.4XYz@smtp.example.co.jp"),
                            "{:?}\n{}",
                            style,
                            s
                        );
                    }
                    assert!(b.windows(2).any(|w| w == b"\n\n"));
                }
            }
        }
    }

    #[test]
    fn postfix_dsn_has_fields() {
        let (b, p) = render_bounce(&spec(MtaStyle::Postfix, true, true), &mut Rng::new(2));
        let s = String::from_utf8(b).unwrap();
        assert!(s.contains("Subject: Undelivered Mail Returned to Sender"));
        assert!(s.contains("This is the mail system at host mo21.example.co.jp."));
        assert!(s.contains("Final-Recipient: rfc822; Victim@Example.net"));
        assert!(s.contains("Action: failed"));
        assert!(s.contains("Content-Type: message/rfc822"));
        assert_eq!(p[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(p[0].reply_code, Some(550));
        assert_eq!(p[0].kind, "dsn");
    }

    #[test]
    fn delayed_postfix_warning() {
        let mut sp = spec(MtaStyle::Postfix, true, true);
        sp.delayed = true;
        sp.recipients = vec![("slow@example.org".into(), "expired")];
        let (b, p) = render_bounce(&sp, &mut Rng::new(3));
        let s = String::from_utf8(b).unwrap();
        assert!(s.contains("Action: delayed"));
        assert!(s.contains("Status: 4.4.7"));
        assert_eq!(p[0].action, "delayed");
    }

    #[test]
    fn autoreply_and_arf() {
        let (b, p) = render_autoreply(
            AutoReplyKind::FuzaiJa,
            "Ono@example.jp",
            "tanaka@example.co.jp",
            "Hi",
            1_793_668_500,
            &mut Rng::new(4),
        );
        assert!(String::from_utf8_lossy(&b).contains("Subject: =?ISO-2022-JP?B?"));
        assert_eq!(p.recipient, "ono@example.jp");
        let (b, p) = render_arf(
            "fbl.example.com",
            &original(),
            "abuse@example.co.jp",
            1_793_668_500,
            &mut Rng::new(5),
        );
        assert!(String::from_utf8_lossy(&b).contains("Feedback-Type: abuse"));
        assert_eq!(p.origin_ip.as_deref(), Some("198.51.100.23"));
    }
}
