// Fan-out client: N socket.io-client connections in one process, then a stream of
// publishes to their tenant room, timing each until all N received it.
//
//   node bench/js/fanout.mjs '{"url", "token", "api_key", "tenant_id", "n": 100,
//                              "events": 20, "warmup": 2, "gap_ms": 20}'
// Protocol (JSON lines): prints {kind: "connected", n, connect_ms, extensions};
// waits for {"cmd": "go"} on stdin; prints {kind: "result", ...}; exits when stdin
// closes. Every connection uses the default transport options, so the `ws` package
// offers permessage-deflate (socket.io-client's default perMessageDeflate
// {threshold: 1024}); `extensions` is what the server accepted.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const out = (kind, fields) => process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
const sockets = [];
const sentAt = new Map(); // title -> time sent
const received = new Map(); // title -> [latency ms]
let waiter = null;

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function connectOne() {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url + "/engagement", {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { token: cfg.token },
    });
    socket.on("alert", (envelope) => {
      const title = envelope?.data?.title;
      const start = sentAt.get(title);
      if (start === undefined) return;
      const list = received.get(title);
      list.push(performance.now() - start);
      if (list.length === cfg.n && waiter) waiter();
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(err.message)));
  });
}

async function publish(title) {
  sentAt.set(title, performance.now());
  received.set(title, []);
  const done = new Promise((resolve) => {
    waiter = resolve;
    setTimeout(resolve, cfg.event_timeout_ms ?? 20000);
  });
  const response = await fetch(cfg.url + "/api/publish", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": cfg.api_key },
    body: JSON.stringify({
      namespace: "/engagement",
      event: "alert",
      target: { tenant: cfg.tenant_id },
      data: { title, severity: "info" },
    }),
  });
  await response.arrayBuffer();
  await done;
  waiter = null;
  await new Promise((resolve) => setTimeout(resolve, cfg.gap_ms ?? 20));
  return received.get(title);
}

const t0 = performance.now();
const batch = cfg.connect_batch ?? 50;
try {
  for (let i = 0; i < cfg.n; i += batch) {
    const size = Math.min(batch, cfg.n - i);
    sockets.push(...(await Promise.all(Array.from({ length: size }, connectOne))));
  }
} catch (err) {
  out("error", { message: err.message, connected: sockets.length });
  process.exit(1);
}
out("connected", {
  n: sockets.length,
  connect_ms: performance.now() - t0,
  extensions: sockets[0]?.io?.engine?.transport?.ws?.extensions ?? null,
});

async function stream() {
  for (let i = 0; i < (cfg.warmup ?? 2); i += 1) await publish(`warmup-${i}`);
  const allMs = [];
  const firstMs = [];
  const receipts = [];
  let missing = 0;
  for (let i = 0; i < cfg.events; i += 1) {
    const list = await publish(`event-${i}`);
    missing += cfg.n - list.length;
    allMs.push(Math.max(...list));
    firstMs.push(Math.min(...list));
    receipts.push(...list);
  }
  allMs.sort((a, b) => a - b);
  receipts.sort((a, b) => a - b);
  out("result", {
    n: cfg.n,
    events: cfg.events,
    missing,
    all_p50_ms: pct(allMs, 50),
    all_p99_ms: pct(allMs, 99),
    first_p50_ms: pct(firstMs.sort((a, b) => a - b), 50),
    receipt_p50_ms: pct(receipts, 50),
    receipt_p99_ms: pct(receipts, 99),
  });
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const command = JSON.parse(line);
  if (command.cmd === "go") stream();
});
rl.on("close", () => {
  for (const socket of sockets) socket.disconnect();
  process.exit(0);
});
