//! TLS with rustls, as libpq's `sslmode` means it: `require` encrypts
//! without checking who answers, `verify-ca` checks the
//! chain to a trusted root, `verify-full` also the host name. No OpenSSL.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::settings::{Settings, TlsMode};

/// The connector for `settings`, or why none can be made (a `verify-*`
/// mode without a root certificate, an unreadable one).
pub fn connector(settings: &Settings) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = match settings.tls {
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => None,
        TlsMode::VerifyCa | TlsMode::VerifyFull => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(settings)?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|error| format!("cannot verify certificates: {error}"))?,
        ),
    };
    let verifier = Verifier {
        chain,
        check_name: settings.tls == TlsMode::VerifyFull,
        algorithms: provider.signature_verification_algorithms,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("cannot set up TLS: {error}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The trusted roots of the `verify-*` modes.
fn roots(settings: &Settings) -> Result<RootCertStore, String> {
    let Some(path) = &settings.root_cert else {
        return Err(
            "sslmode verify-ca and verify-full need a root certificate: add `sslrootcert=FILE` to the URL, or set PGSSLROOTCERT, or put it in ~/.postgresql/root.crt"
                .to_owned(),
        );
    };
    let unreadable = |error: &dyn std::fmt::Display| {
        format!("cannot read root certificate `{}`: {error}", path.display())
    };
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path).map_err(|error| unreadable(&error))? {
        roots
            .add(certificate.map_err(|error| unreadable(&error))?)
            .map_err(|error| unreadable(&error))?;
    }
    if roots.is_empty() {
        return Err(format!("`{}` holds no certificate", path.display()));
    }
    Ok(roots)
}

/// The server's certificate as `sslmode` asks: not checked (`require`,
/// `prefer`: encrypted, the server unauthenticated, as libpq does without
/// a root certificate), chained to a trusted root (`verify-ca`), and also
/// naming the host (`verify-full`). The handshake signatures are always
/// checked.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
