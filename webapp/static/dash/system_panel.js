// The /system panel: a card per GPU with utilisation and temperature sparklines
// (readings are volatile, so the lines start when the page does), and the camera
// status list.
import { $, dateTime, h } from "./core.js";
import { matchesTenant, onFiltersChange } from "./filters.js";
import { sparkline } from "./charts.js";
import { markStale, openSocket } from "./sockets.js";
import { setOfflineCameras, tenantLabel } from "./tenants.js";

const SPARK_POINTS = 60;
const gpus = new Map(); // "tenant:host:index" -> {gpu, card, util, temp, series}
const cameras = new Map(); // "tenant:camera_id" -> camera

// Producers send floats such as 18.83379023288824: one decimal is what a person reads.
const reading = (value) => (typeof value === "number" ? String(Math.round(value * 10) / 10) : "–");
const gpuKey = (gpu) => `${gpu.tenant_id}:${gpu.host}:${gpu.index}`;

function gpuCard(gpu) {
  const utilCanvas = h("canvas", { "aria-label": "utilisation" });
  const tempCanvas = h("canvas", { "aria-label": "temperature" });
  const card = h("div", { class: "gpu-card", "data-gpu": gpuKey(gpu), "data-tenant-id": gpu.tenant_id },
    h("div", { class: "gpu-head" },
      h("strong", {}, gpu.name || `GPU ${gpu.index}`),
      h("span", { class: "detail" }, [tenantLabel(gpu.tenant_id), gpu.host, `#${gpu.index}`].filter(Boolean).join(" · "))),
    h("div", { class: "gpu-row" },
      h("span", { class: "gpu-value", "data-field": "utilization" }),
      h("div", { class: "spark" }, utilCanvas)),
    h("div", { class: "gpu-row" },
      h("span", { class: "gpu-value", "data-field": "temperature" }),
      h("div", { class: "spark" }, tempCanvas)),
    h("span", { class: "detail", "data-field": "memory" }));
  return { card, util: sparkline(utilCanvas, "#2f6fed", 100), temp: sparkline(tempCanvas, "#e4572e", 90), series: [] };
}

function applyGpu(gpu) {
  const key = gpuKey(gpu);
  let entry = gpus.get(key);
  if (!entry) {
    entry = gpuCard(gpu);
    gpus.set(key, entry);
    $("#gpu-cards").append(entry.card);
  }
  entry.gpu = gpu;
  entry.series.push({ util: gpu.utilization, temp: gpu.temperature });
  if (entry.series.length > SPARK_POINTS) entry.series.shift();
  const labels = entry.series.map((_, i) => i);
  for (const [chart, field] of [[entry.util, "util"], [entry.temp, "temp"]]) {
    chart.data.labels = labels;
    chart.data.datasets[0].data = entry.series.map((point) => point[field]);
    chart.update("none");
  }
  entry.card.dataset.points = String(entry.series.length);
  entry.card.querySelector('[data-field="utilization"]').textContent = `${reading(gpu.utilization)} %`;
  entry.card.querySelector('[data-field="temperature"]').textContent = `${reading(gpu.temperature)} °C`;
  entry.card.querySelector('[data-field="memory"]').textContent =
    `${gpu.memory_used ?? "–"} / ${gpu.memory_total ?? "–"} MiB · ${dateTime(gpu.updated_at)}`;
}

function renderGpus() {
  let visible = 0;
  for (const entry of gpus.values()) {
    entry.card.hidden = !matchesTenant(entry.gpu.tenant_id);
    if (!entry.card.hidden) visible += 1;
  }
  $("#gpu-empty").hidden = visible > 0;
}

function applyCamera(camera) {
  cameras.set(`${camera.tenant_id}:${camera.camera_id}`, { ...cameras.get(`${camera.tenant_id}:${camera.camera_id}`), ...camera });
}

function renderCameras() {
  const shown = [...cameras.values()].filter((camera) => matchesTenant(camera.tenant_id))
    .sort((a, b) => a.camera_id.localeCompare(b.camera_id));
  const list = $("#camera-list");
  list.replaceChildren(...shown.map((camera) =>
    h("li", { "data-camera-id": camera.camera_id, "data-status": camera.status, "data-tenant-id": camera.tenant_id },
      h("span", { class: `badge cam-${camera.status}` }, camera.status),
      h("span", { class: "title" }, camera.camera_id),
      h("span", {}),
      h("span", { class: "detail" },
        [tenantLabel(camera.tenant_id), camera.detail, `since ${dateTime(camera.changed_at)}`].filter(Boolean).join(" · ")))));
  if (!shown.length) list.append(h("li", { class: "empty" }, "No cameras."));
  const down = new Map();
  for (const camera of cameras.values()) {
    if (camera.status !== "online") down.set(camera.tenant_id, (down.get(camera.tenant_id) || 0) + 1);
  }
  setOfflineCameras(down);
}

export function startSystemPanel() {
  const panel = $("#system-panel");
  const socket = openSocket("/system", {
    events: {
      system_snapshot: (snapshot) => {
        for (const gpu of snapshot.gpus || []) applyGpu(gpu);
        for (const camera of snapshot.cameras || []) applyCamera(camera);
        renderGpus();
        renderCameras();
      },
      gpu_stats: (data, envelope) => {
        for (const gpu of data.gpus || []) applyGpu({ tenant_id: envelope.tenant_id, ...gpu });
        renderGpus();
      },
      camera_status: (data) => {
        applyCamera(data);
        renderCameras();
      },
    },
    onStatus: (status) => markStale(panel, status),
  });
  onFiltersChange(() => {
    renderGpus();
    renderCameras();
  });
  renderCameras();
  return socket;
}
