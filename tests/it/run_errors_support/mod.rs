//! Servers on 127.0.0.1:0 that fail in one way each, for `tests/it/timed/run_errors.rs`: HTTPS with a
//! certificate from a private CA (its PEM returned), one that resets every connection, one that
//! reads requests and never answers, and one that answers every request with a fixed status.
//! Each runs on its own threads until the test process ends.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A server and how many connections it accepted.
pub struct Server {
    pub addr: SocketAddr,
    accepted: Arc<AtomicU64>,
}

impl Server {
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Accepts connections and hands each to `serve` on its own thread.
fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let (count, serve) = (accepted.clone(), Arc::new(serve));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
    Server { addr, accepted }
}

/// Reads one request head (the tests send GETs without a body); false at EOF or on an error.
fn read_head(stream: &mut impl Read) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// Answers every request with `status` on a kept-alive connection.
pub fn status(code: u16) -> Server {
    listen(move |mut s| {
        while read_head(&mut s) {
            let answer = format!("HTTP/1.1 {code} X\r\ncontent-length: 2\r\n\r\nno");
            if s.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// Reads each request, then closes the connection with a reset (SO_LINGER 0): the client sees
/// "Connection reset by peer".
pub fn resets() -> Server {
    listen(|mut s| {
        if read_head(&mut s) {
            reset(&s);
        }
    })
}

fn reset(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized `linger` value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Reads requests and never answers (holds each connection for 30 s).
pub fn silent() -> Server {
    listen(|mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        while read_head(&mut s) {}
    })
}

/// An HTTPS server whose certificate (for 127.0.0.1 and localhost) is signed by a fresh private
/// CA; answers 200 to every request. Returns the server and the CA certificate as PEM.
pub fn https_private_ca() -> (Server, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "redline test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap(),
    );
    let server = listen(move |s| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        while read_head(&mut tls) {
            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            if tls.write_all(ok).and_then(|_| tls.flush()).is_err() {
                return;
            }
        }
    });
    (server, ca_cert.pem())
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
pub fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
