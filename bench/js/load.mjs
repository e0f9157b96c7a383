// Side-by-side load generator for `python -m bench compare`: the same clients and
// the same publish pattern against Switchboard or the Node reference server.
//
//   node bench/js/load.mjs '{"kind": "switchboard"|"node", "url", "namespace",
//     "event": "alert", "api_key"?, "auths": [auth per user], "all_target",
//     "user_targets": [target per user]}'
//
// Client i authenticates as user i % auths.length and belongs to that user's room.
// A target is what the server needs to address a room: a Switchboard `target`
// object ({"tenant": id} / {"user": id}) or a Node room name.
// Commands (one JSON line each on stdin), each answered by one JSON line:
//   {cmd: "connect", n, concurrency}     -> {kind: "connected", ok, refused, errors, ...}
//   {cmd: "publish", mode, ...}          -> {kind: "published", received, missing, ...}
//     mode "sequential": `events` single publishes to all_target, each waited for
//     mode "batch":      one request with `count` events to all_target
//     mode "rooms":      `rounds` requests, each one event per user room
//     mode "steady":     single publishes at `rate`/s for `duration_s`, not waited for
//   {cmd: "disconnect"}                  -> {kind: "disconnected", closed}
// Every receipt is checked: ids strictly increasing per client (nothing duplicated,
// order kept), only the client's own rooms (nothing misrouted), and the totals
// (nothing lost). Latency is from just before the POST to the receipt.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const out = (kind, fields) => process.stdout.write(JSON.stringify({ kind, ...fields }) + "\n");
const clients = [];
const tags = new Map(); // tag -> {start, room (undefined: every client), expected, received}
let stats = null;
let waiter = null;

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function freshStats() {
  return {
    received: 0,
    duplicates: 0,
    out_of_order: 0,
    misrouted: 0,
    unexpected: 0,
    latencies: [],
    lastReceipt: 0,
  };
}

function onEvent(client, envelope) {
  const now = performance.now();
  const tag = envelope?.data?.title;
  const state = tags.get(tag);
  if (!state || !stats) {
    if (stats) stats.unexpected += 1;
    return;
  }
  const id = envelope.id;
  if (id === client.lastId) stats.duplicates += 1;
  else if (!(id > client.lastId)) stats.out_of_order += 1;
  client.lastId = Math.max(client.lastId, id);
  if (state.room !== undefined && state.room !== client.room) stats.misrouted += 1;
  stats.latencies.push(now - state.start);
  stats.received += 1;
  stats.lastReceipt = now;
  state.received += 1;
  if (waiter) waiter();
}

function connectOne(index) {
  const user = index % cfg.auths.length;
  return new Promise((resolve) => {
    const socket = io(cfg.url + cfg.namespace, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 60000,
      auth: cfg.auths[user],
    });
    const client = { socket, room: user, lastId: -Infinity };
    socket.on(cfg.event, (envelope) => onEvent(client, envelope));
    socket.once("connect", () => resolve({ client }));
    socket.once("connect_error", (err) => {
      socket.disconnect();
      resolve({ code: err.message });
    });
  });
}

