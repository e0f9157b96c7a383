// Closed-loop publish throughput with a delivery check, for `python -m bench compare`.
//
//   node bench/js/publish_check.mjs '{"urls": [...], "api_key", "tenant_id", "token",
//     "namespace": "/engagement", "batch": 0 (single) or N, "concurrency": 8
//     (per url), "duration_s": 4}'
//
// One subscriber per url (a socket.io-client connection of a user of the tenant)
// receives the tenant's alerts. `concurrency` workers per url POST back to back
// (keep-alive fetch) to /api/publish, or /api/publish/batch with `batch` events,
// for `duration_s`. Then every subscriber must have received exactly the ids the
// 202 answers returned, in increasing order: nothing lost, duplicated or reordered.
// Prints {kind: "result", requests, events, events_per_s, p50_ms, p99_ms,
// statuses, missing, duplicates, out_of_order, unexpected}.
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const out = (kind, fields) => process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
const tag = `pc-${Date.now()}`;
const subscribers = [];
const published = new Set();
const latencies = [];
const statuses = {};
let stop = false;

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function subscribe(url) {
  return new Promise((resolve, reject) => {
    const sub = { ids: [], socket: null };
    sub.socket = io(url + cfg.namespace, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { token: cfg.token },
    });
    sub.socket.on("alert", (envelope) => {
      if (envelope?.data?.title === tag) sub.ids.push(envelope.id);
    });
    sub.socket.once("connect", () => resolve(sub));
    sub.socket.once("connect_error", (err) => reject(new Error(err.message)));
  });
}

function item() {
  return {
    namespace: cfg.namespace,
    event: "alert",
    target: { tenant: cfg.tenant_id },
    data: { title: tag, severity: "info" },
  };
}

async function worker(url) {
  const batch = cfg.batch > 0;
  const path = batch ? "/api/publish/batch" : "/api/publish";
  const body = JSON.stringify(batch ? Array.from({ length: cfg.batch }, item) : item());
  const headers = { "Content-Type": "application/json", "X-API-Key": cfg.api_key };
  while (!stop) {
    const start = performance.now();
    try {
      const response = await fetch(url + path, { method: "POST", headers, body });
      const text = await response.text();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 202) {
        const answer = JSON.parse(text);
        for (const result of batch ? answer.results : [answer]) published.add(result.id);
      }
    } catch (err) {
      const code = err.cause?.code ?? err.name;
      statuses[code] = (statuses[code] ?? 0) + 1;
    }
    latencies.push(performance.now() - start);
  }
}

try {
  subscribers.push(...(await Promise.all(cfg.urls.map(subscribe))));
} catch (err) {
  out("error", { message: err.message });
  process.exit(1);
}
const t0 = performance.now();
setTimeout(() => {
  stop = true;
}, cfg.duration_s * 1000);
const workers = [];
for (const url of cfg.urls) for (let i = 0; i < cfg.concurrency; i += 1) workers.push(worker(url));
await Promise.all(workers);
const seconds = (performance.now() - t0) / 1000;

// Wait for the deliveries (at most 20 s without progress).
let lastTotal = -1;
let lastChange = performance.now();
for (;;) {
  const total = subscribers.reduce((sum, sub) => sum + sub.ids.length, 0);
  if (total >= published.size * subscribers.length) break;
  if (total !== lastTotal) {
    lastTotal = total;
    lastChange = performance.now();
  } else if (performance.now() - lastChange > 20000) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}

let missing = 0;
let duplicates = 0;
let outOfOrder = 0;
let unexpected = 0;
for (const sub of subscribers) {
  const seen = new Set();
  let last = -Infinity;
  for (const id of sub.ids) {
    if (seen.has(id)) duplicates += 1;
    else if (id < last) outOfOrder += 1;
    if (!published.has(id)) unexpected += 1;
    seen.add(id);
    last = Math.max(last, id);
  }
  for (const id of published) if (!seen.has(id)) missing += 1;
}
latencies.sort((a, b) => a - b);
out("result", {
  requests: latencies.length,
  events: published.size,
  seconds,
  events_per_s: published.size / seconds,
  p50_ms: pct(latencies, 50),
  p99_ms: pct(latencies, 99),
  statuses,
  subscribers: subscribers.length,
  missing,
  duplicates,
  out_of_order: outOfOrder,
  unexpected,
});
for (const sub of subscribers) sub.socket.disconnect();
process.exit(0);
