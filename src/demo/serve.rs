//! The HTTP/1.1 accept loop shared by the reference service and the stub dependency, with graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long a stop waits for in-flight requests before closing their connections.
const DRAIN: Duration = Duration::from_secs(5);

/// A server running on a background task; `stop` ends it gracefully.
#[derive(Debug)]
pub(crate) struct Server {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves every connection accepted on `listener` with `handler`.
    pub(crate) fn spawn<H, Fut>(listener: TcpListener, handler: H) -> Self
    where
        H: Fn(SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, handler, stop_rx));
        Self { stop, task }
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop<H, Fut>(listener: TcpListener, handler: H, mut stop: watch::Receiver<bool>)
where
    H: Fn(SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(serve_conn(stream, peer, handler.clone(), stop.clone()));
                }
                // Out of file descriptors or a similar transient error: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} });
    if drained.await.is_err() {
        conns.abort_all();
    }
}

async fn serve_conn<H, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: H,
    mut stop: watch::Receiver<bool>,
) where
    H: Fn(SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req| {
        let reply = handler(peer, req);
        async move { Ok::<_, Infallible>(reply.await) }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
