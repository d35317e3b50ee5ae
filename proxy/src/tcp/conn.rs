//! One relayed connection: dial the upstream, run both directions concurrently in one task, and
//! end the connection the way the toxics ask (half-close, close, or reset).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::chain::{Chain, End, Out};
use super::delay_line::DelayLine;
use super::pipe::{dropped, Pipe};
use super::Shared;
use crate::toxic::Stream;

/// Decrements the open-connection gauge (incremented at accept) however the connection ends.
struct OpenGuard<'a>(&'a Shared);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Relays `client` to the upstream until both directions end or a toxic or the proxy ends it.
/// `index` numbers connections from 0, so a seed reproduces every coin flip per connection.
pub(crate) async fn serve(shared: Arc<Shared>, mut client: TcpStream, index: u64, epoch: u64) {
    let _open = OpenGuard(&shared); // incremented by the accept loop
    let upstream_addr = shared.upstream();
    let kill = dropped(shared.epoch.subscribe(), epoch);
    let connect = timeout(
        shared.limits.connect_timeout,
        TcpStream::connect(upstream_addr.as_str()),
    );
    let mut upstream = tokio::select! {
        _ = kill => return,
        c = connect => match c {
            Ok(Ok(s)) => s,
            _ => {
                shared.counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        },
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    let seed = shared.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    let up = Pipe {
        src: client_read,
        out: Out {
            dst: upstream_write,
            rng: SmallRng::seed_from_u64(seed),
            bytes: &shared.counters.bytes_upstream,
            toxics: shared.toxics.subscribe(),
            line: DelayLine::default(),
        },
        buf: vec![0; shared.limits.buffer_size].into_boxed_slice(),
        chain: Chain::new(Stream::Upstream, shared.counters.clone()),
    };
    let down = Pipe {
        src: upstream_read,
        out: Out {
            dst: client_write,
            rng: SmallRng::seed_from_u64(seed ^ 1),
            bytes: &shared.counters.bytes_downstream,
            toxics: shared.toxics.subscribe(),
            line: DelayLine::default(),
        },
        buf: vec![0; shared.limits.buffer_size].into_boxed_slice(),
        chain: Chain::new(Stream::Downstream, shared.counters.clone()),
    };
    let kill = dropped(shared.epoch.subscribe(), epoch);
    let ended = tokio::select! {
        end = kill => Err(end),
        both = async { tokio::try_join!(up.run(), down.run()) } => both.map(|_| ()),
    };
    if let Err(End::Reset) = ended {
        // SO_LINGER 0 makes the close below send RST instead of FIN.
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
}
