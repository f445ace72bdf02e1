//! Forensic evidence from a returned original: the Received chain's hop IPs,
//! the origin (the client that submitted the message), and labelled signs of
//! how it was submitted (authenticated, DKIM-signed, SPF/DMARC failing).
//!
//! Takes an [`Original`] (header fields a bounce carried back) and hands on an
//! [`Evidence`] that `record` flattens into `origin_ip`, `relay_ips` and `auth`.
//! Runs once per bounce, never per ordinary message, but for every bounce of
//! a flood: the Received reader works on the bytes with ASCII case ignored,
//! and allocates only what it keeps.
//!
//! A Received field (RFC 5321 §4.4) is `from <helo> (<what the server saw>)
//! by <host> with <protocol> id <id> for <rcpt>; <date>`, but every MTA bends
//! it. The forms this module reads, each with the test that holds it:
//!
//! - Postfix `from helo (rdns [1.2.3.4])` and `from unknown (HELO x) ([1.2.3.4])`;
//!   `(Authenticated sender: user)` (`postfix_esmtpsa`).
//! - Exim `from [1.2.3.4] (port=1234 helo=x)` and `from host ([1.2.3.4]:1234 helo=x)`,
//!   `with esmtpsa (TLS1.3) ... (Exim 4.97)` (`exim_forms`).
//! - Sendmail `from helo (rdns [1.2.3.4] (may be forged)) (authenticated bits=0)
//!   by ... (8.17.1/8.17.1) with ESMTPSA id` (`sendmail_authenticated`).
//! - qmail `(qmail 123 invoked from network)` (no IP) and
//!   `from unknown (HELO x) (user@[1.2.3.4])` (`qmail_forms`).
//! - Microsoft `from host (2603:1096::17) by host (2603:...) with Microsoft SMTP
//!   Server (version=TLS1_2) id 15.20.7633.12` — the id is a build number that
//!   looks like an IPv4 address, so IPs are read only from the `from` part
//!   (`exchange_internal_hops_and_version_numbers`).
//! - Google `from [192.168.1.2] ([203.0.113.5]) by smtp.gmail.com with ESMTPSA`:
//!   the parenthesised address (what the server saw) wins over the HELO literal
//!   (`google_submission`); `from [IPv6:2001:db8::1]` (`ipv6_literal`).
//!
//! Authentication labels (RFC 3848 protocol names, RFC 8601
//! Authentication-Results): `smtp-auth:<protocol>`, `authenticated-sender:<user>`,
//! `smtp.auth=<user>`, `auth=pass`, `ms-authas:<value>`, `dkim:d=<domain>`,
//! `x-originating-ip:<ip>`, `php-script:<script>`; contrary signs `spf=fail`,
//! `spf=softfail`, `dkim=fail`, `dmarc=fail` and `direct-to-mx` (the oldest hop
//! came unauthenticated from an outside address into a host outside the
//! sender's domain: a bot talking to the recipient's MX).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use crate::bounce::phrases::find;
use crate::original::{keep_first, Original, SEARCHED};

/// What an original tells about where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Client address of the first hop received from outside (or the
    /// webmail client in X-Originating-IP and similar headers).
    pub origin_ip: Option<String>,
    /// Public hop IPs, origin first.
    pub relay_ips: Vec<String>,
    /// Labelled authentication facts, e.g. `smtp-auth:esmtpsa`, `dkim:d=example.jp`.
    pub auth: Vec<String>,
}

/// One parsed Received field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hop {
    /// The address the receiving server saw (or, failing that, the HELO literal).
    pub client_ip: Option<String>,
    /// `client_ip` is on the public Internet (`is_public`), judged on the
    /// address parsed once.
    pub client_public: bool,
    /// Host name after `by`, lowercase.
    pub by: Option<String>,
    /// Protocol after `with`, lowercase (`esmtpsa`, `smtp`, `microsoft smtp server`).
    pub with: Option<String>,
    /// The hop records authenticated submission (RFC 3848 protocol, or a comment).
    pub authenticated: bool,
    /// User name from `(Authenticated sender: user)` or qmail's `user@[ip]`.
    pub user: Option<String>,
}

/// RFC 3848 protocol names that mean the client authenticated.
const AUTH_PROTOCOLS: &[&str] = &[
    "esmtpa",
    "esmtpsa",
    "lmtpa",
    "lmtpsa",
    "smtpa", // seen from some Sendmail builds and qmail patches
    "utf8lmtpa",
    "utf8lmtpsa",
    "utf8smtpa",
    "utf8smtpsa",
];

/// Evidence header names (from `original::EVIDENCE`) that carry the
/// authenticated user.
const USER_HEADERS: &[&str] = &[
    "x-authenticated-sender",
    "x-authenticated-user",
    "x-authuser",
    "x-auth-id",
    "x-sender-id",
];

/// Evidence header names that carry the webmail or submission client address.
const CLIENT_IP_HEADERS: &[&str] = &["x-originating-ip", "x-sender-ip", "x-source-ip"];

/// Parses one unfolded Received value.
pub fn parse_received(value: &str) -> Hop {
    let flat = flatten(value);
    let h = read_hop(&flat, &mut Vec::new());
    let (client_ip, client_public) = match h.client {
        Some((text, addr)) => (Some(text), is_public_addr(addr)),
        None => (None, false),
    };
    Hop {
        client_ip,
        client_public,
        by: h.by.map(str::to_ascii_lowercase),
        with: h.with.map(str::to_ascii_lowercase),
        authenticated: h.authenticated,
        user: h.user,
    }
}

/// One Received field as `read_hop` finds it: what a `Hop` keeps, with the
/// host and protocol names borrowed as written. `analyse` reads every
/// hop but wants the `by` name of one and the protocol only as one of
/// `AUTH_PROTOCOLS`: their lowercase copies were made and freed for nothing.
struct HopText<'a> {
    /// The client address as written in the output, and as parsed.
    client: Option<(String, IpAddr)>,
    /// The first word after `by`, parentheses trimmed, case as written.
    by: Option<&'a str>,
    /// The protocol after `with` (`Microsoft SMTP Server` whole), case as
    /// written; never empty.
    with: Option<&'a str>,
    /// `with` as the entry of `AUTH_PROTOCOLS` it is (case ignored).
    auth_protocol: Option<&'static str>,
    authenticated: bool,
    user: Option<String>,
}

