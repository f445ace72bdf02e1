//! Auto-replies: RFC 3834 `Auto-Submitted: auto-replied`, vacation and
//! out-of-office notices, and "my address has changed" notices
//! (「アドレスが変わりました」). The row's recipient is the replying address;
//! the original subject is recovered from the reply's subject or from a
//! quoted `Subject:`/`件名:` line, the original Message-ID from
//! `In-Reply-To`/`References`. An address-changed notice is `hasmoved`.

use super::dsn::clean_address;
use super::reason::Reason;
use super::types::{Action, Bounce, Failure, Kind};
use super::{Decoder, Input};
use crate::triage::AUTOREPLY_SUBJECT_SET;

/// Body phrases of auto-replies (lowercase).
const BODY_PHRASES: &[&str] = &[
    "out of the office",
    "out of office",
    "on vacation",
    "away from the office",
    "currently away",
    "limited access to email",
    "will be back",
    "i am away",
    "i'm away",
    "annual leave",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "this is an automated reply",
    "不在",
    "自動応答",
    "自動返信",
    "アドレスが変わりました",
    "アドレス変更",
    "メールアドレスを変更",
    "新しいアドレス",
    "休暇",
    "nicht im büro",       // German
    "bin abwesend",        // German
    "absent du bureau",    // French
    "absente du bureau",   // French
    "fuera de la oficina", // Spanish
    "fuori ufficio",       // Italian
    "fora do escritório",  // Portuguese
    "niet op kantoor",     // Dutch
    "不在办公室",          // Chinese
    "부재중",              // Korean
];

/// Phrases of "my address has changed" notices (lowercase). Japanese
/// carriers and companies send these when an address is retired.
const MOVED_PHRASES: &[&str] = &[
    "address has changed",
    "has a new address",
    "new e-mail address",
    "new email address",
    "no longer in use",
    "アドレスが変わりました",
    "アドレス変更",
    "メールアドレスを変更",
    "使用しておりません",
    "新しいアドレス",
];

/// Labels of a quoted original subject in an auto-reply body.
const SUBJECT_LABELS: &[&str] = &[
    "> subject:",
    "subject:",
    "件名:",
    "件名：",
    "＞件名:",
    "> 件名:",
];

/// The auto-reply decoder.
pub struct AutoReply;

impl Decoder for AutoReply {
    fn name(&self) -> &'static str {
        "autoreply"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        input.hints.autoreply
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        // A daemon's message is a bounce, not an auto-reply, even when it is
        // marked auto-replied (Exim and Exchange mark their bounces so).
        if input.hints.daemon_sender || input.hints.report || input.hints.ndr {
            return None;
        }
        let subject_says = AUTOREPLY_SUBJECT_SET.any_in(input.subject.as_bytes());
        let auto_submitted = input
            .header("Auto-Submitted")
            .is_some_and(|v| v.to_ascii_lowercase().contains("auto-replied"));
        let x_autoreply =
            input.header("X-Autoreply").is_some() || input.header("X-Autorespond").is_some();
        let lower = input.text().to_lowercase();
        let body_says = BODY_PHRASES.iter().any(|p| lower.contains(p));
        if !(subject_says
            || ((auto_submitted || x_autoreply) && (body_says || !input.hints.forward_or_reply)))
        {
            return None;
        }
        // The From is who replied; a Reply-To may point elsewhere.
        let replier = clean_address(&input.from)?;
        let first_line = input
            .text()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        let moved = MOVED_PHRASES
            .iter()
            .any(|p| lower.contains(p) || input.subject.contains(p));
        let mut b = Bounce::new(Kind::Autoreply, self.name());
        b.failures.push(Failure {
            recipient: replier,
            action: Some(Action::Autoreplied),
            diagnostic: (!first_line.is_empty()).then_some(first_line),
            reason: moved.then_some(Reason::HasMoved),
            ..Default::default()
        });
        // The original: its subject after the auto-reply prefix or quoted in
        // the body, its Message-ID in In-Reply-To (RFC 3834 §3.1.4 asks
        // auto-responders to set it).
        let subject = original_subject(&input.subject).or_else(|| quoted_subject(input.text()));
        let message_id = input
            .header("In-Reply-To")
            .or_else(|| input.header("References"))
            .and_then(|v| first_message_id(&v));
        if subject.is_some() || message_id.is_some() {
            b.original = Some(crate::original::Original {
                subject,
                message_id,
                headers_only: true,
                ..Default::default()
            });
        }
        Some(b)
    }
}

