//! Synthetic mail generator: deterministic mailboxes with planted bounce floods.
//!
//! The scanner is tested against mail that nobody may copy (real bounces carry
//! third-party addresses), so this module *writes* it: ordinary business mail in
//! English and Japanese, bounces in the shapes ten MTA families really produce
//! (RFC 3464 `multipart/report` and the older plain-text forms), RFC 3834
//! auto-replies and RFC 5965 abuse reports. Every fact a test will check is
//! recorded as a [`Planted`] row next to the message bytes, so the tests compare
//! the tool's output against what was generated rather than against a
//! hand-kept table.
//!
//! Everything is a function of a `u64` seed through [`Rng`] (SplitMix64), so the
//! same seed always gives the same bytes, and no wall clock is read.
//!
//! Layout: `mod.rs` (PRNG, dates, header helpers, shared types), `text.rs`
//! (MIME encoding helpers and ordinary mail), `bounce.rs` (bounces, auto-replies,
//! ARF), `scenario.rs` (the four end-to-end mailboxes), `write.rs` (mbox,
//! gzip, Maildir, .eml writers and the benchmark corpus).

mod bounce;
mod scenario;
mod text;
mod write;

pub use bounce::{render_arf, render_autoreply, render_bounce, AutoReplyKind, BounceSpec};
pub use scenario::{backscatter, clean, hijacked, no_originals, random_bounce, Scenario};
pub use text::{encode_word_iso2022jp, encode_word_utf8, ordinary, ordinary_with_attachment};
pub use write::{
    bounce_mbox, mixed_mbox, write_eml_dir, write_maildir, write_mbox, write_mbox_gz,
    write_sample_data, SAMPLE_SEED,
};

/// SplitMix64 pseudo-random generator: tiny, fast and identical on every platform.
///
/// Not for cryptography; it only has to make varied but reproducible mail.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Creates a generator; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits (Steele, Lea & Flood's SplitMix64 finalizer).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n`; `n == 0` yields 0 instead of panicking.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-high instead of `%` avoids the modulo bias for large n.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `p` (0.0..=1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        // 53 bits: the full precision of an f64 mantissa.
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// `n` characters from `alphabet` (ASCII), e.g. for queue IDs and tokens.
    pub fn token(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect()
    }

    /// `n` random bytes (attachment payloads).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// Alphabets for identifiers.
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const UPPER_DIGIT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
pub(crate) const LOWER_DIGIT: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Line ending used by the mbox writer (the generator itself always emits LF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// Unix `\n`.
    Lf,
    /// Windows / wire format `\r\n`.
    CrLf,
    /// Classic Mac OS `\r`, still found in old Eudora exports.
    Cr,
}

/// The MTA (or provider) whose bounce format is imitated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtaStyle {
    Postfix,
    Exim,
    Sendmail,
    Qmail,
    Exchange,
    Office365,
    Gmail,
    Yahoo,
    AmazonSes,
    Docomo,
}

impl MtaStyle {
    /// Every style, in a fixed order (used to cycle through them).
    pub const ALL: [MtaStyle; 10] = [
        MtaStyle::Postfix,
        MtaStyle::Exim,
        MtaStyle::Sendmail,
        MtaStyle::Qmail,
        MtaStyle::Exchange,
        MtaStyle::Office365,
        MtaStyle::Gmail,
        MtaStyle::Yahoo,
        MtaStyle::AmazonSes,
        MtaStyle::Docomo,
    ];

    /// Lowercase name used in [`Planted::style`].
    pub fn name(self) -> &'static str {
        match self {
            MtaStyle::Postfix => "postfix",
            MtaStyle::Exim => "exim",
            MtaStyle::Sendmail => "sendmail",
            MtaStyle::Qmail => "qmail",
            MtaStyle::Exchange => "exchange",
            MtaStyle::Office365 => "office365",
            MtaStyle::Gmail => "gmail",
            MtaStyle::Yahoo => "yahoo",
            MtaStyle::AmazonSes => "amazonses",
            MtaStyle::Docomo => "docomo",
        }
    }
}

