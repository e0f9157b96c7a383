// Agent-run event latency: each user listens on /events; this script POSTs
// agent_thinking events for their runs at a fixed total rate (round robin) and
// times POST -> receipt on the user's own connection.
//
//   node bench/js/agent.mjs '{"url", "api_key", "users": [{"token", "run_id"}],
//                            "rate": 150, "duration_s": 10}'
// Prints {kind: "result", sent, received, misrouted, missing, rate, p50_ms, p99_ms,
// post_p50_ms, post_p99_ms, statuses}.
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const out = (kind, fields) => process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
const sentAt = new Map(); // tag -> [time, run_id]
const latencies = [];
const postLatencies = [];
const statuses = {};
let misrouted = 0;

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function connect(user) {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url + "/events", {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { token: user.token },
    });
    socket.on("agent_thinking", (envelope) => {
      const sent = sentAt.get(envelope.data.thought);
      if (!sent) return;
      if (envelope.data.run_id !== user.run_id || sent[1] !== user.run_id) misrouted += 1;
      latencies.push(performance.now() - sent[0]);
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(err.message)));
  });
}

let sockets;
try {
  sockets = await Promise.all(cfg.users.map(connect));
} catch (err) {
  out("error", { message: err.message });
  process.exit(1);
}

async function post(k) {
  const user = cfg.users[k % cfg.users.length];
  const tag = `b:${k}`;
  const start = performance.now();
  sentAt.set(tag, [start, user.run_id]);
  const response = await fetch(`${cfg.url}/api/agent-runs/${user.run_id}/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": cfg.api_key },
    body: JSON.stringify({ type: "agent_thinking", data: { thought: tag } }),
  });
  await response.arrayBuffer();
  statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  postLatencies.push(performance.now() - start);
}

const total = Math.round(cfg.rate * cfg.duration_s);
const pending = [];
const t0 = performance.now();
let sent = 0;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * cfg.rate));
    while (sent < due) pending.push(post(sent++));
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 2);
});
const sendSeconds = (performance.now() - t0) / 1000;
await Promise.all(pending);
const deadline = performance.now() + 10000;
while (latencies.length < sent && performance.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
latencies.sort((a, b) => a - b);
postLatencies.sort((a, b) => a - b);
out("result", {
  users: cfg.users.length,
  sent,
  received: latencies.length,
  missing: sent - latencies.length,
  misrouted,
  rate: sent / sendSeconds,
  p50_ms: pct(latencies, 50),
  p99_ms: pct(latencies, 99),
  max_ms: latencies[latencies.length - 1] ?? null,
  post_p50_ms: pct(postLatencies, 50),
  post_p99_ms: pct(postLatencies, 99),
  statuses,
});
for (const socket of sockets) socket.disconnect();
process.exit(0);
