//! Loopback ports for tests that must name a port before the server that takes it starts.

/// A port on 127.0.0.1 that was free a moment ago (bound, read, released). Only for a process or
/// server that must be told its port up front; anything that can bind `127.0.0.1:0` itself should.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
