//! Percent-encoding as both providers canonicalise it: RFC 3986 unreserved characters stay,
//! everything else becomes `%XY` with upper-case hex (a space is `%20`, never `+`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

const UNRESERVED_COMPLEMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED_COMPLEMENT).to_string()
}

/// Form encoding as the Alibaba SDK writes a body (Python `urlencode`): like `encode`, but a space is `+`.
pub fn form_encode(value: &str) -> String {
    encode(value).replace("%20", "+")
}

/// Decodes `%XY` escapes; with `plus_is_space`, `+` is a space too (form and query decoding).
pub fn decode(value: &str, plus_is_space: bool) -> String {
    let value = if plus_is_space {
        value.replace('+', " ")
    } else {
        value.to_string()
    };
    percent_decode_str(&value).decode_utf8_lossy().into_owned()
}

/// Sorted by name then value, both encoded, joined `k=v&k=v`: the canonical query of both providers.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits a raw query or form string into decoded pairs.
pub fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_probe_value_as_the_sdk_signs_it() {
        // alibaba-signing.md 2.3: the captured probe.
        assert_eq!(
            encode("web 1/2 *~+&=é中"),
            "web%201%2F2%20%2A~%2B%26%3D%C3%A9%E4%B8%AD"
        );
        assert_eq!(
            form_encode("web 1/2 *~+&=é中"),
            "web+1%2F2+%2A~%2B%26%3D%C3%A9%E4%B8%AD"
        );
    }

    #[test]
    fn canonical_query_sorts_bytewise() {
        let pairs = vec![
            ("Servers.2.X".to_string(), "b".to_string()),
            ("Servers.10.X".to_string(), "a b".to_string()),
        ];
        assert_eq!(canonical_query(&pairs), "Servers.10.X=a%20b&Servers.2.X=b");
    }

    #[test]
    fn parse_pairs_round_trips_wire_forms() {
        let pairs = parse_pairs("a=web+1%2F2&b=&c");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "web 1/2".into()),
                ("b".into(), String::new()),
                ("c".into(), String::new())
            ]
        );
    }
}