/// A `Subject:` or `件名:` line quoted in the body of an auto-reply.
fn quoted_subject(text: &str) -> Option<String> {
    text.lines()
        .take(80)
        .find_map(|l| {
            let t = l.trim_start();
            let lower = t.to_lowercase();
            SUBJECT_LABELS.iter().find_map(|label| {
                lower.starts_with(label).then(|| {
                    // The label is ASCII or full-width, and lowercasing kept its length.
                    let value = t.get(label.len()..).unwrap_or("").trim();
                    // A reply that quotes the raw header quotes its
                    // encoded words (`=?UTF-8?B?...?=`) too.
                    if value.contains("=?") {
                        crate::parse::decode_header_bytes(value.as_bytes())
                            .trim()
                            .to_string()
                    } else {
                        value.to_string()
                    }
                })
            })
        })
        .filter(|s| !s.is_empty())
}

/// The first `<id>` of an In-Reply-To or References value, without brackets.
fn first_message_id(v: &str) -> Option<String> {
    let a = v.find('<')?;
    let b = a + v[a..].find('>')?;
    let id = v[a + 1..b].trim();
    (id.contains('@')).then(|| id.to_string())
}

/// `Automatic reply: Re: Invoice` → `Invoice`; `Out of Office: x` → `x`;
/// `【不在】見積もり` → `見積もり`.
pub fn original_subject(subject: &str) -> Option<String> {
    const PREFIXES: &[&str] = &[
        "automatic reply:",
        "automated reply:",
        "autoreply:",
        "auto-reply:",
        "auto reply:",
        "auto:",
        "out of office:",
        "out of office reply:",
        "out of office autoreply:", // Exchange 2003
        "abwesenheitsnotiz:",
        "automatische antwort:",
        "réponse automatique :",
        "réponse automatique:",
        "respuesta automática:",
        "risposta automatica:",
        "automatisch antwoord:",
        "resposta automática:",
        "automatisk svar:",
        "自動応答:",
        "自動応答：",
        "自動返信:",
        "自動返信：",
        "自动回复:",
        "自动回复：",
        "不在:",
        "不在：",
        "【不在】",
        "[不在]",
        "【自動応答】",
        "[自動応答]",
        "【自動返信】",
        "re:",
        "re：",
        "aw:",   // German "Re:"
        "sv:",   // Nordic "Re:"
        "antw:", // Dutch "Re:"
    ];
    let mut s = subject.trim();
    let mut changed = false;
    // A prefix is compared with the subject's own first bytes, lowercased:
    // lowercasing the whole subject may change its length (`İ`), and an
    // offset into the copy would then not be one into the subject.
    let mut bracket = false;
    while let Some(p) = PREFIXES.iter().find(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.to_lowercase() == **p)
    }) {
        s = s[p.len()..].trim();
        changed = true;
        bracket |= p.starts_with(['【', '[']);
    }
    // A bracketed tag is often followed by the notice's own title, not by
    // the original subject: 「【自動返信】不在のお知らせ」.
    if bracket && AUTOREPLY_SUBJECT_SET.any_in(s.as_bytes()) {
        return None;
    }
    (changed && !s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_subjects_and_ids() {
        assert_eq!(
            quoted_subject("不在です。\n\n> 件名: ご請求書\n").as_deref(),
            Some("ご請求書")
        );
        assert_eq!(
            quoted_subject("Hi\nSubject: Invoice 42\n").as_deref(),
            Some("Invoice 42")
        );
        assert_eq!(quoted_subject("nothing quoted"), None);
        // Quoted raw header: its encoded words are decoded.
        assert_eq!(
            quoted_subject("Away.\n> Subject: =?UTF-8?B?6KaL56mN44KK?= no.7\n").as_deref(),
            Some("見積り no.7")
        );
        assert_eq!(
            first_message_id(" <a1@example.jp> <b@x>").as_deref(),
            Some("a1@example.jp")
        );
        assert_eq!(first_message_id("none"), None);
    }

    #[test]
    fn subjects() {
        assert_eq!(
            original_subject("Automatic reply: Re: Invoice 42").as_deref(),
            Some("Invoice 42")
        );
        assert_eq!(
            original_subject("自動応答: ご請求書").as_deref(),
            Some("ご請求書")
        );
        assert_eq!(original_subject("Out of office"), None);
        assert_eq!(
            original_subject("Out of Office AutoReply: Quarterly report").as_deref(),
            Some("Quarterly report")
        );
        assert_eq!(
            original_subject("【不在】見積もりの件").as_deref(),
            Some("見積もりの件")
        );
        assert_eq!(original_subject("【自動返信】不在のお知らせ"), None);
        assert_eq!(
            original_subject("Automatische Antwort: AW: Angebot").as_deref(),
            Some("Angebot")
        );
        // Lowercasing that changes a character's length neither panics nor
        // strips anything.
        assert_eq!(original_subject("İİİ: x"), None);
        assert_eq!(
            original_subject("AUTO: İstanbul").as_deref(),
            Some("İstanbul")
        );
    }
}