async function connect(command) {
  const refused = {};
  let ok = 0;
  let next = clients.length;
  const end = clients.length + command.n;
  const t0 = performance.now();
  async function worker() {
    while (next < end) {
      const result = await connectOne(next++);
      if (result.client) {
        clients.push(result.client);
        ok += 1;
      } else {
        refused[result.code] = (refused[result.code] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.n) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  out("connected", { attempts: command.n, ok, refused, seconds, total: clients.length });
}

function members(room) {
  if (room === undefined) return clients.length;
  let count = 0;
  for (const client of clients) if (client.room === room) count += 1;
  return count;
}

// One request publishing `items` ([{tag, room (user index) or undefined, count}]).
async function post(items) {
  const start = performance.now();
  for (const item of items) {
    tags.set(item.tag, {
      start,
      room: item.room,
      expected: item.count * members(item.room),
      received: 0,
    });
  }
  const target = (item) => (item.room === undefined ? cfg.all_target : cfg.user_targets[item.room]);
  let path;
  let body;
  const headers = { "Content-Type": "application/json" };
  if (cfg.kind === "node") {
    path = "/publish";
    body = items.map((item) => ({
      room: target(item),
      event: cfg.event,
      data: { title: item.tag, severity: "info" },
      count: item.count,
    }));
    if (body.length === 1) body = body[0];
  } else {
    headers["X-API-Key"] = cfg.api_key;
    const events = [];
    for (const item of items) {
      for (let i = 0; i < item.count; i += 1) {
        events.push({
          namespace: cfg.namespace,
          event: cfg.event,
          target: target(item),
          data: { title: item.tag, severity: "info" },
        });
      }
    }
    path = events.length === 1 ? "/api/publish" : "/api/publish/batch";
    body = events.length === 1 ? events[0] : events;
  }
  let status;
  try {
    const response = await fetch(cfg.url + path, { method: "POST", headers, body: JSON.stringify(body) });
    await response.arrayBuffer();
    status = String(response.status);
  } catch (err) {
    status = err.cause?.code ?? err.name;
  }
  stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  if (!status.startsWith("2")) for (const item of items) tags.get(item.tag).failed = true;
  stats.postLatencies.push(performance.now() - start);
}

// Resolve when every tag in `wanted` has all its receipts, or nothing arrived for
// `idle_ms` (then the result shows what is missing).
async function settle(wanted, idleMs) {
  let last = stats.received;
  let lastChange = performance.now();
  for (;;) {
    const done = (state) => state.failed || state.received >= state.expected;
    if (wanted.every((tag) => done(tags.get(tag)))) return;
    await new Promise((resolve) => {
      waiter = resolve;
      setTimeout(resolve, 50);
    });
    waiter = null;
    if (stats.received !== last) {
      last = stats.received;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > idleMs) {
      return;
    }
  }
}

async function publish(command) {
  stats = { ...freshStats(), statuses: {}, postLatencies: [] };
  const prefix = `${command.mode}-${Date.now()}`;
  const wanted = [];
  const idleMs = command.idle_ms ?? 10000;
  const t0 = performance.now();
  let sent = 0;
  if (command.mode === "sequential") {
    for (let i = 0; i < command.events; i += 1) {
      const tag = `${prefix}-${i}`;
      wanted.push(tag);
      await post([{ tag, count: 1 }]);
      await settle([tag], idleMs);
      sent += 1;
    }
  } else if (command.mode === "batch") {
    const tag = `${prefix}-0`;
    wanted.push(tag);
    await post([{ tag, count: command.count }]);
    sent = command.count;
  } else if (command.mode === "rooms") {
    const rooms = cfg.auths.length;
    for (let round = 0; round < command.rounds; round += 1) {
      const items = Array.from({ length: rooms }, (_, room) => ({
        tag: `${prefix}-${round}-r${room}`,
        room,
        count: 1,
      }));
      wanted.push(...items.map((item) => item.tag));
      await post(items);
      await settle(
        items.map((item) => item.tag),
        idleMs,
      );
      sent += rooms;
    }
  } else if (command.mode === "steady") {
    const total = Math.round(command.rate * command.duration_s);
    const pending = [];
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * command.rate) + 1);
        while (sent < due) {
          const tag = `${prefix}-${sent}`;
          wanted.push(tag);
          pending.push(post([{ tag, count: 1 }]));
          sent += 1;
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await Promise.all(pending);
  } else {
    out("error", { message: `unknown mode ${command.mode}` });
    return;
  }
  await settle(wanted, idleMs);
  const expected = wanted.reduce((sum, tag) => sum + tags.get(tag).expected, 0);
  const seconds = ((stats.lastReceipt || performance.now()) - t0) / 1000;
  const latencies = stats.latencies.sort((a, b) => a - b);
  const postLatencies = stats.postLatencies.sort((a, b) => a - b);
  for (const tag of wanted) tags.delete(tag);
  out("published", {
    mode: command.mode,
    clients: clients.length,
    events: sent,
    expected,
    received: stats.received,
    missing: Math.max(0, expected - stats.received),
    duplicates: stats.duplicates,
    out_of_order: stats.out_of_order,
    misrouted: stats.misrouted,
    unexpected: stats.unexpected,
    seconds,
    deliveries_per_s: stats.received / seconds,
    p50_ms: pct(latencies, 50),
    p99_ms: pct(latencies, 99),
    max_ms: latencies[latencies.length - 1] ?? null,
    post_p50_ms: pct(postLatencies, 50),
    post_p99_ms: pct(postLatencies, 99),
    statuses: stats.statuses,
  });
  stats = null;
}

async function disconnect() {
  const closed = clients.length;
  for (const client of clients.splice(0)) client.socket.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 200));
  out("disconnected", { closed });
}

const handlers = { connect, publish, disconnect };
const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on("line", (line) => {
  const command = JSON.parse(line);
  queue = queue.then(() =>
    handlers[command.cmd](command).catch((err) => out("error", { message: String(err?.stack ?? err) })),
  );
});
rl.on("close", () => {
  queue.then(() => {
    for (const client of clients) client.socket.disconnect();
    process.exit(0);
  });
});
out("ready", {});
