// Replay-rate client: connect with last_event_id, count replayed events, exit at
// replay_complete. Does nothing else per event, so it measures the server.
//
//   node bench/js/replay.mjs '{"url": "...", "namespace": "/engagement",
//                              "token": "...", "last_event_id": 0}'
// Prints one JSON line: {kind: "result", count, complete, connect_ms, total_ms, replay_ms}.
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const out = (kind, fields) => process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
const t0 = performance.now();
let connectedAt = null;
let firstAt = null;
let count = 0;

const socket = io(cfg.url + (cfg.namespace ?? "/engagement"), {
  transports: ["websocket"],
  reconnection: false,
  auth: { token: cfg.token, last_event_id: cfg.last_event_id },
});
socket.on("connect", () => {
  connectedAt = performance.now();
});
socket.onAny((event, data) => {
  if (data?.replayed) {
    if (firstAt === null) firstAt = performance.now();
    count += 1;
  } else if (event === "replay_complete") {
    const now = performance.now();
    out("result", {
      count,
      complete: data,
      connect_ms: (connectedAt ?? now) - t0,
      total_ms: now - t0,
      replay_ms: now - (firstAt ?? now),
    });
    socket.disconnect();
    process.exit(0);
  }
});
socket.on("connect_error", (err) => {
  out("error", { message: err.message });
  process.exit(1);
});
setTimeout(() => {
  out("error", { message: "timeout", count });
  process.exit(1);
}, cfg.timeout_ms ?? 180000);
