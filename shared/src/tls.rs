//! One TLS trust setup for every client a function holds (provider calls, Slack replies and the
//! AWS SDK, which all share one reqwest client: crate::transport): Mozilla's root certificates
//! compiled in, instead of reading and parsing the system trust store once per client at cold
//! start (BENCHMARKS.md: that was most of init).

use rustls::RootCertStore;
use std::sync::{Arc, LazyLock};

/// The roots, parsed once per process.
static ROOTS: LazyLock<Arc<RootCertStore>> = LazyLock::new(|| {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    Arc::new(roots)
});

/// The rustls configuration for reqwest: the roots above, aws-lc-rs, TLS 1.2 and 1.3.
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(ROOTS.clone())
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_is_usable() {
        assert_eq!(ROOTS.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(ROOTS.len() > 100, "Mozilla's store has well over 100 roots");
    }

    #[test]
    fn the_client_config_builds() {
        client_config().unwrap();
    }
}
