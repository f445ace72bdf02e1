//! MIME encoding helpers and ordinary business mail for the generator.
//!
//! Takes an [`Rng`] and produces message bytes (LF line ends). Japanese mail is
//! written the two ways Japanese mailboxes really contain it: ISO-2022-JP
//! (7-bit, RFC 1468, still the default of many Japanese clients) and UTF-8 with
//! base64 bodies; subjects use RFC 2047 encoded-words in either charset.

use super::{rfc5322_date, stamp, Msg, Rng, ALNUM, HEX, LOWER_DIGIT};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without line breaks.
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Base64 folded at 76 characters per line (RFC 2045 section 6.8), LF ends.
pub(crate) fn base64_lines(data: &[u8]) -> String {
    let flat = base64(data);
    let mut out = String::with_capacity(flat.len() + flat.len() / 76 + 2);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Text encoded as ISO-2022-JP (each call ends back in ASCII, as RFC 1468 requires).
pub(crate) fn iso2022jp(s: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::ISO_2022_JP.encode(s);
    bytes.into_owned()
}

/// RFC 2047 B-encoded ISO-2022-JP words, folded with LF+space. Each word holds
/// a few characters so it stays under 75 octets and ends in ASCII mode, which
/// is what Japanese MUAs (and RFC 2047 section 5) require.
pub fn encode_word_iso2022jp(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(12)
        .map(|c| {
            format!(
                "=?ISO-2022-JP?B?{}?=",
                base64(&iso2022jp(&c.iter().collect::<String>()))
            )
        })
        .collect::<Vec<_>>()
        .join("\n ")
}

/// RFC 2047 B-encoded UTF-8 words, split on character boundaries.
pub fn encode_word_utf8(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(12)
        .map(|c| {
            format!(
                "=?UTF-8?B?{}?=",
                base64(c.iter().collect::<String>().as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\n ")
}

/// People who write ordinary mail to the mailbox owner: (display name, address, Japanese?).
pub(crate) const CORRESPONDENTS: &[(&str, &str, bool)] = &[
    ("佐藤 健一", "k.sato@example-trading.co.jp", true),
    ("鈴木 美咲", "misaki.suzuki@example.ne.jp", true),
    ("高橋 誠", "takahashi@kaisha.example.jp", true),
    ("伊藤 由美", "y-ito@example.co.jp", true),
    ("渡辺 翔太", "watanabe.shota@example.or.jp", true),
    ("Emily Carter", "emily.carter@example.com", false),
    ("James O'Neil", "joneil@example.net", false),
    ("Priya Raman", "priya.raman@example.org", false),
    ("Accounts Payable", "ap@example-supplier.com", false),
    ("Lukas Becker", "l.becker@example.de", false),
];

const EN_SUBJECTS: &[&str] = &[
    "Re: Q4 forecast review",
    "Meeting notes - weekly sync",
    "Invoice INV-{n} attached",
    "Updated contract draft",
    "Re: Shipping schedule for order #{n}",
    "Lunch on Thursday?",
    "Fwd: Conference registration confirmation",
    "Action items from today's call",
    "Re: Re: Pricing question",
    "Travel itinerary {n}",
];

const JA_SUBJECTS: &[&str] = &[
    "お見積りの件（No.{n}）",
    "打ち合わせ日程のご相談",
    "請求書送付のお知らせ",
    "Re: 来週の定例会議について",
    "資料送付のご連絡",
    "【ご確認】契約書ドラフト",
    "年末年始の営業日について",
    "先日はありがとうございました",
];

const EN_BODIES: &[&str] = &[
    "Hi {name},\n\nThanks for the update. I went through the numbers and they look fine to me,\nexcept for the freight line which seems high. Could you double-check it\nbefore Friday?\n\nBest regards,\n{sender}\n",
    "Hello,\n\nPlease find the document attached. Let me know if anything needs to change;\nwe would like to finalize it by the end of the month.\n\nKind regards,\n{sender}\n",
    "Hi,\n\nQuick reminder about tomorrow's meeting at 10:00 (JST). The dial-in details\nare the same as last week.\n\nFrom the minutes:\n- shipping dates confirmed\n- pricing to be revisited in January\n\nThanks,\n{sender}\n",
    "Dear {name},\n\nFrom our side everything is ready. Note the new delivery address below.\n\n> On the previous call you mentioned a change of warehouse.\n> Is that still the plan?\n\nYes, from next month.\n\n{sender}\n",
];

const JA_BODIES: &[&str] = &[
    "{name}様\n\nいつもお世話になっております。{sender}です。\n\nご依頼いただいておりましたお見積りを添付にてお送りいたします。\nご確認のほど、よろしくお願いいたします。\n\n以上、よろしくお願いいたします。\n",
    "{name}さん\n\nお疲れさまです。{sender}です。\n\n来週の打ち合わせですが、火曜日の14時からでいかがでしょうか。\nご都合が悪ければ、候補日をいくつかお知らせください。\n\nよろしくお願いします。\n",
    "{name}様\n\n先日はお忙しいところありがとうございました。\nいただいたご意見を踏まえて、資料を修正いたしました。\n\n引き続きよろしくお願い申し上げます。\n\n{sender}\n",
];

/// One template from a table (a helper so the `&&str` is not inferred as `&str`).
fn pick_str(rng: &mut Rng, table: &[&'static str]) -> &'static str {
    table[rng.below(table.len() as u64) as usize]
}

fn fill(template: &str, rng: &mut Rng, name: &str, sender: &str) -> String {
    template
        .replace("{n}", &rng.range(1000, 99_999).to_string())
        .replace("{name}", name)
        .replace("{sender}", sender)
}

/// How a Japanese body is sent.
#[derive(Clone, Copy)]
enum JaCharset {
    Iso2022Jp,
    Utf8Base64,
}

/// Message-ID in the style of a common MUA or webmail.
pub(crate) fn mua_message_id(rng: &mut Rng, domain: &str, date: i64) -> String {
    match rng.below(4) {
        0 => format!("{}.{}@{}", stamp(date), rng.token(HEX, 12), domain),
        1 => format!(
            "CA+{}{}@mail.gmail.com",
            rng.token(ALNUM, 30),
            rng.token(ALNUM, 10)
        ),
        2 => format!(
            "{}-{}-{}-{}-{}@{}",
            rng.token(HEX, 8),
            rng.token(HEX, 4),
            rng.token(HEX, 4),
            rng.token(HEX, 4),
            rng.token(HEX, 12),
            domain
        ),
        _ => format!(
            "TYCPR01MB{}{}@TYCPR01MB{}.jpnprd01.prod.outlook.com",
            rng.range(1000, 9999),
            rng.token(crate::synth::UPPER_DIGIT, 12),
            rng.range(1000, 9999)
        ),
    }
}

/// Realistic ordinary business mail to `to`, English or Japanese; about one in
/// seven is multipart/mixed with a small base64 attachment (1.5-12 KB).
pub fn ordinary(rng: &mut Rng, to: &str, date: i64) -> Vec<u8> {
    let with = rng.chance(0.15);
    let size = rng.range(1_500, 12_000) as usize;
    ordinary_with_attachment(rng, to, date, if with { Some(size) } else { None })
}

/// Like [`ordinary`] but the caller chooses the attachment size (the benchmark
/// corpus needs 20-600 KB attachments).
pub fn ordinary_with_attachment(
    rng: &mut Rng,
    to: &str,
    date: i64,
    attachment: Option<usize>,
) -> Vec<u8> {
    let &(name, addr, ja) = rng.pick(CORRESPONDENTS);
    let domain = addr.split('@').nth(1).unwrap_or("example.com");
    let to_name = to.split('@').next().unwrap_or("there");
    let mut m = Msg::new();
    let hop_ip = super::public_ip(rng);
    m.h("Return-Path", format!("<{}>", addr)).h(
        "Received",
        format!(
            "from mail.{} (mail.{} [{}])\n\tby mx.{} (Postfix) with ESMTPS id {}\n\tfor <{}>; {}",
            domain,
            domain,
            hop_ip,
            to.split('@').nth(1).unwrap_or("example.com"),
            rng.token(ALNUM, 12),
            to,
            rfc5322_date(date + rng.range(1, 20), 540)
        ),
    );
    let offset = if ja {
        540
    } else {
        *rng.pick(&[0, -300, -480, 60, 540])
    };
    let charset = if rng.chance(0.6) {
        JaCharset::Iso2022Jp
    } else {
        JaCharset::Utf8Base64
    };
    let (from_hdr, subject_hdr) = if ja {
        let subj = fill(pick_str(rng, JA_SUBJECTS), rng, "", "");
        match charset {
            JaCharset::Iso2022Jp => (
                format!("{} <{}>", encode_word_iso2022jp(name), addr),
                encode_word_iso2022jp(&subj),
            ),
            JaCharset::Utf8Base64 => (
                format!("{} <{}>", encode_word_utf8(name), addr),
                encode_word_utf8(&subj),
            ),
        }
    } else {
        let subj = fill(pick_str(rng, EN_SUBJECTS), rng, "", "");
        let quoted = if name.contains('\'') {
            format!("\"{}\"", name)
        } else {
            name.to_string()
        };
        (format!("{} <{}>", quoted, addr), subj)
    };
    m.h("From", from_hdr)
        .h("To", to.to_string())
        .h("Subject", subject_hdr)
        .h("Date", rfc5322_date(date, offset))
        .h(
            "Message-ID",
            format!("<{}>", mua_message_id(rng, domain, date)),
        )
        .h("MIME-Version", "1.0");
    if rng.chance(0.5) {
        m.h(
            "User-Agent",
            rng.pick(&[
                "Mozilla Thunderbird 128.3.1",
                "Microsoft Outlook 16.0",
                "Becky! ver. 2.81.04",
                "Apple Mail (2.3774)",
            ])
            .to_string(),
        );
    }
    let text_body = if ja {
        fill(pick_str(rng, JA_BODIES), rng, to_name, name)
    } else {
        fill(pick_str(rng, EN_BODIES), rng, to_name, name)
    };
    let (ctype, cte, body): (String, &str, Vec<u8>) = if ja {
        match charset {
            JaCharset::Iso2022Jp => (
                "text/plain; charset=ISO-2022-JP".into(),
                "7bit",
                iso2022jp(&text_body),
            ),
            JaCharset::Utf8Base64 => (
                "text/plain; charset=UTF-8".into(),
                "base64",
                base64_lines(text_body.as_bytes()).into_bytes(),
            ),
        }
    } else {
        (
            "text/plain; charset=us-ascii; format=flowed".into(),
            "7bit",
            text_body.into_bytes(),
        )
    };
    match attachment {
        None => {
            m.h("Content-Type", ctype)
                .h("Content-Transfer-Encoding", cte);
            m.body = body;
        }
        Some(size) => {
            let boundary = format!("------------{}", rng.token(ALNUM, 24));
            m.h(
                "Content-Type",
                format!("multipart/mixed;\n boundary=\"{}\"", boundary),
            );
            let (fname, mime, magic): (&str, &str, &[u8]) = *rng.pick(&[
                (
                    "quote.pdf",
                    "application/pdf",
                    &b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"[..],
                ),
                (
                    "photo.jpg",
                    "image/jpeg",
                    &b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"[..],
                ),
                (
                    "report.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    &b"PK\x03\x04\x14\x00\x06\x00"[..],
                ),
                (
                    "minutes.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    &b"PK\x03\x04\x14\x00\x06\x00"[..],
                ),
            ]);
            let mut payload = magic.to_vec();
            payload.extend_from_slice(&rng.bytes(size.saturating_sub(magic.len())));
            let mut b = Vec::with_capacity(payload.len() * 4 / 3 + 1024);
            b.extend_from_slice(b"This is a multi-part message in MIME format.\n");
            b.extend_from_slice(
                format!(
                    "--{}\nContent-Type: {}\nContent-Transfer-Encoding: {}\n\n",
                    boundary, ctype, cte
                )
                .as_bytes(),
            );
            b.extend_from_slice(&body);
            if !b.ends_with(b"\n") {
                b.push(b'\n');
            }
            b.extend_from_slice(
                format!(
                    "\n--{}\nContent-Type: {}; name=\"{}\"\nContent-Disposition: attachment; filename=\"{}\"\nContent-Transfer-Encoding: base64\n\n",
                    boundary, mime, fname, fname
                )
                .as_bytes(),
            );
            b.extend_from_slice(base64_lines(&payload).as_bytes());
            b.extend_from_slice(format!("\n--{}--\n", boundary).as_bytes());
            m.body = b;
        }
    }
    m.to_bytes()
}

/// Spam subject lines with a random token, as bulk senders vary them to slip
/// past duplicate detection.
pub(crate) fn spam_subject(rng: &mut Rng) -> String {
    const S: &[&str] = &[
        "Your account statement {t} is ready",
        "Re: Payment confirmation {t}",
        "Invoice {t} overdue - action required",
        "You have received a secure document ({t})",
        "Congratulations! Claim your reward {t}",
        "【重要】お支払い情報の確認 {t}",
        "Delivery attempt failed - parcel {t}",
        "Exclusive offer for you {t}",
    ];
    let t = match rng.below(3) {
        0 => rng.token(crate::synth::UPPER_DIGIT, 8),
        1 => format!("#{}", rng.range(100_000, 999_999)),
        _ => rng.token(LOWER_DIGIT, 6),
    };
    rng.pick(S).replace("{t}", &t)
}

/// Spam body (plain text with a link); tokens differ per message.
pub(crate) fn spam_body(rng: &mut Rng) -> String {
    let host = format!(
        "{}.{}",
        rng.token(LOWER_DIGIT, 9),
        rng.pick(&["top", "xyz", "click", "shop", "icu"])
    );
    format!(
        "Dear customer,\n\nWe could not process your last payment. To avoid suspension of your\naccount please verify your details within 24 hours:\n\n  https://{}/verify?id={}\n\nThank you for your cooperation.\nCustomer Service ({})\n",
        host,
        rng.token(ALNUM, 16),
        rng.token(crate::synth::UPPER_DIGIT, 6)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert!(base64_lines(&[0u8; 200]).lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn iso2022jp_words_end_in_ascii() {
        let b = iso2022jp("不在");
        assert!(b.starts_with(b"\x1b$B") && b.ends_with(b"\x1b(B"));
        let w = encode_word_iso2022jp("アドレスが変わりました、新しいアドレスをお知らせします");
        assert!(w.lines().count() >= 2);
        assert!(w.lines().all(|l| l.trim().len() <= 75));
    }

    #[test]
    fn ordinary_mail_is_ascii_headers_and_deterministic() {
        let a = ordinary(&mut Rng::new(3), "tanaka@example.co.jp", 1_790_000_000);
        let b = ordinary(&mut Rng::new(3), "tanaka@example.co.jp", 1_790_000_000);
        assert_eq!(a, b);
        let head = super::super::header_block(&a);
        assert!(head.is_ascii());
    }
}