/// Reads one flattened Received value (see `flatten`). `parens` is a
/// buffer for the offsets of its parentheses, reused from hop to hop.
fn read_hop<'a>(flat: &'a str, parens: &mut Vec<usize>) -> HopText<'a> {
    // Cut the date off: it never holds anything but the time.
    let body_end = memchr::memrchr(b';', flat.as_bytes()).unwrap_or(flat.len());
    let flat = &flat[..body_end];
    // Keywords, markers and names are compared with ASCII case ignored and
    // lowercased where kept: no lowercase copy of the whole value.
    // The parentheses, found once: the keyword search and the client
    // address both need the comment depth.
    parens.clear();
    parens.extend(memchr::memchr2_iter(b'(', b')', flat.as_bytes()));
    let parens = &parens[..];
    let [from_at, by_at, with_at] = keywords(flat, parens, ["from", "by", "with"]);
    let mut hop = HopText {
        client: None,
        by: None,
        with: None,
        auth_protocol: None,
        authenticated: false,
        user: None,
    };
    if let Some(f) = from_at {
        let end = by_at.filter(|&b| b > f).unwrap_or(flat.len());
        let part = &flat[f + 4..end];
        let inner = parens.partition_point(|&p| p < f + 4)..parens.partition_point(|&p| p < end);
        hop.client = client_ip(part, f + 4, &parens[inner]);
        hop.user = user_in(part);
    }
    if let Some(b) = by_at {
        // The first word after `by` (the text has no white space but spaces).
        let rest = flat[b + 2..].trim_start_matches(' ');
        let end = memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
        hop.by = (end > 0).then(|| rest[..end].trim_matches(['(', ')']));
    }
    if let Some(w) = with_at {
        const MS: &str = "microsoft smtp server";
        let rest = flat[w + 4..].trim_start_matches(' ');
        let proto = if starts_with_ci(rest, MS) {
            &rest[..MS.len()]
        } else {
            let end = rest
                .bytes()
                .position(|b| matches!(b, b' ' | b'(' | b';'))
                .unwrap_or(rest.len());
            &rest[..end]
        };
        hop.auth_protocol = AUTH_PROTOCOLS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(proto))
            .copied();
        hop.authenticated = hop.auth_protocol.is_some();
        hop.with = (!proto.is_empty()).then_some(proto);
    }
    // Comments that say the session was authenticated: Postfix
    // `(Authenticated sender: u)`, Sendmail `(authenticated bits=0)` /
    // `(authenticated as u)`, Exim `(authenticated_id: u)`.
    // One search decides whether any of the markers below can be there.
    // (It looks for the `u`, rarer than the `a`.)
    if find_ci(flat, "authenticated", 1).is_none() {
        return hop;
    }
    // Each marker is looked up by its rarest byte: `(` or `_`.
    for (marker, pivot) in [
        ("(authenticated sender:", 0),
        ("(authenticated ", 0),
        ("authenticated_id", 13),
    ] {
        if find_ci(flat, marker, pivot).is_some() {
            hop.authenticated = true;
        }
    }
    if hop.user.is_none() {
        for (marker, pivot) in [
            ("(authenticated sender:", 0),
            ("(authenticated as ", 0),
            ("authenticated_id: ", 13),
        ] {
            if let Some(i) = find_ci(flat, marker, pivot) {
                let rest = &flat[i + marker.len()..];
                hop.user = rest
                    .split(|c: char| c == ')' || c.is_whitespace())
                    .find(|s| !s.is_empty())
                    .map(clean_user);
                break;
            }
        }
    }
    hop
}

/// The value with every white space character made a plain space. Values
/// come unfolded, so usually there is nothing to replace: then it is
/// borrowed (a SIMD look for the ASCII controls instead of a char walk).
fn flatten(value: &str) -> Cow<'_, str> {
    // One pass for both questions (a byte above ASCII, or one of the
    // controls TAB to CR), 16 bytes at a time in a loop without branches
    // that the compiler turns into vector compares: the three searches it
    // replaced each cost a call and a pass.
    let special = |c: u8| u8::from(c.wrapping_sub(b'\t') < 5) | u8::from(c >= 0x80);
    let block = |c: &[u8]| c.iter().fold(0, |a, &x| a | special(x)) != 0;
    let chunks = value.as_bytes().chunks_exact(16);
    let plain = !block(chunks.remainder()) && !chunks.into_iter().any(block);
    if plain {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(
            value
                .chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .collect(),
        )
    }
}

/// Does `s` start with `prefix` (lowercase ASCII), case ignored?
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The first occurrence of `needle` (lowercase ASCII) in `hay`, ASCII case
/// ignored: the offset `find` gives in the lowercased text. Candidates come
/// from memchr on the needle's byte at `pivot`, chosen rare in the text.
fn find_ci(hay: &str, needle: &str, pivot: usize) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let p = n[pivot];
    memchr::memchr2_iter(p, p.to_ascii_uppercase(), h)
        .filter_map(|i| i.checked_sub(pivot))
        .find(|&i| {
            h.get(i..i + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n))
        })
}

