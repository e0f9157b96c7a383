// Minimal Node socket.io 4.8 reference server for `python -m bench compare`.
//
//   node bench/js/ref_server.mjs '{"port": 5100, "namespace": "/engagement"}'
//
// A client connecting to <namespace> joins the room(s) named in `auth.room` (a
// string or a list). `POST /publish` with a JSON body `{room, event, data, count?}`
// (or a list of them) loops `io.of(namespace).to(room).emit(event, envelope)`
// `count` times; the envelope has Switchboard's shape (`{id, type, namespace,
// tenant_id, room, data, timestamp}`, `id` an increasing counter) so both servers
// send frames of the same size. It answers 202 `{ids: [first, last]}`. `GET /health`
// answers 200. No persistence, no auth, no limits: this is the floor a socket.io
// server reaches on this machine, not a product.
import { createServer } from "node:http";
import { Server } from "socket.io";

const cfg = JSON.parse(process.argv[2] ?? "{}");
const namespace = cfg.namespace ?? "/engagement";
let seq = 0;

function publish(item) {
  const count = item.count ?? 1;
  const first = seq + 1;
  for (let i = 0; i < count; i += 1) {
    seq += 1;
    nsp.to(item.room).emit(item.event, {
      id: seq,
      type: item.event,
      namespace,
      tenant_id: null,
      room: item.room,
      data: item.data,
      timestamp: new Date().toISOString(),
    });
  }
  return [first, seq];
}

function reply(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function handle(req, res) {
  if (req.method === "GET" && req.url === "/health") {
    reply(res, 200, { status: "ok" });
    return;
  }
  if (req.method !== "POST" || req.url !== "/publish") {
    reply(res, 404, { error: { code: "not_found", message: "no such route" } });
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      reply(res, 400, { error: { code: "invalid_json", message: "body is not JSON" } });
      return;
    }
    const items = Array.isArray(body) ? body : [body];
    if (!items.length || items.some((item) => typeof item?.room !== "string" || !item.event)) {
      reply(res, 400, { error: { code: "invalid", message: "need {room, event, data, count?}" } });
      return;
    }
    const ids = items.map(publish);
    reply(res, 202, { ids: [ids[0][0], ids[ids.length - 1][1]] });
  });
}

const httpServer = createServer(handle);
const io = new Server(httpServer, {
  cors: { origin: "*" },
  maxHttpBufferSize: 64 * 1024,
  pingInterval: 25000,
  pingTimeout: 20000,
});
const nsp = io.of(namespace);
nsp.on("connection", (socket) => {
  const room = socket.handshake.auth?.room;
  if (room) socket.join(room);
});
httpServer.listen(cfg.port ?? 5100, cfg.host ?? "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ kind: "listening", port: cfg.port }) + "\n");
});
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
