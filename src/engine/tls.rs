//! rustls client configuration: webpki roots plus the scenario's `ca_file` bundle, or any
//! certificate with `insecure_tls = true`.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// ALPN offers: HTTP/1.1 only, HTTP/2 only, or both (h2 preferred) for `http = "auto"`.
pub const ALPN_H1: &[&[u8]] = &[b"http/1.1"];
pub const ALPN_H2: &[&[u8]] = &[b"h2"];
pub const ALPN_AUTO: &[&[u8]] = &[b"h2", b"http/1.1"];

/// A client config for HTTP/1.1 over TLS: any certificate when `insecure`, else the public
/// roots and the CA certificates of `ca_file`, if given.
pub fn client_config(insecure: bool, ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    client_config_alpn(insecure, ca_file, ALPN_H1)
}

/// The same, offering the protocols `alpn` in the handshake.
pub fn client_config_alpn(
    insecure: bool,
    ca_file: Option<&Path>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            for cert in read_ca_bundle(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The certificates of a PEM bundle; an unreadable file, a malformed PEM section or a file
/// without any certificate is an error that says which.
pub fn read_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        certs.push(cert.map_err(|e| format!("{}: not a PEM bundle: {e}", path.display()))?);
    }
    if certs.is_empty() {
        return Err(format!(
            "{}: expected PEM certificates (-----BEGIN CERTIFICATE-----), found none",
            path.display()
        ));
    }
    Ok(certs)
}

/// Accepts any server certificate (self-signed staging), but still checks that the handshake
/// was signed by the key in that certificate, so the connection is at least not trivially forged.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
