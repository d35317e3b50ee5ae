//! Rust test services that implement the documented rules of breaker libraries that cannot be
//! installed here (resilience4j, Hystrix, Polly, gobreaker, Envoy).