/// One planted fact the tests check from the tool's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// "dsn" | "mta-text" | "autoreply" | "feedback".
    pub kind: &'static str,
    /// Generator style, e.g. "postfix", "fuzai-ja", "arf".
    pub style: &'static str,
    /// Failed (or auto-replying, or complaining) address, lowercase.
    pub recipient: String,
    /// Enhanced status code when the bounce text carries one.
    pub status: Option<String>,
    /// SMTP reply code when the bounce text carries one.
    pub reply_code: Option<u16>,
    /// sisimai-style reason: userunknown, mailboxfull, hostunknown, blocked,
    /// spamdetected, expired, suspend, vacation, hasmoved, feedback.
    pub reason: &'static str,
    /// Message-ID of the returned original, without `<>`; None when not returned.
    pub original_message_id: Option<String>,
    /// Public client IP that submitted the original; None when not returned.
    pub origin_ip: Option<String>,
    /// RFC 5322 date of the bounce.
    pub bounce_date: String,
    /// False for the unrelated typo bounce.
    pub in_campaign: bool,
    /// DSN action: "failed" or "delayed"; "autoreply" / "feedback" for the others.
    pub action: &'static str,
    /// Unix time of the bounce (same instant as `bounce_date`).
    pub bounce_unix: i64,
}

// ---------------------------------------------------------------------------
// Dates

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

// The calendar arithmetic is the scanner's own (one implementation).
pub use crate::date::{civil_from_days, days_from_civil};

/// Broken-down local time: (year, month, day, hour, minute, second, weekday 0=Sun).
fn local(unix: i64, offset_minutes: i32) -> (i64, u32, u32, u32, u32, u32, usize) {
    let t = unix + offset_minutes as i64 * 60;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
    let wd = (days + 4).rem_euclid(7) as usize;
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
        wd,
    )
}

fn offset_text(offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let a = offset_minutes.abs();
    format!("{}{:02}{:02}", sign, a / 60, a % 60)
}

/// RFC 5322 date, e.g. "Tue, 03 Nov 2026 09:14:07 +0900".
pub fn rfc5322_date(unix: i64, offset_minutes: i32) -> String {
    let (y, m, d, hh, mm, ss, wd) = local(unix, offset_minutes);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
        WEEKDAYS[wd],
        d,
        MONTHS[m as usize - 1],
        y,
        hh,
        mm,
        ss,
        offset_text(offset_minutes)
    )
}

/// Postfix's `Arrival-Date` form: space-padded day and a zone comment,
/// e.g. "Tue,  3 Nov 2026 09:14:02 +0900 (JST)".
pub(crate) fn postfix_date(unix: i64, offset_minutes: i32) -> String {
    let (y, m, d, hh, mm, ss, wd) = local(unix, offset_minutes);
    let zone = match offset_minutes {
        540 => "JST",
        0 => "UTC",
        -480 => "PST",
        -300 => "EST",
        60 => "CET",
        _ => "LMT",
    };
    format!(
        "{}, {:2} {} {} {:02}:{:02}:{:02} {} ({})",
        WEEKDAYS[wd],
        d,
        MONTHS[m as usize - 1],
        y,
        hh,
        mm,
        ss,
        offset_text(offset_minutes),
        zone
    )
}

/// asctime(3) form for mbox `From ` lines: "Tue Nov  3 09:14:07 2026" (UTC).
pub(crate) fn asctime(unix: i64) -> String {
    let (y, m, d, hh, mm, ss, wd) = local(unix, 0);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[wd],
        MONTHS[m as usize - 1],
        d,
        hh,
        mm,
        ss,
        y
    )
}

/// Compact UTC timestamp used inside Postfix Message-IDs: "20261103001407".
pub(crate) fn stamp(unix: i64) -> String {
    let (y, m, d, hh, mm, ss, _) = local(unix, 0);
    format!("{}{:02}{:02}{:02}{:02}{:02}", y, m, d, hh, mm, ss)
}