/// Byte offsets of each of `words` (lowercase) as a whole word in `s`, ASCII
/// case ignored, outside comments: the first occurrence of each. A word
/// starts the text or follows a space. Candidates come from memchr on the
/// word's first letter (rarer than the spaces a byte walk stops at), each
/// checked against the comment depth, kept up to date by walking `parens`
/// (the offsets of the parentheses in `s`) up to it.
fn keywords<const N: usize>(s: &str, parens: &[usize], words: [&str; N]) -> [Option<usize>; N] {
    let bytes = s.as_bytes();
    let mut found = [None; N];
    for (slot, word) in found.iter_mut().zip(words) {
        let w = word.as_bytes();
        let (mut next_paren, mut depth) = (0, 0i32);
        for i in memchr::memchr2_iter(w[0], w[0].to_ascii_uppercase(), bytes) {
            // The depth before `i`: the parentheses up to it.
            while let Some(&p) = parens.get(next_paren).filter(|&&p| p < i) {
                depth = if bytes[p] == b'(' {
                    depth + 1
                } else {
                    (depth - 1).max(0)
                };
                next_paren += 1;
            }
            let at_start = i == 0 || (bytes[i - 1] == b' ' && depth == 0);
            if at_start
                && bytes
                    .get(i..i + w.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
                && bytes.get(i + w.len()).is_none_or(|&c| c == b' ')
            {
                *slot = Some(i);
                break;
            }
        }
    }
    found
}

/// The client address in the `from` part: the first address inside a
/// comment (what the server saw) wins over a HELO literal outside it.
/// `parens` are the parentheses of `part`, as offsets from `offset` before it.
fn client_ip(part: &str, offset: usize, parens: &[usize]) -> Option<(String, IpAddr)> {
    // Comment runs are scanned as they come: a parenthesis separates tokens
    // like a space.
    let mut inside = IpScan::default();
    for (in_comment, run) in runs(part, offset, parens) {
        if in_comment {
            if let Some(ip) = inside.scan(run) {
                return Some(ip);
            }
        }
    }
    // None there: the runs outside, glued together (the text as it reads
    // without its comments), borrowed while there is only one. (Glued only
    // now: most hops name the client in a comment, and the glue was made
    // for nothing.)
    let mut outside = Cow::Borrowed("");
    for (in_comment, run) in runs(part, offset, parens) {
        if in_comment || run.is_empty() {
        } else if outside.is_empty() {
            outside = Cow::Borrowed(run);
        } else {
            outside.to_mut().push_str(run);
        }
    }
    IpScan::default().scan(&outside)
}

/// The runs of `part` between its parentheses (`parens`, offsets from
/// `offset` before it), each with whether it is inside a comment. An
/// unmatched `)` does not go below depth 0.
fn runs<'a>(
    part: &'a str,
    offset: usize,
    parens: &'a [usize],
) -> impl Iterator<Item = (bool, &'a str)> + 'a {
    let bytes = part.as_bytes();
    let (mut depth, mut start) = (0i32, 0);
    let ends = parens.iter().map(move |&p| p - offset);
    ends.chain(std::iter::once(bytes.len())).map(move |i| {
        let run = (depth > 0, &part[start..i]);
        match bytes.get(i) {
            Some(b'(') => depth += 1,
            Some(_) => depth = (depth - 1).max(0),
            None => {}
        }
        start = i + 1;
        run
    })
}

/// The first IP address among the tokens of `s`, skipping version numbers
/// (`Exim 4.97`, `8.17.1/8.17.1`, `version=TLS1_2`) and the client's own
/// claim after `HELO`/`helo=` (qmail's `(HELO ?192.168.0.5?)`).
fn first_ip(s: &str) -> Option<(String, IpAddr)> {
    IpScan::default().scan(s)
}

/// Words after which a token is a version or a claimed name, not an address.
const SKIP_AFTER: &[&str] = &[
    "version", "exim", "postfix", "sendmail", "v", "helo", "ehlo",
];

/// A set of bytes as a table: one load per byte tested, where a `matches!`
/// of several ranges and bytes is a chain of compares.
const fn byte_set(ranges: &[(u8, u8)]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut r = 0;
    while r < ranges.len() {
        let (mut b, last) = ranges[r];
        while b <= last {
            set[b as usize] = true;
            if b == last {
                break;
            }
            b += 1;
        }
        r += 1;
    }
    set
}

/// What ends a token for `IpScan` in ASCII text: white space and `[ ] @ = , ?`.
const TOKEN_ENDS: [bool; 256] = byte_set(&[
    (b'\t', b'\r'),
    (b' ', b' '),
    (b'[', b'['),
    (b']', b']'),
    (b'@', b'@'),
    (b'=', b'='),
    (b',', b','),
    (b'?', b'?'),
]);

/// What ends an Authentication-Results token: white space, `;` and parentheses.
const AR_TOKEN_ENDS: [bool; 256] =
    byte_set(&[(b'\t', b'\r'), (b' ', b' '), (b';', b';'), (b'(', b')')]);

/// `first_ip` over text given in pieces (each piece boundary separates
/// tokens), remembering the token before.
#[derive(Default)]
struct IpScan<'a> {
    prev: &'a str,
}

impl<'a> IpScan<'a> {
    /// The first address among the tokens of `s`. Tokens are split on white
    /// space and `[ ] @ = , ?`; in ASCII text byte by byte.
    fn scan(&mut self, s: &'a str) -> Option<(String, IpAddr)> {
        if !s.is_ascii() {
            let sep = |c: char| c.is_whitespace() || matches!(c, '[' | ']' | '@' | '=' | ',' | '?');
            return s.split(sep).find_map(|tok| self.token(tok));
        }
        let mut start = 0;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            if TOKEN_ENDS[usize::from(b)] {
                if let Some(ip) = self.token(&s[start..i]) {
                    return Some(ip);
                }
                start = i + 1;
            }
        }
        self.token(&s[start..])
    }

    fn token(&mut self, tok: &'a str) -> Option<(String, IpAddr)> {
        if tok.is_empty() {
            return None;
        }
        let prev = std::mem::replace(&mut self.prev, tok);
        if !ip_shaped(tok) || SKIP_AFTER.iter().any(|w| prev.eq_ignore_ascii_case(w)) {
            return None;
        }
        parse_ip(tok)
    }
}

/// Could `tok` be one of `parse_ip`'s forms? Past the punctuation it trims
/// and an `IPv6:` tag, an address (with or without a port) has only hex
/// digits, dots and colons, and a digit or a colon: any other token fails
/// every parse there, so host names and words skip the parse attempts.
fn ip_shaped(tok: &str) -> bool {
    // Most tokens are words and host names: one whose first byte is none
    // of those below (the forms' first bytes, the quotes trimmed and the
    // `I` of the tag) fails the tests after it, and is turned down here.
    let may_start = |b: &u8| {
        b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'<' | b'>' | b'"' | b'\'' | b'I' | b'i')
    };
    if !tok.as_bytes().first().is_some_and(may_start) {
        return false;
    }
    let t = trim_quotes(tok);
    let t = t
        .strip_prefix("IPv6:")
        .or_else(|| t.strip_prefix("ipv6:"))
        .unwrap_or(t)
        .as_bytes();
    // The `all` first: a word or host name fails it at its first letters.
    t.iter()
        .all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        && t.iter().any(|&b| b.is_ascii_digit() || b == b':')
}

