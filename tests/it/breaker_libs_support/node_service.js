// A tiny Node http service whose one dependency call goes through a real breaker library
// (opossum or cockatiel), configured from the JSON given on the command line.
//
// usage: node node_service.js MODULES_DIR LIB CONFIG_JSON DEPENDENCY_URL
// GET /items/N calls GET DEPENDENCY_URL/users/N through the breaker: 200 on success, 502 when the
// call failed, 503 when the breaker refused it. GET /health answers 200 without a call.
// Prints "listening PORT" once it accepts connections (port 0: the kernel picks one on 127.0.0.1).
'use strict';
const http = require('http');
const path = require('path');

const [modules, lib, configText, depUrl] = process.argv.slice(2);
const config = JSON.parse(configText);
const dep = new URL(depUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const callTimeoutMs = config.callTimeoutMs || 300;

function callDependency (id, requestId) {
  return new Promise((resolve, reject) => {
    const req = http.get({
      host: dep.hostname,
      port: dep.port,
      path: '/users/' + id,
      agent,
      headers: { 'x-request-id': requestId || '' }
    }, res => {
      res.resume();
      res.on('end', () => res.statusCode >= 500
        ? reject(new Error('dependency answered ' + res.statusCode))
        : resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(callTimeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function opossumGuard () {
  const CircuitBreaker = require(path.join(modules, 'opossum'));
  // The options object exactly as a user would write it (see tests/fixtures/breakers/opossum.md).
  const breaker = new CircuitBreaker(callDependency, config.options);
  return (id, rid) => breaker.fire(id, rid).then(
    () => 200,
    err => (err && err.code === 'EOPENBREAKER') ? 503 : 502);
}

function cockatielGuard () {
  const c = require(path.join(modules, 'cockatiel'));
  const o = config.options;
  let breaker;
  if (o.breaker === 'sampling') {
    breaker = new c.SamplingBreaker(o.sampling);
  } else if (o.breaker === 'count') {
    breaker = new c.CountBreaker(o.count);
  } else {
    breaker = new c.ConsecutiveBreaker(o.consecutive);
  }
  // ExponentialBackoff's default generator adds decorrelated jitter; `"jitter": false` picks the
  // library's noJitterGenerator (initialDelay * 2^attempt, capped at maxDelay).
  const halfOpenAfter = o.backoff
    ? new c.ExponentialBackoff(o.backoff.jitter === false
      ? { ...o.backoff, generator: c.noJitterGenerator }
      : o.backoff)
    : o.halfOpenAfter;
  const policy = c.circuitBreaker(c.handleAll, { halfOpenAfter, breaker });
  return (id, rid) => policy.execute(() => callDependency(id, rid)).then(
    () => 200,
    err => (err instanceof c.BrokenCircuitError || err instanceof c.IsolatedCircuitError) ? 503 : 502);
}

const guard = lib === 'opossum' ? opossumGuard() : cockatielGuard();

const server = http.createServer((req, res) => {
  const m = /^\/items\/(\d+)/.exec(req.url);
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  if (!m) {
    res.writeHead(404);
    res.end();
    return;
  }
  guard(m[1], req.headers['x-request-id']).then(status => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(String(status));
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