/// Parses the dates this module writes back into unix seconds (the writers
/// need them for `From ` lines and Maildir names). Tolerates a missing weekday
/// and a trailing zone comment; returns None for anything else.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = match s.find(',') {
        Some(i) => &s[i + 1..],
        None => s,
    };
    let mut it = s.split_whitespace();
    let d: u32 = it.next()?.parse().ok()?;
    let mon = it.next()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))? as u32 + 1;
    let y: i64 = it.next()?.parse().ok()?;
    let hms: Vec<i64> = it
        .next()?
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let zone = it.next()?;
    let (sign, digits) = zone.split_at(1);
    let z: i64 = digits.parse().ok()?;
    let off = (z / 100 * 60 + z % 100) * if sign == "-" { -1 } else { 1 };
    let days = days_from_civil(y, m, d);
    let secs = hms.first()? * 3600 + hms.get(1)? * 60 + hms.get(2).copied().unwrap_or(0);
    Some(days * 86_400 + secs - off * 60)
}

// ---------------------------------------------------------------------------
// Header helpers shared by the renderers and writers

/// The header block of a message (without the blank separator line).
pub(crate) fn header_block(msg: &[u8]) -> &[u8] {
    match msg.windows(2).position(|w| w == b"\n\n") {
        Some(i) => &msg[..i + 1],
        None => msg,
    }
}

/// All values of header `name` (case-insensitive), unfolded, in order.
pub(crate) fn header_values(msg: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(header_block(msg));
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(c) = current.as_mut() {
                c.push(' ');
                c.push_str(line.trim());
            }
            continue;
        }
        if let Some(c) = current.take() {
            out.push(c);
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                current = Some(v.trim().to_string());
            }
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

/// First value of header `name`.
pub(crate) fn header_value(msg: &[u8], name: &str) -> Option<String> {
    header_values(msg, name).into_iter().next()
}

/// The bare address of a From/To value: "Name <a@b>" or "a@b (Name)" -> "a@b".
pub(crate) fn bare_address(v: &str) -> String {
    if let (Some(i), Some(j)) = (v.find('<'), v.rfind('>')) {
        if i < j {
            return v[i + 1..j].trim().to_string();
        }
    }
    v.split_whitespace()
        .find(|w| w.contains('@'))
        .unwrap_or(v)
        .trim()
        .to_string()
}

/// Message-ID of a message without the angle brackets.
pub(crate) fn message_id_of(msg: &[u8]) -> Option<String> {
    header_value(msg, "Message-ID").map(|v| {
        v.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string()
    })
}

/// True for addresses outside private, loopback, link-local, CGNAT and multicast space.
pub(crate) fn is_public_ipv4(ip: &str) -> bool {
    let p: Vec<u8> = match ip
        .split('.')
        .map(|x| x.parse::<u8>())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(p) if p.len() == 4 => p,
        _ => return false,
    };
    !(p[0] == 10
        || p[0] == 127
        || p[0] == 0
        || p[0] >= 224
        || (p[0] == 172 && (16..32).contains(&p[1]))
        || (p[0] == 192 && p[1] == 168)
        || (p[0] == 169 && p[1] == 254)
        || (p[0] == 100 && (64..128).contains(&p[1])))
}

/// The client IP that handed the message to the first MTA: the first public
/// bracketed IPv4 in the bottom-most `Received:` header that has one. That is
/// where a forensic reader looks for the submitting host.
pub(crate) fn origin_ip_of(msg: &[u8]) -> Option<String> {
    for r in header_values(msg, "Received").iter().rev() {
        let mut rest = r.as_str();
        while let Some(i) = rest.find('[') {
            let tail = &rest[i + 1..];
            if let Some(j) = tail.find(']') {
                let cand = &tail[..j];
                if is_public_ipv4(cand) {
                    return Some(cand.to_string());
                }
            }
            rest = tail;
        }
    }
    None
}

/// A message under construction: ordered headers and a raw body (LF line ends).
#[derive(Debug, Clone, Default)]
pub(crate) struct Msg {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Msg {
    pub fn new() -> Msg {
        Msg::default()
    }

