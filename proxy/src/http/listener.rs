//! The accept loop: binds, admits connections under the cap, and closes the listening socket
//! while the proxy is down so that new connections are refused by the kernel.

use super::{conn, Shared};
use crate::http::stats::Counters;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Binds with SO_REUSEADDR so the same port can be bound again after a down period.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Runs until the proxy is stopped.
pub(crate) async fn run(shared: Arc<Shared>, first: TcpListener) {
    let mut listener = Some(first);
    let mut state = shared.state.subscribe();
    loop {
        let now = *state.borrow_and_update();
        if now.stopped {
            return;
        }
        if !now.up {
            listener = None;
            if state.changed().await.is_err() {
                return;
            }
            continue;
        }
        let l = match &listener {
            Some(l) => l,
            None => match bind(shared.listen) {
                Ok(l) => listener.insert(l),
                Err(_) => {
                    // The port may be briefly unavailable; try again shortly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tokio::select! {
            accepted = l.accept() => match accepted {
                Ok((stream, _)) => admit(&shared, stream),
                // Out of descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            changed = state.changed() => if changed.is_err() { return },
        }
    }
}

fn admit(shared: &Arc<Shared>, stream: TcpStream) {
    Counters::inc(&shared.counters.connections_total);
    match shared.slots.clone().try_acquire_owned() {
        Ok(permit) => {
            let _ = stream.set_nodelay(true);
            let state = shared.state.subscribe();
            tokio::spawn(conn::serve(shared.clone(), stream, permit, state));
        }
        Err(_) => {
            Counters::inc(&shared.counters.connections_rejected);
            let _ = stream.set_zero_linger();
        }
    }
}
