//! Mail dates: RFC 5322 and what real mail writes instead (obsolete forms,
//! named zones, no weekday, two-digit years, `+09:00`, asctime, ISO 8601).
//! The raw string is kept by callers; `parse` says whether it trusts the
//! result, and a date it cannot read is `None`, never a guess.

/// A parsed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// How much a parsed date can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Well-formed with a numeric or well-known zone.
    Exact,
    /// Readable, but the zone was missing or unknown (taken as UTC).
    ZoneAssumed,
}

impl Timestamp {
    /// ISO 8601 UTC with `Z`, e.g. `2026-11-03T00:14:07Z`.
    pub fn iso(&self) -> String {
        let (days, secs) = (self.0.div_euclid(86400), self.0.rem_euclid(86400));
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return format!(
                "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
        }
        // Written two digits at a time from a table, into a string made
        // once: this runs for every timeline row (digits written into an
        // array were copied into a string and checked as UTF-8 again).
        let (y, secs) = (y as usize, secs as usize);
        let mut out = String::with_capacity(20);
        let mut two = |v: usize, after: Option<char>| {
            out.push_str(&TWO_DIGITS[2 * v..2 * v + 2]);
            if let Some(c) = after {
                out.push(c);
            }
        };
        two(y / 100, None);
        two(y % 100, Some('-'));
        two(m as usize, Some('-'));
        two(d as usize, Some('T'));
        two(secs / 3600, Some(':'));
        two(secs / 60 % 60, Some(':'));
        two(secs % 60, Some('Z'));
        out
    }
}

/// `00` to `99`, two bytes each.
const TWO_DIGITS: &str = "\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Named zones seen in mail (RFC 5322 §4.3 obsolete zones plus common ones).
fn zone_minutes(z: &str) -> Option<i32> {
    // A table searched with an ASCII case-insensitive compare: no
    // uppercase copy per date.
    const ZONES: &[(&str, i32)] = &[
        ("UT", 0),
        ("UTC", 0),
        ("GMT", 0),
        ("Z", 0),
        ("WET", 0),
        ("EST", -300),
        ("EDT", -240),
        ("CST", -360),
        ("CDT", -300),
        ("MST", -420),
        ("MDT", -360),
        ("PST", -480),
        ("PDT", -420),
        ("JST", 540),
        ("KST", 540),
        ("CET", 60),
        ("MET", 60),
        ("BST", 60),
        ("WEST", 60),
        ("CEST", 120),
        ("MEST", 120),
        ("EET", 120),
        ("EEST", 180),
        ("MSK", 180),
        ("IST", 330),
        ("HKT", 480),
        ("SGT", 480),
        ("AWST", 480),
        ("AEST", 600),
        ("AEDT", 660),
        ("NZST", 720),
        ("NZDT", 780),
        ("HST", -600),
        ("AKST", -540),
        ("AKDT", -480),
    ];
    ZONES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(z))
        .map(|&(_, m)| m)
}

/// Parses a mail date. Returns None when the string has no readable date.
pub fn parse(s: &str) -> Option<(Timestamp, Trust)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(r) = parse_iso(s) {
        return Some(r);
    }
    if let Some(r) = parse_rfc5322(s.as_bytes()) {
        return Some(r);
    }
    // Tokenize: words and numbers; keep '+'/'-' zone signs and ':' in times.
    // Commas and parentheses separate like whitespace (split in place, no
    // cleaned copy of the text). ASCII text, nearly every date, is split
    // byte by byte; other text by chars (Unicode white space separates too).
    tokens(s)
}

/// The general reader: tokens, each telling what it can.
fn tokens(s: &str) -> Option<(Timestamp, Trust)> {
    let mut p = Parts::default();
    if s.is_ascii() {
        let mut start = 0;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            if matches!(b, b'\t'..=b'\r' | b' ' | b',' | b'(' | b')') {
                if i > start {
                    p.token(&s[start..i])?;
                }
                start = i + 1;
            }
        }
        if start < s.len() {
            p.token(&s[start..])?;
        }
    } else {
        for t in s
            .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
            .filter(|t| !t.is_empty())
        {
            p.token(t)?;
        }
    }
    p.finish()
}