    /// Appends a header; `value` may contain "\n\t" folds.
    pub fn h(&mut self, name: &str, value: impl Into<String>) -> &mut Msg {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body_str(&mut self, s: &str) -> &mut Msg {
        self.body.extend_from_slice(s.as_bytes());
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 1024);
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out
    }
}

/// A random public IPv4 for a submitting client: documentation ranges (RFC
/// 5737) mixed with ordinary unicast space, never private (the origin-IP tests
/// rely on it) and never 192.0.2.0/24, which is kept for relays and MXs.
pub(crate) fn public_ip(rng: &mut Rng) -> String {
    const PREFIXES: &[&str] = &[
        "198.51.100",
        "203.0.113",
        "45.83.64",
        "91.92.109",
        "185.234.217",
        "194.169.175",
        "80.94.95",
        "141.98.11",
        "36.91.160",
        "103.151.122",
        "62.204.41",
        "176.111.174",
        "5.181.86",
        "212.70.149",
        "117.50.188",
    ];
    format!("{}.{}", rng.pick(PREFIXES), rng.range(2, 254))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_blank_line_and_ids(m: &[u8]) -> bool {
        let head = header_block(m);
        head.len() < m.len()
            && m[head.len()] == b'\n'
            && header_value(m, "Message-ID").is_some()
            && header_value(m, "Date").is_some()
    }

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(a.below(13) < 13);
            b.below(13);
        }
        // SplitMix64 reference value for seed 0 (first output).
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn civil_date_conversion_known_values() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for z in -800_000..800_000i64 {
            if z % 997 == 0 {
                let (y, m, d) = civil_from_days(z);
                assert_eq!(days_from_civil(y, m, d), z);
            }
        }
        // 1_700_000_000 = Tue, 14 Nov 2023 22:13:20 UTC.
        assert_eq!(
            rfc5322_date(1_700_000_000, 0),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
        assert_eq!(
            rfc5322_date(1_700_000_000, 540),
            "Wed, 15 Nov 2023 07:13:20 +0900"
        );
        assert_eq!(
            rfc5322_date(1_700_000_000, -330),
            "Tue, 14 Nov 2023 16:43:20 -0530"
        );
        assert_eq!(asctime(1_700_000_000), "Tue Nov 14 22:13:20 2023");
        assert_eq!(
            postfix_date(1_699_000_000, 540),
            "Fri,  3 Nov 2023 17:26:40 +0900 (JST)"
        );
        assert_eq!(
            parse_date("Wed, 15 Nov 2023 07:13:20 +0900"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_date("Tue, 14 Nov 2023 16:43:20 -0530 (XYZ)"),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn header_helpers() {
        let m = b"Received: from a ([10.0.0.1])\n\tby b\nReceived: from x (unknown [198.51.100.23])\n\tby y\nFrom: Tanaka <Tanaka@Example.co.jp>\nMessage-ID: <abc@x>\n\nbody\n";
        assert_eq!(origin_ip_of(m).as_deref(), Some("198.51.100.23"));
        assert_eq!(
            bare_address(&header_value(m, "from").unwrap()),
            "Tanaka@Example.co.jp"
        );
        assert_eq!(message_id_of(m).as_deref(), Some("abc@x"));
        assert!(!is_public_ipv4("172.20.1.1"));
        assert!(is_public_ipv4("203.0.113.77"));
    }

    #[test]
    fn scenarios_are_deterministic() {
        for f in [hijacked, backscatter, no_originals, clean] {
            let a = f(42);
            let b = f(42);
            assert_eq!(a.inbox, b.inbox, "{}", a.name);
            assert_eq!(a.sent, b.sent, "{}", a.name);
            assert_eq!(a.planted, b.planted, "{}", a.name);
            let c = f(43);
            assert_ne!(a.inbox, c.inbox, "{}", a.name);
        }
    }

    #[test]
    fn every_message_is_well_formed() {
        for f in [hijacked, backscatter, no_originals, clean] {
            let s = f(1);
            for (i, m) in s.inbox.iter().chain(s.sent.iter()).enumerate() {
                assert!(
                    has_blank_line_and_ids(m),
                    "{} message {}:\n{}",
                    s.name,
                    i,
                    String::from_utf8_lossy(m)
                );
                assert!(
                    !m.starts_with(b"From "),
                    "{} message {} has a From_ line",
                    s.name,
                    i
                );
                assert!(!m.contains(&b'\r'), "{} message {} has CR", s.name, i);
            }
        }
    }

    #[test]
    fn message_ids_are_unique() {
        for f in [hijacked, backscatter, no_originals, clean] {
            let s = f(5);
            let mut ids: Vec<String> = s
                .inbox
                .iter()
                .chain(s.sent.iter())
                .filter_map(|m| message_id_of(m))
                .collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            // The Sent copies of spam share IDs with the returned originals
            // only inside bounces, never at the top level of two messages.
            assert_eq!(ids.len(), n, "{}", s.name);
        }
    }

    #[test]
    fn scenario_invariants() {
        for seed in [1u64, 2, 3] {
            let h = hijacked(seed);
            assert_eq!(h.expected_verdict, "compromised");
            let camp: Vec<&Planted> = h.planted.iter().filter(|p| p.in_campaign).collect();
            assert!(
                camp.len() >= 40 && camp.len() <= 90,
                "campaign rows {}",
                camp.len()
            );
            assert_eq!(h.planted.iter().filter(|p| !p.in_campaign).count(), 1);
            assert!(h.window.0 < h.window.1);
            let span = h.window.1 - h.window.0;
            assert!((5 * 3600..=31 * 3600).contains(&span), "span {}", span);
            for p in &camp {
                assert!(p.bounce_unix >= h.window.0 && p.bounce_unix <= h.window.1);
                assert_eq!(parse_date(&p.bounce_date), Some(p.bounce_unix));
                assert_eq!(p.recipient, p.recipient.to_lowercase());
            }
            let styles: std::collections::BTreeSet<&str> = camp
                .iter()
                .filter(|p| p.kind == "dsn" || p.kind == "mta-text")
                .map(|p| p.style)
                .collect();
            assert!(styles.len() >= 6, "{:?}", styles);
            assert!(camp.iter().filter(|p| p.kind == "autoreply").count() >= 2);
            assert!(camp.iter().any(|p| p.action == "delayed"));
            let ips: std::collections::BTreeSet<&str> =
                camp.iter().filter_map(|p| p.origin_ip.as_deref()).collect();
            assert!((2..=3).contains(&ips.len()), "{:?}", ips);
            assert!(!h.sent.is_empty());
            assert!(h.inbox.len() > 150);

            let b = backscatter(seed);
            assert_eq!(b.expected_verdict, "backscatter");
            assert!(b.planted.iter().filter(|p| p.in_campaign).count() >= 20);
            assert!(b.window.0 < b.window.1);

            let n = no_originals(seed);
            assert_eq!(n.expected_verdict, "inconclusive");
            assert!(n.planted.len() >= 20);
            assert!(n
                .planted
                .iter()
                .all(|p| p.original_message_id.is_none() && p.origin_ip.is_none()));

            let c = clean(seed);
            assert_eq!(c.expected_verdict, "clean");
            assert!(c.planted.iter().all(|p| !p.in_campaign));
            assert_eq!(c.window, (0, 0));
        }
    }

    /// Every message parses as MIME, and every multipart/report has its
    /// parts — checked with mailparse, a MIME parser independent of ours.
    #[test]
    fn messages_parse_as_mime() {
        fn count(p: &mailparse::ParsedMail) -> usize {
            1 + p.subparts.iter().map(count).sum::<usize>()
        }
        for f in [hijacked, backscatter, no_originals, clean] {
            let s = f(3);
            for m in s.inbox.iter().chain(s.sent.iter()) {
                let p = mailparse::parse_mail(m).expect("parses");
                if p.ctype.mimetype == "multipart/report" {
                    assert!(
                        p.subparts.len() >= 2,
                        "{}:\n{}",
                        s.name,
                        String::from_utf8_lossy(m)
                    );
                    assert!(count(&p) >= 3);
                }
                // Decoded subjects are never left as raw encoded-words.
                let subj = p
                    .headers
                    .iter()
                    .find(|h| h.get_key_ref().eq_ignore_ascii_case("subject"))
                    .map(|h| h.get_value());
                if let Some(subj) = subj {
                    assert!(!subj.contains("=?"), "{}: {}", s.name, subj);
                }
            }
        }
    }

    #[test]
    fn planted_originals_are_in_the_bounce() {
        let h = hijacked(9);
        // Every planted Message-ID appears in some inbox message.
        for p in h.planted.iter().filter(|p| p.original_message_id.is_some()) {
            let id = p.original_message_id.as_ref().unwrap();
            assert!(
                h.inbox
                    .iter()
                    .any(|m| memchr::memmem::find(m, id.as_bytes()).is_some()),
                "{}",
                id
            );
        }
    }
}