/// `tok` without the `<`, `>`, `"` and `'` around it.
fn trim_quotes(tok: &str) -> &str {
    let q = |b: &u8| matches!(b, b'<' | b'>' | b'"' | b'\'');
    let b = tok.as_bytes();
    let start = b.iter().position(|c| !q(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !q(c)).map_or(start, |i| i + 1);
    &tok[start..end]
}

/// Parses `1.2.3.4`, `1.2.3.4:port`, `IPv6:2001:db8::1`, `2001:db8::1`:
/// the address as written in the output (see `normal`) and as parsed.
fn parse_ip(tok: &str) -> Option<(String, IpAddr)> {
    // An IPv4 address has a digit, an IPv6 one a colon: most tokens (words,
    // host names) have neither and need no parse attempt.
    if !tok.bytes().any(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    // Punctuation around a token (`mail.example.com.`, `<...>`); a colon is
    // only trimmed at the end, where it cannot be part of an IPv6 address
    // that still parses.
    let t = trim_quotes(tok);
    if let Some(ip) = parse_addr(t) {
        return Some((normal(t, ip), ip));
    }
    let t = t.trim_end_matches(['.', ':']);
    let t = t
        .strip_prefix("IPv6:")
        .or_else(|| t.strip_prefix("ipv6:"))
        .unwrap_or(t);
    if let Some(ip) = parse_addr(t) {
        return Some((normal(t, ip), ip));
    }
    // IPv4 with a port (Exim `[1.2.3.4]:54321` after the bracket split, or `1.2.3.4:25`).
    if let Some((a, p)) = t.rsplit_once(':') {
        if p.bytes().all(|b| b.is_ascii_digit()) && a.contains('.') {
            if let Some(v4) = ipv4(a) {
                // The parser takes only the canonical form (no leading zeros),
                // so the text is what the address would print as.
                return Some((a.to_string(), IpAddr::V4(v4)));
            }
        }
    }
    None
}

/// `str::parse::<IpAddr>`, with the IPv4 form (most hops) read by `ipv4`.
fn parse_addr(t: &str) -> Option<IpAddr> {
    match ipv4(t) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => t.parse().ok(),
    }
}

/// `str::parse::<Ipv4Addr>` on the bytes: four decimal parts of one to
/// three digits, none above 255, no leading zero (`01` is refused, as the
/// standard parser does). The standard parser walks the text char by char
/// through closures; this is one loop.
fn ipv4(t: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut n, mut v, mut digits) = (0, 0u32, 0);
    for &c in t.as_bytes() {
        match c {
            // A second digit after a leading zero is refused.
            b'0'..=b'9' if digits == 0 || (digits < 3 && v != 0) => {
                v = v * 10 + u32::from(c - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && n < 3 => {
                octets[n] = u8::try_from(v).ok()?;
                (n, v, digits) = (n + 1, 0, 0);
            }
            _ => return None,
        }
    }
    if digits == 0 || n < 3 {
        return None;
    }
    octets[3] = u8::try_from(v).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// `ip` (parsed from `text`) as written in the output: IPv4 as it was
/// written (the parser takes only the canonical form), IPv6 in its
/// canonical form, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address.
fn normal(text: &str, ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(_) => text.to_string(),
    }
}

/// qmail writes the authenticated user in the comment: `(tanaka@example.jp@[1.2.3.4])`.
fn user_in(part: &str) -> Option<String> {
    let i = find(part, "@[")?;
    let start = part[..i]
        .rfind(|c: char| c == '(' || c.is_whitespace())
        .map_or(0, |s| s + 1);
    let user = &part[start..i];
    (!user.is_empty() && !user.eq_ignore_ascii_case("unknown")).then(|| clean_user(user))
}

/// A user name as a single token: no spaces, no angle brackets, lowercase.
fn clean_user(s: &str) -> String {
    s.trim_matches(|c: char| matches!(c, '<' | '>' | '"' | '\'' | ',' | ';'))
        .to_ascii_lowercase()
}

/// Reads the evidence of one original.
pub fn analyse(o: &Original) -> Evidence {
    let mut ev = Evidence::default();
    // The domain of the sender (the original's From, cleaned by
    // `dsn::clean_address`), wanted only by the direct-to-mx test below:
    // the address is cleaned there, if no one did before (`Original::sender`
    // remembers it), not for every original.
    let from_domain = || {
        o.sender()
            .and_then(|a| memchr::memrchr(b'@', a.as_bytes()).map(|i| &a[i + 1..]))
    };

    // A webmail or submission client named in a header is the true origin:
    // the Received chain then starts inside the provider.
    let header_ip = o
        .evidence
        .iter()
        .filter(|(n, _)| CLIENT_IP_HEADERS.contains(n))
        .find_map(|(_, v)| {
            first_ip(v)
                .filter(|&(_, addr)| is_public_addr(addr))
                .map(|(text, _)| text)
        });
    if let Some(ip) = &header_ip {
        push(&mut ev.relay_ips, ip);
        push_label(&mut ev.auth, "x-originating-ip:", ip);
    }
    // Received fields are listed newest first; walk oldest first, each
    // hop read and done with in turn (nothing of a hop is kept but what
    // the first one from outside says).
    let mut first_outside: Option<FirstOutside> = None;
    let mut any_auth = false;
    // Room for the parentheses of a long hop made once, not grown from
    // nothing in steps on the first hops.
    let mut parens = Vec::with_capacity(32);
    for (i, r) in o.received.iter().rev().enumerate() {
        let flat = flatten(r);
        let h = read_hop(&flat, &mut parens);
        any_auth |= h.authenticated;
        if let Some((ip, addr)) = h.client {
            if is_public_addr(addr) {
                if first_outside.is_none() {
                    first_outside = Some(FirstOutside {
                        oldest: i == 0,
                        // Read only of the oldest hop (below): not copied
                        // for another.
                        by: h.by.filter(|_| i == 0).map(str::to_ascii_lowercase),
                        ip: ip.clone(),
                    });
                }
                // The hop's own string goes into the list (one copy per
                // bounce, for the origin, instead of one per hop).
                push_owned(&mut ev.relay_ips, ip);
            }
        }
        if h.authenticated {
            push_label(
                &mut ev.auth,
                "smtp-auth:",
                h.auth_protocol.unwrap_or("comment"),
            );
        }
        if let Some(u) = &h.user {
            push_label(&mut ev.auth, "authenticated-sender:", u);
        }
    }

    // The oldest hop from outside, unauthenticated, into a host that is not
    // the sender's own: nobody's submission server ever saw this message.
    if let Some(first) = first_outside.as_ref().filter(|f| !any_auth && f.oldest) {
        let by_own = match (&first.by, from_domain()) {
            (Some(by), Some(d)) => {
                by == d || by.strip_suffix(d).is_some_and(|rest| rest.ends_with('.'))
            }
            _ => true,
        };
        if !by_own {
            push(&mut ev.auth, "direct-to-mx");
        }
    }
    ev.origin_ip = header_ip.or_else(|| first_outside.map(|f| f.ip));

    for (name, value) in &o.evidence {
        let v = value.trim();
        if USER_HEADERS.contains(name) && !v.is_empty() {
            let user = v
                .split_whitespace()
                .next()
                .map(clean_user)
                .unwrap_or_default();
            push_label(&mut ev.auth, "authenticated-sender:", &user);
        } else if name.ends_with("-authas") && !v.is_empty() {
            push_label(&mut ev.auth, "ms-authas:", &v.to_ascii_lowercase());
        } else if *name == "x-php-originating-script" || *name == "x-php-script" {
            let script = v.split_whitespace().next().unwrap_or("");
            push_label(&mut ev.auth, "php-script:", script);
        } else if *name == "received-spf" {
            let verdict = v
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if matches!(verdict.as_str(), "fail" | "softfail") {
                push_label(&mut ev.auth, "spf=", &verdict);
            }
        }
    }
    for d in &o.dkim_domains {
        push_label(&mut ev.auth, "dkim:d=", d);
    }
    // The Authentication-Results labels, read with the original's header.
    for label in &o.auth_labels {
        push(&mut ev.auth, label);
    }
    keep_first(&mut ev.relay_ips);
    keep_first(&mut ev.auth);
    ev
}

/// The first hop (oldest first) whose client address is public.
struct FirstOutside {
    /// It is the oldest hop of all.
    oldest: bool,
    /// Its `by` host, lowercase; kept only when it is the oldest hop.
    by: Option<String>,
    /// Its client address.
    ip: String,
}

/// Labels from one Authentication-Results value (RFC 8601): failures of
/// SPF, DKIM and DMARC, and `smtp.auth=` / `auth=pass` (authenticated
/// submission), pushed to `out` unless there. `original::from_bytes` reads
/// them into `Original::auth_labels`.
pub(crate) fn auth_results(value: &str, out: &mut Vec<String>) {
    // Tokens end at white space, `;` and parentheses; ASCII text (nearly
    // every value) is read in place, case ignored, without a copy.
    if value.is_ascii() {
        return auth_results_ascii(value.as_bytes(), out);
    }
    let lower = value.to_ascii_lowercase();
    for tok in lower.split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ')') {
        auth_token(tok, out);
    }
}

/// `auth_results` of an ASCII value (`original::from_bytes` has checked
/// its bytes already).
pub(crate) fn auth_results_ascii(b: &[u8], out: &mut Vec<String>) {
    // Every label is a whole token with an `=`: `name=value`, the name
    // one of a few. Each `=` is looked at where such a name would start
    // and its value end, without reading the token around it (most `=`
    // are in comments and `smtp.mailfrom=`-like properties). A name that
    // starts at a separator holds no `=`: then this `=` is its token's
    // first, the one whose token `auth_token` reads.
    let sep = |c: u8| AR_TOKEN_ENDS[usize::from(c)];
    let name_before = |eq: usize, name: &str| {
        eq.checked_sub(name.len()).is_some_and(|start| {
            b[start..eq].eq_ignore_ascii_case(name.as_bytes()) && (start == 0 || sep(b[start - 1]))
        })
    };
    for eq in memchr::memchr_iter(b'=', b) {
        let rest = &b[eq + 1..];
        // The token ends where its value does.
        let value_is = |v: &str| {
            starts_with_ci_bytes(rest, v.as_bytes()) && rest.get(v.len()).is_none_or(|&c| sep(c))
        };
        // The names, told apart by their last letter: most `=` (`p=`,
        // `sp=`, `smtp.mailfrom=`) are passed over on the byte before them.
        let last = eq.checked_sub(1).map(|i| b[i].to_ascii_lowercase());
        let label = match last {
            Some(b'f') if name_before(eq, "spf") => ["spf=fail", "spf=softfail"]
                .into_iter()
                .find(|l| value_is(&l[4..])),
            Some(b'm') if name_before(eq, "dkim") => value_is("fail").then_some("dkim=fail"),
            Some(b'c') if name_before(eq, "dmarc") => value_is("fail").then_some("dmarc=fail"),
            Some(b'h') if name_before(eq, "auth") => value_is("pass").then_some("auth=pass"),
            Some(b'h') if name_before(eq, "smtp.auth") => {
                let end = rest.iter().position(|&c| sep(c)).unwrap_or(rest.len());
                let tok = &b[eq - "smtp.auth".len()..eq + 1 + end];
                // (ASCII: the text as it is.)
                auth_token(&String::from_utf8_lossy(tok), out);
                None
            }
            _ => None,
        };
        if let Some(label) = label {
            push(out, label);
        }
    }
}

/// The labels an Authentication-Results token is, whole (`auth_token`);
/// `auth_results_ascii` reads them as name and value.
const AR_LABELS: &[&str] = &[
    "spf=fail",
    "spf=softfail",
    "dkim=fail",
    "dmarc=fail",
    "auth=pass",
];

/// `starts_with_ci` on bytes.
fn starts_with_ci_bytes(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The label of one Authentication-Results token, if it makes one.
fn auth_token(tok: &str, out: &mut Vec<String>) {
    const SMTP_AUTH: &str = "smtp.auth=";
    if let Some(label) = AR_LABELS.iter().find(|l| tok.eq_ignore_ascii_case(l)) {
        push(out, label);
    } else if starts_with_ci(tok, SMTP_AUTH) {
        let user = &tok[SMTP_AUTH.len()..];
        if !user.is_empty() {
            push_label(out, SMTP_AUTH, &clean_user(user));
        }
    }
}

/// Adds a non-empty string to a list of distinct strings (searched while
/// short; a long list is made unique by `keep_first` at the end of
/// `analyse`).
fn push(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && (v.len() > SEARCHED || !v.iter().any(|x| x == s)) {
        v.push(s.to_string());
    }
}

/// `push` of a string already owned: moved into the list, not copied.
fn push_owned(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && (v.len() > SEARCHED || !v.contains(&s)) {
        v.push(s);
    }
}

/// `push` of `prefix` + `value` (a label never empty), built only when new.
fn push_label(v: &mut Vec<String>, prefix: &str, value: &str) {
    let n = prefix.len() + value.len();
    if v.len() > SEARCHED
        || !v
            .iter()
            .any(|x| x.len() == n && x.starts_with(prefix) && x.ends_with(value))
    {
        let mut s = String::with_capacity(n);
        s.push_str(prefix);
        s.push_str(value);
        v.push(s);
    }
}

/// True for an address on the public Internet: not private, loopback,
/// link-local, CGNAT (100.64/10), unspecified, multicast or reserved.
/// Documentation ranges are kept: samples and tests use them as public.
pub fn is_public(ip: &str) -> bool {
    ip.parse().is_ok_and(is_public_addr)
}

/// `is_public` of a parsed address.
fn is_public_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
                || o[0] >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_addr(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xff00) == 0xff00)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte search `keywords` replaced, as the reference.
    fn keyword_reference(s: &str, word: &str) -> Option<usize> {
        let bytes = s.as_bytes();
        let mut depth = 0i32;
        for i in 0..bytes.len() {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => depth = (depth - 1).max(0),
                _ if depth == 0
                    && bytes[i..].starts_with(word.as_bytes())
                    && (i == 0 || bytes[i - 1] == b' ')
                    && bytes.get(i + word.len()).is_none_or(|&c| c == b' ') =>
                {
                    return Some(i)
                }
                _ => {}
            }
        }
        None
    }

    #[test]
    fn long_evidence_lists_keep_each_entry_once_in_order() {
        // Past `SEARCHED` entries the lists take every push and are made
        // unique at the end (30,000 distinct labels were each compared
        // with all before them): the same lists as a search per push.
        fn unique(v: impl IntoIterator<Item = String>) -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for s in v {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
        let ip = |i: usize| format!("198.51.100.{}", i % 70);
        let o = Original {
            received: (0..300)
                .map(|i| format!("from h{i} (h{i} [{}]) by mx.example.org with ESMTP id {i}; Mon, 6 Jan 2025", ip(i)))
                .collect(),
            auth_labels: labels((0..300).map(|i| {
                format!("mx.example.org; spf=fail; smtp.auth=u{}@example.jp", i % 90)
            })),
            ..Default::default()
        };
        let ev = analyse(&o);
        // Oldest hop first: the Received fields read from the bottom.
        assert_eq!(ev.relay_ips, unique((0..300).rev().map(ip)));
        let labels = ["spf=fail".to_string()]
            .into_iter()
            .chain((0..90).map(|i| format!("smtp.auth=u{i}@example.jp")));
        assert_eq!(ev.auth, unique(labels));
    }

    #[test]
    fn byte_tables_are_their_byte_lists() {
        for b in 0..=255u8 {
            let ip = matches!(
                b,
                b'\t'..=b'\r' | b' ' | b'[' | b']' | b'@' | b'=' | b',' | b'?'
            );
            assert_eq!(TOKEN_ENDS[usize::from(b)], ip, "{b}");
            let ar = matches!(b, b'\t'..=b'\r' | b' ' | b';' | b'(' | b')');
            assert_eq!(AR_TOKEN_ENDS[usize::from(b)], ar, "{b}");
        }
    }

    #[test]
    fn keywords_agree_with_the_reference() {
        for s in [
            "from a.example (from b by c) by mx.example with esmtp",
            "by mx.example (postfix) with esmtps id x for <a@b>",
            "from  x  by  y with",
            "(from x) from y ) by z (with (nested) with) with smtp",
            "fromage by-pass bywith with",
            "",
            "from",
        ] {
            let parens: Vec<usize> = memchr::memchr2_iter(b'(', b')', s.as_bytes()).collect();
            let got = keywords(s, &parens, ["from", "by", "with"]);
            let want = ["from", "by", "with"].map(|w| keyword_reference(s, w));
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn ipv4_text_is_canonical() {
        // `normal` keeps an IPv4 address as written: the parser must take
        // only the form it prints.
        for s in ["192.0.2.1", "0.0.0.0", "255.255.255.255"] {
            assert_eq!(s.parse::<Ipv4Addr>().unwrap().to_string(), s);
            assert_eq!(ipv4(s), s.parse().ok(), "{s}");
        }
        for s in [
            "192.0.2.01",
            "0192.0.2.1",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.1000",
            "",
            "00.1.2.3",
            "1.2.3.04",
            "1.2.3.256",
            "1.2.3.4.",
        ] {
            assert!(s.parse::<Ipv4Addr>().is_err(), "{s}");
            assert_eq!(ipv4(s), None, "{s}");
        }
    }

    #[test]
    fn ip_shape_only_skips_what_cannot_parse() {
        for tok in [
            "mail.example.org",
            "unknown",
            "Postfix",
            "deadbeef",
            "IPv6:",
            "<x@y>",
            "TLS1_2",
            "1.2.3.4x",
            "IPV6:2001:db8::1",
            "2001:db8::g",
        ] {
            if !ip_shaped(tok) {
                assert_eq!(parse_ip(tok), None, "{tok}");
            }
        }
        for tok in [
            "192.0.2.1",
            "<192.0.2.1>",
            "192.0.2.1:25",
            "192.0.2.1.",
            "IPv6:2001:db8::1",
            "ipv6:2001:DB8::1",
            "::ffff:198.51.100.9",
            "'2001:db8::1'",
        ] {
            assert!(ip_shaped(tok), "{tok}");
            assert!(parse_ip(tok).is_some(), "{tok}");
        }
        assert_eq!(
            parse_ip("ipv6:2001:DB8::1").map(|(t, _)| t).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            parse_ip("192.0.2.1:25").map(|(t, _)| t).as_deref(),
            Some("192.0.2.1")
        );
    }

    #[test]
    fn case_of_keywords_and_markers_is_ignored() {
        let h = parse_received("FROM x (y [192.0.2.9]) (AUTHENTICATED SENDER: Tanaka) BY MX.Example WITH Microsoft SMTP Server id 1");
        assert_eq!(h.client_ip.as_deref(), Some("192.0.2.9"));
        assert_eq!(h.by.as_deref(), Some("mx.example"));
        assert_eq!(h.with.as_deref(), Some("microsoft smtp server"));
        assert!(h.authenticated);
        assert_eq!(h.user.as_deref(), Some("tanaka"));
        // Outside runs read as one text: a token may span a comment.
        let h = parse_received("from 192.0.2(x).7 by y");
        assert_eq!(h.client_ip.as_deref(), Some("192.0.2.7"));
    }

    #[test]
    fn non_ascii_outside_comments_does_not_panic() {
        // `keyword` once sliced the text at every byte, inside multi-byte
        // characters too.
        let hop =
            parse_received("héllo from mail.example (x [192.0.2.9]) by mx.example with ESMTP");
        assert_eq!(hop.client_ip.as_deref(), Some("192.0.2.9"));
        assert_eq!(hop.by.as_deref(), Some("mx.example"));
    }

    /// `Original::auth_labels` of these Authentication-Results values, as
    /// `original::from_bytes` reads them.
    fn labels(values: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut out = Vec::new();
        for v in values {
            auth_results(&v, &mut out);
        }
        keep_first(&mut out);
        out
    }

    #[test]
    fn auth_results_agree_with_the_token_reading() {
        // The reading the `=` lookups replaced: each token around an `=`.
        fn reference(value: &str) -> Vec<String> {
            let mut out = Vec::new();
            let b = value.as_bytes();
            let sep = |c: &u8| AR_TOKEN_ENDS[usize::from(*c)];
            let mut from = 0;
            while let Some(j) = memchr::memchr(b'=', &b[from..]) {
                let eq = from + j;
                let start = b[from..eq]
                    .iter()
                    .rposition(sep)
                    .map_or(from, |i| from + i + 1);
                let end = b[eq..].iter().position(sep).map_or(b.len(), |i| eq + i);
                auth_token(&value[start..end], &mut out);
                from = end;
            }
            out
        }
        let parts = [
            "spf=fail",
            "SPF=SoftFail",
            "spf=failx",
            "xspf=fail",
            "spf=fai",
            "dkim=fail",
            "dkim=pass",
            "dmarc=FAIL",
            "auth=pass",
            "auth=passed",
            "smtp.auth=U@Example.jp",
            "smtp.auth=",
            "smtp.auth=a=b",
            "x.smtp.auth=u",
            "a=spf=fail",
            "spf==fail",
            "=",
            "==",
            "p=NONE",
            "header.from=a",
            "(spf=fail)",
            ";",
            " ",
            "\t",
            "\r\n",
            "(",
            ")",
            "spf",
            "=fail",
            "auth=pass;",
            "dkim=fail)",
            "smtp.auth=\"u\";",
        ];
        // Every pair and triple of the parts, glued and spaced.
        for a in parts {
            for b in parts {
                for glue in ["", " "] {
                    for c in ["", "dmarc=fail", "=", "spf=softfail "] {
                        let v = format!("{a}{glue}{b}{c}");
                        let mut got = Vec::new();
                        auth_results(&v, &mut got);
                        assert_eq!(got, reference(&v), "{v:?}");
                    }
                }
            }
        }
    }

    fn orig(received: &[&str]) -> Original {
        Original {
            from: Some("Tanaka <tanaka@example.co.jp>".into()),
            received: received.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn postfix_esmtpsa() {
        let h = parse_received(
            "from [198.51.100.23] (unknown [198.51.100.23])\n\t(Authenticated sender: tanaka@example.co.jp)\n\tby smtp.example.co.jp (Postfix) with ESMTPSA id 4Xy7;\n\tWed, 5 Nov 2026 03:51:35 +0900",
        );
        assert_eq!(h.client_ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(h.by.as_deref(), Some("smtp.example.co.jp"));
        assert_eq!(h.with.as_deref(), Some("esmtpsa"));
        assert!(h.authenticated);
        assert_eq!(h.user.as_deref(), Some("tanaka@example.co.jp"));
        let h = parse_received("from mail.example.org (mail.example.org [192.0.2.44]) by mx.example.com (Postfix) with ESMTPS id 1; Mon, 1 Jan 2026 00:00:00 +0000");
        assert_eq!(h.client_ip.as_deref(), Some("192.0.2.44"));
        assert!(!h.authenticated);
    }

    #[test]
    fn exim_forms() {
        let h = parse_received("from [203.0.113.9] (port=51234 helo=[192.168.1.20])\n\tby box.example.net with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.97)\n\t(envelope-from <u@example.net>)\n\tid 1rABCD-000123-XY; Tue, 2 Jan 2026");
        assert_eq!(h.client_ip.as_deref(), Some("203.0.113.9"));
        assert!(h.authenticated);
        let h = parse_received("from host.example ([45.83.64.7]:40112 helo=bot) by mail.example.com with esmtp (Exim 4.96.2.1) id 1r");
        assert_eq!(h.client_ip.as_deref(), Some("45.83.64.7"));
        assert!(!h.authenticated);
    }

    #[test]
    fn sendmail_authenticated() {
        let h = parse_received("from pc01 (p123.example-isp.ne.jp [198.51.100.40] (may be forged))\n\t(authenticated bits=0)\n\tby mail.example.jp (8.17.1/8.17.1) with ESMTP id 5AB12345; Wed, 5 Nov 2026");
        assert_eq!(h.client_ip.as_deref(), Some("198.51.100.40"));
        assert!(h.authenticated);
        assert_eq!(h.with.as_deref(), Some("esmtp"));
    }

    #[test]
    fn qmail_forms() {
        let h = parse_received("(qmail 12345 invoked from network); 5 Nov 2026 03:00:00 -0000");
        assert_eq!(h, Hop::default());
        let h = parse_received("from unknown (HELO ?192.168.0.5?) (tanaka@example.jp@[203.0.113.77])\n\t(envelope-sender <tanaka@example.jp>)\n\tby smtp.example.jp (qmail-ldap-1.03) with ESMTPA; 5 Nov 2026");
        assert_eq!(h.client_ip.as_deref(), Some("203.0.113.77"));
        assert_eq!(h.user.as_deref(), Some("tanaka@example.jp"));
        assert!(h.authenticated);
    }

    #[test]
    fn exchange_internal_hops_and_version_numbers() {
        let h = parse_received("from TY2PR01MB1234.jpnprd01.prod.outlook.com (2603:1096:404:8053::17) by TY3PR01MB5678.jpnprd01.prod.outlook.com (2603:1096:400:1ba::9) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7633.12; Wed, 5 Nov 2026 03:00:00 +0000");
        assert_eq!(h.client_ip.as_deref(), Some("2603:1096:404:8053::17"));
        assert_eq!(h.with.as_deref(), Some("microsoft smtp server"));
        // Exchange's mapi hop: no address at all, and 15.1.2507.39 is a build.
        let h = parse_received("from EXCH01.corp.example.com ([fe80::1c2d:3e4f:5a6b:7c8d]) by EXCH02.corp.example.com ([fe80::9]) with mapi id 15.01.2507.039; Wed, 5 Nov 2026");
        assert_eq!(h.client_ip.as_deref(), Some("fe80::1c2d:3e4f:5a6b:7c8d"));
        let h = parse_received(
            "from mail.example.com by mx.example.org with SMTP (Postfix 3.5.1.1) id 9",
        );
        assert_eq!(h.client_ip, None);
    }

    #[test]
    fn google_submission() {
        let h = parse_received("from [192.168.1.2] ([203.0.113.5])\n        by smtp.gmail.com with ESMTPSA id d9443c01a7336-1f;\n        Wed, 05 Nov 2026 03:00:00 -0800 (PST)");
        assert_eq!(h.client_ip.as_deref(), Some("203.0.113.5"));
        assert!(h.authenticated);
        let h = parse_received(
            "by 2002:a05:6a10:8e0d:b0:5a1:2b3c:4d5e with SMTP id k13csp1234; Wed, 05 Nov 2026",
        );
        assert_eq!(h.client_ip, None);
        assert_eq!(h.by.as_deref(), Some("2002:a05:6a10:8e0d:b0:5a1:2b3c:4d5e"));
    }

    #[test]
    fn ipv6_literal() {
        let h = parse_received("from [IPv6:2001:db8::1] (unknown [IPv6:2001:db8::1]) by smtp.example.jp (Postfix) with ESMTPSA id 1");
        assert_eq!(h.client_ip.as_deref(), Some("2001:db8::1"));
        let h = parse_received("from x (x [::ffff:198.51.100.9]) by y with SMTP id 2");
        assert_eq!(h.client_ip.as_deref(), Some("198.51.100.9"));
    }

    #[test]
    fn hijack_chain_origin_is_the_authenticated_client() {
        let o = Original {
            dkim_domains: vec!["example.co.jp".into()],
            ..orig(&[
                "from mo21.example.co.jp (mo21.example.co.jp [192.0.2.50]) by mx.example.com with ESMTPS id A; Wed, 5 Nov 2026",
                "from smtp.example.co.jp (smtp.example.co.jp [192.0.2.31]) by mo21.example.co.jp (Postfix) with ESMTP id B; Wed, 5 Nov 2026",
                "from [10.0.0.5] (unknown [185.234.217.9]) (Authenticated sender: tanaka@example.co.jp) by smtp.example.co.jp (Postfix) with ESMTPSA id C; Wed, 5 Nov 2026",
                "from localhost (localhost [127.0.0.1]) by pc.local with SMTP id D",
            ])
        };
        let ev = analyse(&o);
        assert_eq!(ev.origin_ip.as_deref(), Some("185.234.217.9"));
        assert_eq!(
            ev.relay_ips,
            vec!["185.234.217.9", "192.0.2.31", "192.0.2.50"]
        );
        assert_eq!(
            ev.auth,
            vec![
                "smtp-auth:esmtpsa",
                "authenticated-sender:tanaka@example.co.jp",
                "dkim:d=example.co.jp"
            ]
        );
    }

    #[test]
    fn forged_chain_is_direct_to_mx_with_spf_fail() {
        let o = Original {
            auth_labels: labels(["mx.example.com; spf=fail (domain of x does not designate 45.83.64.9) smtp.mailfrom=example.co.jp; dkim=none; dmarc=fail (p=NONE) header.from=example.co.jp".into()]),
            ..orig(&["from unknown (HELO abc123.ru) ([45.83.64.9]) by mx.example.com (Postfix) with ESMTP id X for <a@example.com>; Wed, 5 Nov 2026"])
        };
        let ev = analyse(&o);
        assert_eq!(ev.origin_ip.as_deref(), Some("45.83.64.9"));
        assert_eq!(ev.auth, vec!["direct-to-mx", "spf=fail", "dmarc=fail"]);
    }

    #[test]
    fn webmail_header_names_the_origin() {
        let o = Original {
            evidence: vec![
                ("x-originating-ip", "[198.51.100.77]".into()),
                ("x-ms-exchange-organization-authas", "Internal".into()),
                ("x-authenticated-sender", "Tanaka@Example.jp".into()),
            ],
            auth_labels: labels(["spf=pass smtp.auth=tanaka@example.jp; auth=pass (LOGIN)".into()]),
            ..orig(&[
                "from mail.example.jp (mail.example.jp [192.0.2.7]) by mx.example.com with ESMTPS id 1",
                "from webmail.example.jp (localhost [127.0.0.1]) by mail.example.jp with HTTP; Wed",
            ])
        };
        let ev = analyse(&o);
        assert_eq!(ev.origin_ip.as_deref(), Some("198.51.100.77"));
        assert_eq!(ev.relay_ips, vec!["198.51.100.77", "192.0.2.7"]);
        for want in [
            "x-originating-ip:198.51.100.77",
            "ms-authas:internal",
            "authenticated-sender:tanaka@example.jp",
            "smtp.auth=tanaka@example.jp",
            "auth=pass",
        ] {
            assert!(ev.auth.iter().any(|a| a == want), "{want} in {:?}", ev.auth);
        }
        assert!(!ev.auth.iter().any(|a| a == "direct-to-mx"));
    }

    #[test]
    fn private_and_special_ranges_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "not-an-ip",
        ] {
            assert!(!is_public(ip), "{ip}");
        }
        for ip in ["100.128.0.1", "8.8.8.8", "2001:4860::8888", "192.0.2.5"] {
            assert!(is_public(ip), "{ip}");
        }
    }
}
