// One Socket.IO connection per namespace, all built the same way: the auth is a
// function so each reconnect sends the current token, the admin's watched tenant
// and the last event id seen (the server replays what was missed); every event
// id is applied once, whether it arrives live, replayed or both.
import { io } from "/vendor/socket.io/socket.io.esm.min.js";
import { refreshAccessToken, session } from "./core.js";

export function openSocket(namespace, { events = {}, onStatus, onConnect, onRefused, onNewId }) {
  let lastId = 0;
  const seen = new Set();
  const socket = io(`${window.location.origin}${namespace}`, {
    auth: (cb) => cb({
      token: session.token,
      ...(session.watchTenant ? { tenant_id: session.watchTenant } : {}),
      ...(lastId ? { last_event_id: lastId } : {}),
    }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });
  const noteId = (id) => {
    if (id > lastId) {
      lastId = id;
      onNewId?.(id);
    }
  };
  onStatus("reconnecting", "connecting");

  socket.on("connect", () => {
    onStatus("connected");
    onConnect?.();
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") onStatus("offline");
    else if (reason === "io server disconnect") onStatus("offline", "disconnected by the server");
    else onStatus("reconnecting");
  });
  socket.io.on("reconnect_attempt", () => onStatus("reconnecting"));
  socket.io.on("reconnect_failed", () => onStatus("offline", "gave up"));
  socket.on("connect_error", async (error) => {
    if (socket.active) {
      onStatus("reconnecting"); // a transport error: the client retries by itself
      return;
    }
    if (error.message === "token_expired" && (await refreshAccessToken())) {
      socket.connect();
      return;
    }
    onStatus("offline", error.message);
    onRefused?.(error.message);
  });
  socket.on("replay_complete", (data) => {
    if (data.last_event_id) noteId(data.last_event_id);
    if (data.recovered === false) onConnect?.(); // a gap replay could not fill: refetch
  });

  for (const [name, handler] of Object.entries(events)) {
    socket.on(name, (envelope) => {
      const id = envelope?.id;
      if (id !== null && id !== undefined) {
        if (seen.has(id)) return;
        seen.add(id);
        noteId(id);
      }
      handler(envelope?.data ?? envelope, envelope);
    });
  }
  return socket;
}

// A panel fed by a secondary socket shows when what it holds may be out of date.
export function markStale(element, status) {
  element.dataset.stale = status === "connected" ? "false" : "true";
}
