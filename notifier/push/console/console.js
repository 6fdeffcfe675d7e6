// The notifier console: sign in, watch a collection live, see and replay the outbox.
// Plain JavaScript, no build step.  The API lives on another origin (api_url).
"use strict";

const state = { api: null, auth: null, source: null, lastId: null, watch: null, timer: null };
const $ = (id) => document.getElementById(id);

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = "status " + kind;
}

async function api(method, path, body) {
  const response = await fetch(state.api + path, {
    method,
    headers: { Authorization: state.auth, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.message || `${method} ${path}: HTTP ${response.status}`);
  }
  return data;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  row.appendChild(td);
}

function showEvent(message) {
  const data = JSON.parse(message.data);
  const row = document.createElement("tr");
  row.className = "fresh";
  row.dataset.action = message.type;
  row.dataset.id = data[data.resource_name + "_id"] || "";
  cell(row, message.lastEventId);
  cell(row, message.type);
  cell(row, data.resource_name);
  cell(row, row.dataset.id);
  cell(row, data.user_id);
  const body = document.querySelector("#events tbody");
  body.insertBefore(row, body.firstChild);
  while (body.children.length > 200) body.removeChild(body.lastChild);
  state.lastId = message.lastEventId;
}

async function subscribe() {
  const { token } = await api("POST", "/push/tokens");
  const { bucket, collection } = state.watch;
  let url = `/v1/buckets/${encodeURIComponent(bucket)}/collections/` +
    `${encodeURIComponent(collection)}/events?token=${encodeURIComponent(token)}`;
  if (state.lastId) url += `&since=${encodeURIComponent(state.lastId)}`;
  const source = new EventSource(url);
  state.source = source;
  source.onopen = () => setStatus("live", "live");
  for (const action of ["create", "update", "delete"]) {
    source.addEventListener(action, showEvent);
  }
  source.addEventListener("error", (message) => {
    if (message.data) {  // the service's final error event
      const error = JSON.parse(message.data);
      $("error").textContent = error.message;
      source.close();
      setStatus(error.error, "error");
      return;
    }
    if (source.readyState === EventSource.CLOSED) {
      // Refused (an expired token, say): get a new token and resume from the last event.
      setStatus("reconnecting", "idle");
      setTimeout(() => subscribe().catch(fail), 2000);
    }
  });
}

function fail(error) {
  $("error").textContent = error.message;
  setStatus("error", "error");
}

function listenerRow(name, info) {
  const row = document.createElement("tr");
  cell(row, name);
  cell(row, info.backlog);
  cell(row, info.queue_depth === null ? "-" : info.queue_depth);
  const td = document.createElement("td");
  const button = document.createElement("button");
  button.textContent = "Replay dead letters";
  button.dataset.listener = name;
  button.onclick = () => api("POST", "/__outbox__/replay", { listener: name })
    .then((result) => { $("outbox-note").textContent = `${name}: ${result.replayed} replayed`; })
    .then(refreshOutbox)
    .catch(fail);
  td.appendChild(button);
  row.appendChild(td);
  return row;
}

async function refreshOutbox() {
  let outbox;
  try {
    outbox = await api("GET", "/__outbox__");
  } catch (error) {
    $("outbox-note").textContent = error.message;
    return;
  }
  const listeners = document.querySelector("#listeners tbody");
  listeners.replaceChildren(
    ...Object.entries(outbox.listeners).map(([name, info]) => listenerRow(name, info)));
  const dead = document.querySelector("#dead tbody");
  dead.replaceChildren(...outbox.dead.map((entry) => {
    const row = document.createElement("tr");
    cell(row, entry.listener);
    cell(row, entry.message.uri);
    cell(row, entry.attempts);
    cell(row, entry.last_error);
    return row;
  }));
  $("dead-total").textContent = `(${outbox.dead_total})`;
}

async function start(event) {
  event.preventDefault();
  $("error").textContent = "";
  if (state.source) state.source.close();
  clearInterval(state.timer);
  state.auth = "Basic " + btoa(`${$("user").value}:${$("password").value}`);
  state.watch = { bucket: $("bucket").value, collection: $("collection").value };
  state.lastId = null;
  document.querySelector("#events tbody").replaceChildren();
  $("watching").textContent = `${state.watch.bucket} / ${state.watch.collection}`;
  setStatus("connecting", "idle");
  try {
    await subscribe();
  } catch (error) {
    fail(error);
    return;
  }
  refreshOutbox();
  state.timer = setInterval(refreshOutbox, 5000);
}

fetch("/console/config.json")
  .then((response) => response.json())
  .then((config) => { state.api = config.api_url; })
  .then(() => { $("signin").addEventListener("submit", start); });
