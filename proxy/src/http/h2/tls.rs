//! TLS for the HTTP/2 proxy: towards callers with a configured certificate and key (ALPN `h2`),
//! and optionally towards the upstream (ALPN `h2`, verified against a configured CA and name).
//! Built once from PEM text when the proxy is configured; bad PEM is an error naming which part.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The TLS sides of one HTTP/2 proxy.
#[derive(Clone)]
pub struct H2Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) upstream: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for H2Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Tls")
            .field("upstream_tls", &self.upstream.is_some())
            .finish()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    match certs {
        Ok(c) if !c.is_empty() => Ok(c),
        Ok(_) => Err(format!("{what}: expected PEM certificates, found none")),
        Err(e) => Err(format!("{what}: expected PEM certificates, {e}")),
    }
}

impl H2Tls {
    /// Callers get `cert_pem` (a chain, leaf first) with `key_pem`. With `upstream_ca_pem`, the
    /// upstream is reached over TLS too, its certificate verified against that CA for
    /// `upstream_name`.
    pub fn from_pem(
        cert_pem: &str,
        key_pem: &str,
        upstream: Option<(&str, &str)>,
    ) -> Result<H2Tls, String> {
        let chain = certs(cert_pem, "certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("key: expected a PEM private key, {e}"))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("certificate and key: {e}"))?;
        server.alpn_protocols = vec![b"h2".to_vec()];
        let upstream = match upstream {
            None => None,
            Some((ca_pem, name)) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs(ca_pem, "upstream CA")? {
                    roots.add(c).map_err(|e| format!("upstream CA: {e}"))?;
                }
                let mut client = rustls::ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                client.alpn_protocols = vec![b"h2".to_vec()];
                let name = ServerName::try_from(name.to_string())
                    .map_err(|e| format!("upstream name {name:?}: {e}"))?;
                Some((TlsConnector::from(Arc::new(client)), name))
            }
        };
        Ok(H2Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            upstream,
        })
    }
}
