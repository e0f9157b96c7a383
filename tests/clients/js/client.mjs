// A scriptable Switchboard client on the official socket.io-client, for the live tests.
//
//   node tests/clients/js/client.mjs '{"url": "http://127.0.0.1:5000", "namespace": "/engagement",
//                              "token": "<access token>", "last_event_id": 41}'
//   (or the same JSON in the SWITCHBOARD_CLIENT environment variable)
//
// Optional settings: "reconnection_delay_ms", "reconnection_delay_max_ms" (the
// Manager's backoff), "ack_timeout_ms" (10000), "timeout_ms" (exit after, 60000).
//
// It prints one JSON line per thing that happens, each with a "kind":
//   connect {id}, connect_error {message, data, active}, disconnect {reason},
//   reconnect_attempt {attempt}, reconnect {attempt},
//   event {event, data} for every server event (welcome, replay_complete, envelopes),
//   ack {tag, event, response} / ack_error {tag, event, error}, timeout, exit.
// It reads commands as JSON lines on stdin:
//   {"cmd": "emit", "event": "join_session", "data": {...}, "tag": "join"}
//   {"cmd": "disconnect"}, {"cmd": "connect"}, {"cmd": "exit"}; end of stdin exits too.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(process.argv[2] ?? process.env.SWITCHBOARD_CLIENT ?? "{}");
const BASE_URL = config.url;
const namespace = config.namespace ?? "/engagement";
const token = config.token;

function report(kind, fields = {}) {
  process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
}

// The last event id seen; undefined means "no replay" on the first connect.
let lastId = config.last_event_id;

// --- docs/client.md shows these lines, unchanged ---------------------------
const socket = io(BASE_URL + namespace, {
  transports: ["websocket"],
  auth: (cb) => cb({ token, last_event_id: lastId }),
});
socket.onAny((event, envelope) => {
  if (Number.isInteger(envelope?.id)) lastId = envelope.id;
});
// --- end of the documented lines -------------------------------------------

if (config.reconnection_delay_ms !== undefined) {
  socket.io.reconnectionDelay(config.reconnection_delay_ms);
}
if (config.reconnection_delay_max_ms !== undefined) {
  socket.io.reconnectionDelayMax(config.reconnection_delay_max_ms);
}

socket.on("connect", () => report("connect", { id: socket.id }));
socket.on("connect_error", (err) =>
  // active === false: the server refused, socket.io-client will not retry.
  report("connect_error", { message: err.message, data: err.data ?? null, active: socket.active }),
);
socket.on("disconnect", (reason) => report("disconnect", { reason }));
socket.io.on("reconnect_attempt", (attempt) => report("reconnect_attempt", { attempt }));
socket.io.on("reconnect", (attempt) => report("reconnect", { attempt }));
socket.onAny((event, data) => report("event", { event, data: data ?? null }));

async function emit({ event, data, tag }) {
  try {
    const response = await socket.timeout(config.ack_timeout_ms ?? 10000).emitWithAck(event, data);
    report("ack", { tag, event, response });
  } catch (err) {
    report("ack_error", { tag, event, error: err.message });
  }
}

function exit(code) {
  socket.disconnect();
  report("exit", { code });
  process.exit(code);
}

const commands = {
  emit,
  connect: () => socket.connect(),
  disconnect: () => socket.disconnect(),
  exit: () => exit(0),
};

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    report("bad_command", { line });
    return;
  }
  const run = commands[command.cmd];
  if (run) run(command);
  else report("bad_command", { line });
});
lines.on("close", () => exit(0));

setTimeout(() => {
  report("timeout");
  exit(2);
}, config.timeout_ms ?? 60000).unref();
