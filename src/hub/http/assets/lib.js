// Helpers every page uses: building DOM without HTML strings, calling the
// API, formatting, and refreshing a view live without losing focus.

/** The page's query parameters. */
export const params = new URLSearchParams(location.search);

/** The task hub the pages show; empty for the default one. */
export const taskHub = params.get("taskhub") ?? "";

/**
 * Creates an element. Attributes: `class`, `style` (an object), `on<event>`
 * handlers, booleans (true sets, false/null/undefined skips), others as
 * text. Children: nodes, strings, numbers, arrays; null and false skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * A table with a caption, a header row naming `columns`, and `rows`;
 * `cls` is its class, if any.
 */
export function dataTable(cls, caption, columns, rows) {
  return h(
    "table",
    { class: cls },
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h("tbody", {}, rows),
  );
}

/** A paging button, or null when there is no such page (`show` false). */
export function pageButton(show, key, text, onclick) {
  if (!show) return null;
  return h(
    "button",
    { type: "button", class: "secondary", "data-key": key, onclick },
    text,
  );
}

/** A query string from an object, skipping empty values. */
export function queryString(query = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    q.set(key, String(value));
  }
  if (taskHub && !q.has("taskhub")) q.set("taskhub", taskHub);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** A link to a dashboard page, keeping the task hub. */
export function pageUrl(path, query = {}) {
  return path + queryString(query);
}

/** The URL of an API endpoint. */
export function apiUrl(path, query = {}) {
  return `/api${path}${queryString(query)}`;
}

/** The API path of an instance (ids may hold slashes). */
export function instancePath(id, sub = "") {
  return `/instances/${encodeURIComponent(id)}${sub ? `/${sub}` : ""}`;
}

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; JSON in, JSON out. A lapsed sign-in goes to the form. */
export async function api(path, { query, method = "GET", body } = {}) {
  const res = await fetch(apiUrl(path, query), {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (res.status === 401) {
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/login?next=${next}`);
    throw new ApiError(401, "unauthenticated", "signed out");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code, e.message ?? res.statusText);
  }
  return data;
}

/** Parses JSON text; undefined when it is not JSON. */
export function parseJson(text) {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const STATUS_LABELS = {
  RUNNING: "Running",
  COMPLETED: "Completed",
  CONTINUED_AS_NEW: "Continued as new",
  FAILED: "Failed",
  CANCELED: "Canceled",
  TERMINATED: "Terminated",
  PENDING: "Pending",
  SUSPENDED: "Suspended",
};

/** A status as people read it, e.g. `Running`. */
export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

/** A coloured status badge. */
export function badge(status, text = statusLabel(status)) {
  const key = String(status)
    .toLowerCase()
    .replace(/[^a-z]+/g, "-");
  return h("span", { class: `badge status-${key}` }, text);
}

/** True for statuses an instance never leaves. */
export function isTerminal(status) {
  return ["COMPLETED", "FAILED", "TERMINATED", "CANCELED"].includes(status);
}

/** A local date and time, e.g. `2025-05-19 16:00:01`. */
export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A `<time>` element for an ISO time. */
export function timeEl(iso) {
  return iso ? h("time", { datetime: iso }, fmtTime(iso)) : "—";
}

/** A duration, e.g. `850 ms`, `12.4 s`, `3 min 4 s`, `2 h 5 min`. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Media time, e.g. `4:05` or `1:02:03`. */
export function fmtClock(seconds, millis = false) {
  if (seconds === null || seconds === undefined) return "—";
  const total = Math.max(0, seconds);
  const hh = Math.floor(total / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = Math.floor(total % 60);
  const p = (n) => String(n).padStart(2, "0");
  let text = hh ? `${hh}:${p(mm)}:${p(ss)}` : `${mm}:${p(ss)}`;
  if (millis) {
    text += `.${String(Math.floor((total % 1) * 1000)).padStart(3, "0")}`;
  }
  return text;
}

/** Text cut to `max` characters with an ellipsis. */
export function cut(text, max = 80) {
  if (text === null || text === undefined) return "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Tells screen readers (and tests) what just happened. */
export function announce(text) {
  const live = document.getElementById("announcer");
  if (live) live.textContent = text;
}

const shown = new WeakMap();

/**
 * Replaces a container's content with `build()` when `data` changed since
 * the last call. Focus inside it moves to the new element with the same
 * `data-key`, so a keyboard user keeps their place across refreshes.
 */
export function renderIfChanged(container, data, build) {
  const signature = JSON.stringify(data);
  if (shown.get(container) === signature) return;
  shown.set(container, signature);
  const active = document.activeElement;
  const key =
    active && container.contains(active)
      ? active.closest("[data-key]")?.getAttribute("data-key")
      : undefined;
  container.replaceChildren(build());
  if (key) {
    const again = [...container.querySelectorAll("[data-key]")].find(
      (el) => el.getAttribute("data-key") === key,
    );
    again?.focus();
  }
}

/**
 * Runs `tick` now and again `ms` after each run ends, while the page is
 * visible. `tick` returns false to stop. Errors show in `onError`.
 */
export function every(ms, tick, onError) {
  let timer;
  let stopped = false;
  const run = async () => {
    timer = undefined;
    if (stopped) return;
    if (document.hidden) return;
    let again = true;
    try {
      again = (await tick()) !== false;
      onError?.(undefined);
    } catch (err) {
      onError?.(err);
    }
    if (again && !stopped) timer = setTimeout(run, ms);
    else stopped = true;
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped && timer === undefined) void run();
  });
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A message box for a failed request. */
export function errorBox(err) {
  if (!err) return "";
  return h(
    "p",
    { class: "error", role: "alert" },
    err instanceof ApiError
      ? err.message
      : `Something went wrong: ${err.message ?? err}`,
  );
}

/** A progress element with a text alternative. */
export function progressEl(fraction, label) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return h(
    "progress",
    { max: 100, value: pct, "aria-label": label },
    `${pct}%`,
  );
}

/** The refresh interval the hub asks pages to use. */
let refreshMs = 2000;
export const settings = {
  get refreshMs() {
    return refreshMs;
  },
  set refreshMs(v) {
    refreshMs = Math.max(250, Math.min(2000, Number(v) || 2000));
  },
};
