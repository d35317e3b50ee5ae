//! The accept loop: binds, admits connections under the cap (shedding idle ones first, see
//! `shed.rs`), and closes the listening socket while the proxy is down so that new connections
//! are refused by the kernel.

use super::shed::{SHED_RETRY, SHED_WAIT};
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

/// Serves `stream` under the cap: a free slot, else the slot of an idle connection shed for
/// it (waited for at most `SHED_WAIT`), else a refusal (RST, counted with its time).
fn admit(shared: &Arc<Shared>, stream: TcpStream) {
    Counters::inc(&shared.counters.connections_total);
    match shared.slots.clone().try_acquire_owned() {
        Ok(permit) => start(shared, stream, permit),
        Err(_) if shared.conns.shed_one() => {
            let shared = shared.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + SHED_WAIT;
                let slot = shared.slots.clone().acquire_owned();
                tokio::pin!(slot);
                loop {
                    let retry = tokio::time::Instant::now() + SHED_RETRY;
                    tokio::select! {
                        got = &mut slot => match got {
                            Ok(permit) => return start(&shared, stream, permit),
                            Err(_) => return refuse(&shared, stream),
                        },
                        _ = tokio::time::sleep_until(retry.min(deadline)) => {}
                    }
                    // The victim's slot can be freed before this task queues for it and go to a
                    // caller accepted meanwhile: shed one more, within the bound.
                    if tokio::time::Instant::now() >= deadline || !shared.conns.shed_one() {
                        return refuse(&shared, stream);
                    }
                }
            });
        }
        Err(_) => refuse(shared, stream),
    }
}

fn start(shared: &Arc<Shared>, stream: TcpStream, permit: tokio::sync::OwnedSemaphorePermit) {
    let _ = stream.set_nodelay(true);
    let state = shared.state.subscribe();
    if shared.http2 {
        tokio::spawn(super::h2::conn::serve(
            shared.clone(),
            stream,
            permit,
            state,
        ));
        return;
    }
    tokio::spawn(conn::serve(shared.clone(), stream, permit, state));
}

fn refuse(shared: &Shared, stream: TcpStream) {
    Counters::inc(&shared.counters.connections_rejected);
    shared
        .refusals
        .note(shared.clock_origin.elapsed().as_millis() as u64);
    let _ = stream.set_zero_linger();
}
