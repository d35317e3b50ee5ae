//! One relayed connection: dial the upstream, run both directions concurrently in one task, and
//! end the connection the way the toxics ask (half-close, close, or reset).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::chain::{Chain, End, Out};
use super::conn_log::{ClosedBy, ConnEntry};
use super::delay_line::DelayLine;
use super::pipe::{dropped, Pipe};
use super::track::ConnTrack;
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
    let track = ConnTrack::new();
    let upstream_addr = shared.upstream();
    let kill = dropped(shared.epoch.subscribe(), epoch);
    let connect = timeout(
        shared.limits.connect_timeout,
        TcpStream::connect(upstream_addr.as_str()),
    );
    let mut upstream = tokio::select! {
        _ = kill => {
            track.closed(ClosedBy::Proxy, None);
            return record(&shared, &track, Relayed::default());
        }
        c = connect => match c {
            Ok(Ok(s)) => s,
            _ => {
                shared.counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
                track.closed(ClosedBy::UpstreamUnreachable, None);
                return record(&shared, &track, Relayed::default());
            }
        },
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    let seed = shared.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    let mut up = Pipe {
        src: client_read,
        out: Out {
            dst: upstream_write,
            rng: SmallRng::seed_from_u64(seed),
            bytes: &shared.counters.bytes_upstream,
            toxics: shared.toxics.subscribe(),
            line: DelayLine::default(),
            sent: 0,
            track: &track,
        },
        buf: vec![0; shared.limits.buffer_size].into_boxed_slice(),
        chain: Chain::new(Stream::Upstream, shared.counters.clone()),
        from: ClosedBy::Client,
        to: ClosedBy::Upstream,
        dir: 0,
        track: &track,
    };
    let mut down = Pipe {
        src: upstream_read,
        out: Out {
            dst: client_write,
            rng: SmallRng::seed_from_u64(seed ^ 1),
            bytes: &shared.counters.bytes_downstream,
            toxics: shared.toxics.subscribe(),
            line: DelayLine::default(),
            sent: 0,
            track: &track,
        },
        buf: vec![0; shared.limits.buffer_size].into_boxed_slice(),
        chain: Chain::new(Stream::Downstream, shared.counters.clone()),
        from: ClosedBy::Upstream,
        to: ClosedBy::Client,
        dir: 1,
        track: &track,
    };
    let kill = dropped(shared.epoch.subscribe(), epoch);
    let ended = tokio::select! {
        end = kill => {
            track.closed(ClosedBy::Proxy, None);
            Err(end)
        }
        both = async { tokio::try_join!(up.run(), down.run()) } => both.map(|_| ()),
    };
    let mut toxics = up.chain.seen.clone();
    toxics.extend(
        down.chain
            .seen
            .iter()
            .filter(|t| !up.chain.seen.contains(t)),
    );
    let relayed = Relayed {
        bytes_upstream: up.out.sent,
        bytes_downstream: down.out.sent,
        toxics,
    };
    drop((up, down));
    if let Err(End::Reset) = ended {
        // SO_LINGER 0 makes the close below send RST instead of FIN.
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
    record(&shared, &track, relayed);
}

#[derive(Default)]
struct Relayed {
    bytes_upstream: u64,
    bytes_downstream: u64,
    toxics: Vec<&'static str>,
}

/// Pushes the connection's log entry (once, at its end: the data path never locks).
fn record(shared: &Shared, track: &ConnTrack, r: Relayed) {
    let ms =
        |a: tokio::time::Instant| a.saturating_duration_since(track.opened).as_secs_f64() * 1000.0;
    let now = tokio::time::Instant::now();
    let (closed_by, toxic, at) = track.first().unwrap_or((ClosedBy::Proxy, None, now));
    let opened = track.opened.into_std();
    shared.conns.push(ConnEntry {
        seq: 0,
        t_ms: opened
            .saturating_duration_since(shared.clock_origin)
            .as_secs_f64()
            * 1000.0,
        bytes_upstream: r.bytes_upstream,
        bytes_downstream: r.bytes_downstream,
        toxics: r.toxics.iter().map(|t| t.to_string()).collect(),
        closed_by,
        toxic: toxic.map(str::to_string),
        closed_ms: ms(at),
        gave_up_ms: track.gave_up().map(|(at, _)| ms(at)),
        held_ms: track
            .gave_up()
            .map(|(at, since)| at.saturating_duration_since(since).as_secs_f64() * 1000.0),
        total_ms: ms(now),
    });
}
