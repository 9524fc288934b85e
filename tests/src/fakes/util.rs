//! Identifiers and timestamps in the shapes the providers use.

use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::macros::format_description;

fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

/// `8-4-4-4-12` hex, lower case (ALB job IDs, GA request IDs).
pub fn uuid_lower() -> String {
    let h = random_hex(32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `8-4-4-4-12` hex, upper case (Alibaba `RequestId`).
pub fn uuid_upper() -> String {
    uuid_lower().to_ascii_uppercase()
}

/// 32 lower-case hex characters (Huawei `X-Request-Id`, ROMA IDs).
pub fn hex32() -> String {
    random_hex(32)
}

/// `len` random lower-case letters and digits (SLB `rsp-` suffixes).
pub fn alnum(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

pub fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `2020-07-23T07:24:33Z` (ROMA, SLB).
pub fn iso_seconds() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// `2019-01-08T01:21:37.151Z` (GA).
pub fn iso_millis() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let u = uuid_upper();
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
        assert!(!u.chars().any(|c| c.is_ascii_lowercase()));
        assert_eq!(hex32().len(), 32);
        assert_eq!(iso_seconds().len(), 20);
        assert_eq!(iso_millis().len(), 24);
    }
}