/// The form nearly every mailer writes (RFC 5322 §3.3 without its
/// optional folding): `Mon, 6 Jan 2025 09:06:08 +0900`, the weekday
/// optional, a zone comment of letters allowed (`(JST)`). Read at fixed
/// places: the token reader below costs ten times as much. Anything else,
/// or a value out of range, is left to it (None here); what this returns
/// is what the token reader makes of the same text.
fn parse_rfc5322(b: &[u8]) -> Option<(Timestamp, Trust)> {
    const WEEKDAYS: [&[u8]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];
    let mut b = b;
    // `Mon, `: a weekday is no month, so the token reader skips it too.
    if b.len() > 5
        && b[3] == b','
        && b[4] == b' '
        && WEEKDAYS.iter().any(|w| b[..3].eq_ignore_ascii_case(w))
    {
        b = &b[5..];
    }
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    };
    // Day: one or two digits, then a space.
    let (day, at) = match (digit(0)?, digit(1)) {
        (d, Some(e)) => (d * 10 + e, 2),
        (d, None) => (d, 1),
    };
    // ` Jan 2025 09:06:08 +0900`: 24 bytes at fixed places.
    let r = b.get(at..at + 24)?;
    let fixed = r[0] == b' '
        && r[4] == b' '
        && r[9] == b' '
        && r[12] == b':'
        && r[15] == b':'
        && r[18] == b' '
        && matches!(r[19], b'+' | b'-');
    if !fixed || !(1..=31).contains(&day) {
        return None;
    }
    let month = month_prefix(&r[1..4])?;
    let num = |from: usize, n: usize| {
        r[from..from + n].iter().try_fold(0u32, |v, c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    let year = num(5, 4)?;
    let (h, mi, se) = (num(10, 2)?, num(13, 2)?, num(16, 2)?);
    let (zh, zm) = (num(20, 2)?, num(22, 2)?);
    if !(1900..=2200).contains(&year) || h >= 24 || mi >= 60 || se >= 61 || zh > 14 || zm >= 60 {
        return None;
    }
    // After the zone: the end, or a comment of letters and spaces (which
    // the token reader ignores once the zone is known).
    match &b[at + 24..] {
        [] => {}
        [b' ', b'(', comment @ .., b')']
            if comment
                .iter()
                .all(|c| c.is_ascii_alphabetic() || *c == b' ') => {}
        _ => return None,
    }
    let sign = if r[19] == b'-' { -1 } else { 1 };
    let off = sign * i64::from(zh * 60 + zm);
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86400 + i64::from(h * 3600 + mi * 60 + se.min(59));
    Some((Timestamp(local - off * 60), Trust::Exact))
}

/// What the tokens of a date have told so far.
#[derive(Default)]
struct Parts {
    day: Option<u32>,
    month: Option<u32>,
    year: Option<i64>,
    time: Option<(u32, u32, u32)>,
    zone: Option<i32>,
    zone_unknown: bool,
}

impl Parts {
    /// Takes one token; None when the date is unreadable (a number too long).
    fn token(&mut self, t: &str) -> Option<()> {
        let b = t.as_bytes();
        if self.month.is_none() {
            if let Some(m) = month_prefix(b) {
                self.month = Some(m);
                return Some(());
            }
        }
        if self.time.is_none() && b.contains(&b':') {
            self.time = parse_time(t);
            // "10:00:00+0900" glued zones.
            if let Some(p) = b.iter().position(|&c| c == b'+' || c == b'-') {
                self.zone = parse_offset(&t[p..]);
            }
            return Some(());
        }
        if (b[0] == b'+' || b[0] == b'-') && b.len() >= 3 && self.zone.is_none() {
            self.zone = parse_offset(t);
            return Some(());
        }
        if b.iter().all(u8::is_ascii_digit) {
            let n: i64 = t.parse().ok()?;
            let (day, month, year) = (self.day, self.month, self.year);
            if t.len() == 4 || (day.is_some() && year.is_none() && month.is_some()) {
                self.year = Some(if t.len() <= 2 {
                    two_digit_year(n)
                } else if t.len() == 3 {
                    n + 1900
                } else {
                    n
                });
            } else if day.is_none() && (1..=31).contains(&n) {
                self.day = Some(n as u32);
            } else if year.is_none() {
                self.year = Some(if t.len() <= 2 { two_digit_year(n) } else { n });
            }
            return Some(());
        }
        if self.zone.is_none() && self.time.is_some() && b.iter().all(u8::is_ascii_alphabetic) {
            match zone_minutes(t) {
                Some(z) => self.zone = Some(z),
                None => self.zone_unknown = true,
            }
        }
        Some(())
    }

    fn finish(self) -> Option<(Timestamp, Trust)> {
        let (day, month, year) = (self.day?, self.month?, self.year?);
        if !(1..=31).contains(&day) || !(1900..=2200).contains(&year) {
            return None;
        }
        let (h, mi, se) = self.time.unwrap_or((0, 0, 0));
        let days = days_from_civil(year, month, day);
        let local = days * 86400 + (h * 3600 + mi * 60 + se) as i64;
        let trust = if self.zone.is_some() && !self.zone_unknown && self.time.is_some() {
            Trust::Exact
        } else {
            Trust::ZoneAssumed
        };
        let off = self.zone.unwrap_or(0) as i64;
        Some((Timestamp(local - off * 60), trust))
    }
}

/// The month a token starts with (`Nov`, `november`, `NOV.`), ASCII case
/// ignored: one lowercase three-byte key instead of twelve comparisons.
fn month_prefix(t: &[u8]) -> Option<u32> {
    let key = t.get(..3)?;
    let key = [
        key[0].to_ascii_lowercase(),
        key[1].to_ascii_lowercase(),
        key[2].to_ascii_lowercase(),
    ];
    MONTHS
        .iter()
        .position(|m| m.as_bytes() == key)
        .map(|i| i as u32 + 1)
}

fn two_digit_year(n: i64) -> i64 {
    // RFC 5322 §4.3: 00-49 → 2000s, 50-99 → 1900s.
    if n < 50 {
        2000 + n
    } else {
        1900 + n
    }
}

fn parse_time(t: &str) -> Option<(u32, u32, u32)> {
    // Up to a zone sign; then `h:m[:s[.frac]]`, read from the bytes.
    let b = t.as_bytes();
    let end = b
        .iter()
        .position(|&c| c == b'+' || c == b'-')
        .unwrap_or(b.len());
    let mut it = b[..end].split(|&c| c == b':');
    let h = number(it.next()?)?;
    let m = number(it.next()?)?;
    let s = it
        .next()
        .and_then(|s| number(s.split(|&c| c == b'.').next()?))
        .unwrap_or(0);
    (h < 24 && m < 60 && s < 61).then_some((h, m, s.min(59)))
}

/// Digits as a `u32`, as `str::parse` reads them where no sign can be:
/// None when empty, not all digits, or too large.
fn number(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u32, |n, &c| {
        if c.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u32::from(c - b'0'))
        } else {
            None
        }
    })
}

