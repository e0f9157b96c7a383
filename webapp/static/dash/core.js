// Shared by every part of the page: DOM helper, the REST client with token
// refresh, the signed-in session and how times are shown (always with a date).
export const $ = (selector, root = document) => root.querySelector(selector);
const store = window.sessionStorage;

export const session = {
  token: store.getItem("sb.token"),
  refreshToken: store.getItem("sb.refresh"),
  user: null, // from the /dashboard welcome: {id, name, role, tenant_id}
  // An admin watching one tenant (auth.tenant_id / ?tenant_id=); kept across reloads.
  watchTenant: Number(store.getItem("sb.watch")) || null,
};

export function saveTokens(access, refresh) {
  session.token = access;
  session.refreshToken = refresh ?? session.refreshToken;
  store.setItem("sb.token", session.token);
  if (session.refreshToken) store.setItem("sb.refresh", session.refreshToken);
}

export function clearSession() {
  session.token = session.refreshToken = session.user = null;
  for (const key of ["sb.token", "sb.refresh", "sb.watch"]) store.removeItem(key);
  session.watchTenant = null;
}

export function setWatchTenant(tenantId) {
  if (tenantId) store.setItem("sb.watch", String(tenantId));
  else store.removeItem("sb.watch");
}

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

// "30 Nov 2026, 06:12:03" in the viewer's time zone: a bare time is ambiguous
// on a page that shows the last day.
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  day: "2-digit", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
export function dateTime(iso) {
  return iso ? DATE_TIME.format(new Date(iso)) : "";
}

// A REST path with the admin's watched tenant added, when there is one.
export function scoped(path) {
  if (!session.watchTenant) return path;
  return `${path}${path.includes("?") ? "&" : "?"}tenant_id=${session.watchTenant}`;
}

export async function api(method, path, body, retry = true) {
  const response = await fetch(path, {
    method,
    headers: {
      "Content-Type": "application/json",
      ...(session.token ? { Authorization: `Bearer ${session.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && (await refreshAccessToken())) {
    return api(method, path, body, false);
  }
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(json?.error?.message || `${response.status} ${response.statusText}`);
  }
  return json;
}

export async function refreshAccessToken() {
  if (!session.refreshToken) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { Authorization: `Bearer ${session.refreshToken}` },
  });
  if (!response.ok) return false;
  saveTokens((await response.json()).access_token);
  return true;
}
