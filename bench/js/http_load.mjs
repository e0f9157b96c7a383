// Closed-loop HTTP load: `concurrency` workers POST the same JSON body back to
// back for `duration_s` seconds (keep-alive connections, Node's fetch).
//
//   node bench/js/http_load.mjs '{"url": "http://127.0.0.1:5000/api/publish",
//     "headers": {"X-API-Key": "..."}, "body": {...}, "concurrency": 8, "duration_s": 5}'
// Prints {kind: "result", requests, ok, statuses, seconds, rps, p50_ms, p99_ms}.
const cfg = JSON.parse(process.argv[2]);
const body = JSON.stringify(cfg.body);
const headers = { "Content-Type": "application/json", ...(cfg.headers ?? {}) };
const latencies = [];
const statuses = {};
let ok = 0;
let stop = false;

async function worker() {
  while (!stop) {
    const start = performance.now();
    try {
      const response = await fetch(cfg.url, { method: "POST", headers, body });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === (cfg.expect_status ?? 202)) ok += 1;
    } catch (err) {
      statuses[err.cause?.code ?? err.name] = (statuses[err.cause?.code ?? err.name] ?? 0) + 1;
    }
    latencies.push(performance.now() - start);
  }
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const t0 = performance.now();
setTimeout(() => {
  stop = true;
}, cfg.duration_s * 1000);
await Promise.all(Array.from({ length: cfg.concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    kind: "result",
    requests: latencies.length,
    ok,
    statuses,
    seconds,
    rps: ok / seconds,
    p50_ms: pct(latencies, 50),
    p99_ms: pct(latencies, 99),
  }) + "\n",
);
