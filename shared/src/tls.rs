//! One TLS trust setup for every client a function holds (provider calls, Slack replies and the
//! AWS SDK): Mozilla's root certificates compiled in, instead of reading and parsing the system
//! trust store once per client at cold start (BENCHMARKS.md: that was most of init).

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use base64::Engine;
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

/// The AWS SDK's HTTPS client, trusting the same roots and not the system store. The SDK takes
/// roots only as PEM, so the compiled-in certificates are handed over in that form.
pub fn aws_http_client() -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, String> {
    let context = TlsContext::builder()
        .with_trust_store(
            TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(pem_bundle()),
        )
        .build()
        .map_err(|e| e.to_string())?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

fn pem_bundle() -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut pem = String::with_capacity(256 * 1024);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let encoded = engine.encode(cert.as_ref());
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
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
    fn the_pem_bundle_holds_every_root() {
        let pem = pem_bundle();
        let ders: Vec<_> = rustls::pki_types::pem::PemObject::pem_slice_iter(&pem)
            .collect::<Result<Vec<rustls::pki_types::CertificateDer>, _>>()
            .unwrap();
        assert_eq!(ders.as_slice(), webpki_root_certs::TLS_SERVER_ROOT_CERTS);
    }

    #[test]
    fn both_clients_build() {
        client_config().unwrap();
        aws_http_client().unwrap();
    }
}