fn parse_offset(t: &str) -> Option<i32> {
    let sign = if t.starts_with('-') { -1 } else { 1 };
    // The digits after the sign, whatever separates them (`+0900`, `+09:00`).
    let mut digits = [0i32; 4];
    let mut n = 0;
    for c in t.bytes().skip(1).filter(u8::is_ascii_digit) {
        if n == 4 {
            return None;
        }
        digits[n] = i32::from(c - b'0');
        n += 1;
    }
    let (h, m) = match n {
        2 => (digits[0] * 10 + digits[1], 0),
        4 => (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// `2026-11-03T09:14:07+09:00`, `2026-11-03 00:14:07Z`.
fn parse_iso(s: &str) -> Option<(Timestamp, Trust)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let mo: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    // `get`: byte 19 may fall inside a multi-byte character.
    let (h, mi, se) = parse_time(s.get(11..19)?)?;
    let rest = s
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let (off, trust) = if rest.is_empty() {
        (0, Trust::ZoneAssumed)
    } else if rest.eq_ignore_ascii_case("z") {
        (0, Trust::Exact)
    } else {
        (parse_offset(rest)?, Trust::Exact)
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let t = days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + se) as i64 - off as i64 * 60;
    Some((Timestamp(t), trust))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_shape_with_multibyte_seconds_does_not_panic() {
        // Byte 19 inside "é": the ISO reader once sliced there.
        let _ = parse("2025-01-06T09:00:0é");
        assert!(parse_iso("2025-01-06T09:00:0é").is_none());
    }

    fn iso(s: &str) -> Option<String> {
        parse(s).map(|(t, _)| t.iso())
    }

    #[test]
    fn rfc5322_and_variants() {
        assert_eq!(
            iso("Tue, 03 Nov 2026 09:14:07 +0900").unwrap(),
            "2026-11-03T00:14:07Z"
        );
        assert_eq!(
            iso("3 Nov 2026 09:14:07 +0900").unwrap(),
            "2026-11-03T00:14:07Z"
        );
        assert_eq!(
            iso("Tue, 3 Nov 26 09:14:07 JST").unwrap(),
            "2026-11-03T00:14:07Z"
        );
        assert_eq!(
            iso("Tue, 03 Nov 2026 09:14:07 +09:00").unwrap(),
            "2026-11-03T00:14:07Z"
        );
        assert_eq!(
            iso("Mon, 2 Jan 2006 15:04:05 -0700 (MST)").unwrap(),
            "2006-01-02T22:04:05Z"
        );
        assert_eq!(
            iso("Thu, 9 Apr 2006 23:34:45 EST").unwrap(),
            "2006-04-10T04:34:45Z"
        );
        assert_eq!(
            iso("Mon Jan  5 10:00:00 2004").unwrap(),
            "2004-01-05T10:00:00Z"
        );
        assert_eq!(
            iso("2026-11-03T09:14:07+09:00").unwrap(),
            "2026-11-03T00:14:07Z"
        );
        assert_eq!(
            iso("Sat, 28 Nov 99 10:00:00 GMT").unwrap(),
            "1999-11-28T10:00:00Z"
        );
    }

    #[test]
    fn trust_is_reported() {
        assert_eq!(
            parse("Tue, 03 Nov 2026 09:14:07 +0900").unwrap().1,
            Trust::Exact
        );
        assert_eq!(
            parse("Tue, 03 Nov 2026 09:14:07").unwrap().1,
            Trust::ZoneAssumed
        );
        assert_eq!(
            parse("Tue, 03 Nov 2026 09:14:07 XYZT").unwrap().1,
            Trust::ZoneAssumed
        );
    }

    #[test]
    fn iso_is_the_formatted_date() {
        let reference = |t: i64| {
            let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
            let (y, m, d) = civil_from_days(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
        };
        let mut t = -62_167_219_200; // 0000-01-01T00:00:00Z
        while t < 253_402_300_800 {
            // 9999-12-31T23:59:59Z and a second before each step.
            for u in [t, t + 86_399, t - 1]
                .into_iter()
                .filter(|&u| u >= -62_167_219_200)
            {
                assert_eq!(Timestamp(u).iso(), reference(u), "{u}");
            }
            t += 7_777_777;
        }
        assert_eq!(Timestamp(253_402_300_799).iso(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn iso_formatting() {
        assert_eq!(Timestamp(0).iso(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_780_000_000).iso(), "2026-05-28T20:26:40Z");
        assert_eq!(Timestamp(-1).iso(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "yesterday",
            "32 Foo 2026",
            "Tue, 03 Nov 12345 1:2:3",
            "\u{1f600}",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn fixed_form_reads_as_the_tokens_do() {
        for s in [
            "Mon, 06 Jan 2025 09:06:08 +0900",
            "mon, 6 jan 2025 09:06:08 -0330",
            "6 Jan 2025 09:06:08 +0000",
            "Sun, 05 Jan 2025 21:01:32 -0300 (BRT)",
            "Sun, 05 Jan 2025 21:01:32 -0300 (Pacific Standard Time)",
            "Sun, 05 Jan 2025 21:01:32 -0300 ()",
            "Wed, 31 Dec 2200 23:59:60 +1459",
            "Wed, 31 Dec 2200 23:59:60 +1400",
            "Wed, 32 Dec 2025 23:59:59 +0000",
            "Wed, 00 Dec 2025 23:59:59 +0000",
            "Wed, 12 Dec 1899 23:59:59 +0000",
            "Wed, 12 Dec 2025 24:00:00 +0000",
            "Wed, 12 Dec 2025 23:60:00 +0000",
            "Wed, 12 Dec 2025 23:00:00 +1500",
            "Wed, 12 Dec 2025 23:00:00 +0960",
            "Wed, 12 Foo 2025 23:00:00 +0900",
            "Wed, 12 Dec 2025 23:00:00 +0900 (x1)",
            "Wed, 12 Dec 2025 23:00:00 +0900 x",
            "Mar, 12 Dec 2025 23:00:00 +0900",
            "Wed,12 Dec 2025 23:00:00 +0900",
            "123 Dec 2025 23:00:00 +0900",
            "Wed, 1 Dec 2025 2:00:00 +0900",
            "Wed, 1 Dec 2025 02:00:00 0900",
        ] {
            let fast = parse_rfc5322(s.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, tokens(s), "{s}");
            }
            assert_eq!(parse(s), tokens(s), "{s}");
        }
        assert!(parse_rfc5322(b"Mon, 06 Jan 2025 09:06:08 +0900").is_some());
        assert!(parse_rfc5322(b"Sun, 05 Jan 2025 21:01:32 -0300 (BRT)").is_some());
    }

    #[test]
    fn civil_round_trip() {
        for d in [-1000i64, 0, 1, 365, 10_957, 20_000, 60_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
