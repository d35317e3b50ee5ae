// Drives redline's control API with the real toxiproxy-node-client (npm, installed by
// .ci/install-test-deps). Usage: node toxiproxy_client_check.js CONTROL_PORT ECHO_UPSTREAM
// Exits non-zero with a message on the first failed check, including a missing client.
"use strict";
const net = require("net");
const assert = require("assert/strict");
const { Toxiproxy, ToxiproxyError } = require("toxiproxy-node-client");

function roundTrip(listen, msg = "ping") {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(":")), Number(listen.slice(listen.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const s = net.connect({ host, port }, () => s.write(msg));
    let got = "";
    s.setTimeout(10000, () => { s.destroy(); reject(new Error("timeout")); });
    s.on("data", (d) => {
      got += d;
      if (got.length >= msg.length) {
        s.destroy();
        resolve(Number(process.hrtime.bigint() - start) / 1e6);
      }
    });
    s.on("error", reject);
    s.on("close", () => { if (got.length < msg.length) reject(new Error("closed")); });
  });
}

async function main() {
  const [port, upstream] = process.argv.slice(2);
  const toxiproxy = new Toxiproxy(`http://127.0.0.1:${port}`);
  assert.match(await toxiproxy.getVersion(), /version/);

  const proxy = await toxiproxy.createProxy({ name: "node_db", listen: "127.0.0.1:0", upstream });
  assert.ok(!proxy.listen.endsWith(":0"), proxy.listen);
  await assert.rejects(toxiproxy.createProxy({ name: "node_db", listen: "127.0.0.1:0", upstream }), ToxiproxyError);

  const toxic = await proxy.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300 } });
  assert.equal(toxic.attributes.latency, 300);
  assert.ok((await roundTrip(proxy.listen)) >= 300, "latency toxic not applied");
  const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 0, jitter: 0 } });
  assert.equal(updated.attributes.latency, 0);
  assert.equal((await proxy.getToxic("slow")).attributes.latency, 0);
  await toxic.remove();
  await assert.rejects(proxy.getToxic("slow"), ToxiproxyError);

  const down = await proxy.update({ ...proxy.toJson(), enabled: false });
  assert.equal(down.enabled, false);
  await assert.rejects(roundTrip(proxy.listen));
  await toxiproxy.reset();
  assert.equal((await toxiproxy.get("node_db")).enabled, true);
  await roundTrip(proxy.listen);

  const populated = await toxiproxy.populate([{ name: "node_cache", listen: "127.0.0.1:0", upstream }]);
  assert.ok(populated.node_cache);
  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all).sort(), ["node_cache", "node_db"]);
  for (const p of Object.values(all)) await p.remove();
  assert.deepEqual(await toxiproxy.getAll(), {});
  console.log("toxiproxy-node-client: all checks passed");
}

main().catch((e) => { console.error(e); process.exit(1); });
