/**
 * The dashboard's JSON API under `/api`. It reads through the store
 * interface and acts through the same HubService operations as the gRPC
 * handlers, so both stores and both front doors behave alike.
 */
import type { TaskHub } from "../server.js";
import type { InstanceFilter } from "../store/store.js";
import { actionRoute, ACTIONS } from "./api-actions.js";
import type { ApiContext, InstanceContext } from "./context.js";
import { batchRoute, transcriptRoute } from "./api-workflow.js";
import { eventView, timelineBars } from "./history.js";
import {
  Query,
  STATUS_NAMES,
  checkInstanceId,
  decodeCursor,
  encodeCursor,
} from "./params.js";
import { HttpError, notFoundError, sendJson } from "./respond.js";
import { detail, iso, summary } from "./views.js";

type InstanceRoute = (c: InstanceContext) => Promise<void>;

const LIST_FILTERS = [
  "name",
  "prefix",
  "createdFrom",
  "createdTo",
  "parent",
  "topLevel",
];

const INSTANCE_ROUTES: Record<
  string,
  { method: string; known: string[]; run: InstanceRoute }
> = {
  "": {
    method: "GET",
    known: [],
    run: (c) => Promise.resolve(sendJson(c.res, 200, detail(c.instance))),
  },
  history: { method: "GET", known: ["offset", "limit"], run: historyRoute },
  timeline: { method: "GET", known: ["limit"], run: timelineRoute },
  children: {
    method: "GET",
    known: ["status", "limit", "cursor", "order"],
    run: childrenRoute,
  },
  batch: {
    method: "GET",
    known: ["outcome", "offset", "limit"],
    run: batchRoute,
  },
  transcript: {
    method: "GET",
    known: ["video", "format", "download"],
    run: transcriptRoute,
  },
  ...Object.fromEntries(
    ACTIONS.map((a) => [a, { method: "POST", known: [], run: actionRoute(a) }]),
  ),
};

/** Answers a request whose path starts with `/api/`. */
export async function handleApi(c: ApiContext): Promise<void> {
  const parts = c.url.pathname.split("/").slice(2).map(decodeSegment);
  const [first, id, sub, ...rest] = parts;
  if (first === "info" && parts.length === 1) {
    return only(c, "GET", () => infoRoute(c));
  }
  if (first === "counts" && parts.length === 1) {
    return only(c, "GET", () => countsRoute(c));
  }
  if (first === "instances" && parts.length === 1) {
    return only(c, "GET", () => listRoute(c));
  }
  if (first === "instances" && id !== undefined && rest.length === 0) {
    const route = INSTANCE_ROUTES[sub ?? ""];
    if (route) return only(c, route.method, () => instanceRoute(c, id, route));
  }
  throw notFoundError(`no API endpoint ${c.url.pathname}`);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(
      400,
      "invalid_argument",
      `the path segment "${s}" is not valid percent-encoding`,
    );
  }
}

async function only(
  c: ApiContext,
  method: string,
  run: () => Promise<void>,
): Promise<void> {
  if (
    c.req.method === method ||
    (method === "GET" && c.req.method === "HEAD")
  ) {
    return run();
  }
  c.res.setHeader("allow", method === "GET" ? "GET, HEAD" : method);
  throw new HttpError(
    405,
    "method_not_allowed",
    `${c.url.pathname} takes ${method}, not ${c.req.method}`,
  );
}

async function instanceRoute(
  c: ApiContext,
  rawId: string,
  route: { known: string[]; run: InstanceRoute },
): Promise<void> {
  const q = new Query(c.url.searchParams, route.known);
  const instanceId = checkInstanceId(rawId);
  const taskHub = c.hub.taskHub(q.taskHub());
  const instance = await taskHub.dispatcher.store.getInstance(instanceId);
  if (!instance) {
    throw notFoundError(
      `no instance "${instanceId}" in task hub "${taskHub.dispatcher.store.name}"`,
    );
  }
  await route.run({ ...c, q, taskHub, instance });
}

function infoRoute(c: ApiContext): Promise<void> {
  const q = new Query(c.url.searchParams, []);
  sendJson(c.res, 200, {
    taskHub: q.taskHub(),
    taskHubs: c.hub.taskHubNames,
    refreshMs: c.refreshMs,
    authRequired: c.authRequired,
    statuses: [...STATUS_NAMES.values()],
  });
  return Promise.resolve();
}

/** The filters the list and the counts share. */
function listFilter(q: Query): Omit<InstanceFilter, "limit"> {
  const parent = q.instanceId("parent");
  const topLevel = q.bool("topLevel");
  if (parent !== undefined && topLevel) {
    throw new HttpError(
      400,
      "invalid_argument",
      "parent and topLevel cannot be used together",
    );
  }
  const createdFrom = q.time("createdFrom");
  const createdTo = q.time("createdTo");
  if (
    createdFrom !== undefined &&
    createdTo !== undefined &&
    createdFrom > createdTo
  ) {
    throw new HttpError(
      400,
      "invalid_argument",
      "createdFrom is after createdTo",
    );
  }
  return {
    name: q.string("name"),
    instanceIdPrefix: q.string("prefix"),
    createdFrom,
    createdTo,
    parentInstanceId: topLevel ? null : parent,
  };
}

async function countsRoute(c: ApiContext): Promise<void> {
  const q = new Query(c.url.searchParams, LIST_FILTERS);
  const filter = listFilter(q);
  const store = c.hub.taskHub(q.taskHub()).dispatcher.store;
  const rows = await store.countInstances(filter);
  const counts: Record<string, number> = {};
  for (const name of STATUS_NAMES.values()) counts[name] = 0;
  let total = 0;
  for (const r of rows) {
    counts[STATUS_NAMES.get(r.status) ?? String(r.status)] = r.count;
    total += r.count;
  }
  sendJson(c.res, 200, { counts, total });
}

async function listRoute(c: ApiContext): Promise<void> {
  const q = new Query(c.url.searchParams, [
    ...LIST_FILTERS,
    "status",
    "order",
    "limit",
    "cursor",
  ]);
  const filter = listFilter(q);
  const store = c.hub.taskHub(q.taskHub()).dispatcher.store;
  await sendPage(c, q, store, filter, "newest");
}

async function childrenRoute(c: InstanceContext): Promise<void> {
  const filter = { parentInstanceId: c.instance.instanceId };
  await sendPage(c, c.q, c.taskHub.dispatcher.store, filter, "id");
}

type Cursor = ["n", number, string] | ["i", string];

const isCursor = (v: unknown): v is Cursor =>
  Array.isArray(v) &&
  ((v.length === 3 &&
    v[0] === "n" &&
    typeof v[1] === "number" &&
    typeof v[2] === "string") ||
    (v.length === 2 && v[0] === "i" && typeof v[1] === "string"));

/** One page of instances in the order asked for, with the next cursor. */
async function sendPage(
  c: ApiContext,
  q: Query,
  store: TaskHub["dispatcher"]["store"],
  filter: Omit<InstanceFilter, "limit">,
  defaultOrder: "newest" | "id",
): Promise<void> {
  const order = q.choice("order", ["newest", "id"], defaultOrder);
  const limit = q.int("limit", 1, 500, 50);
  const raw = q.string("cursor", 2048);
  const cursor = raw === undefined ? undefined : decodeCursor(raw, isCursor);
  if (cursor && cursor[0] !== (order === "newest" ? "n" : "i")) {
    throw new HttpError(
      400,
      "invalid_argument",
      `cursor was issued for another order than "${order}"`,
    );
  }
  const rows = await store.listInstances({
    ...filter,
    statuses: q.statuses("status"),
    order: order === "newest" ? "newest" : "instanceId",
    before:
      cursor?.[0] === "n"
        ? { createdAt: cursor[1], instanceId: cursor[2] }
        : undefined,
    after: cursor?.[0] === "i" ? cursor[1] : undefined,
    withPayloads: false,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next: Cursor | undefined =
    rows.length > limit && last
      ? order === "newest"
        ? ["n", last.createdAt, last.instanceId]
        : ["i", last.instanceId]
      : undefined;
  sendJson(c.res, 200, {
    instances: page.map(summary),
    nextCursor: next ? encodeCursor(next) : null,
  });
}

async function historyRoute(c: InstanceContext): Promise<void> {
  const offset = c.q.int("offset", 0, 10_000_000, 0);
  const limit = c.q.int("limit", 1, 1000, 100);
  const id = c.instance.instanceId;
  const events = await c.taskHub.dispatcher.store.getHistory(id, {
    offset,
    limit: limit + 1,
  });
  sendJson(c.res, 200, {
    events: events.slice(0, limit).map(eventView),
    offset,
    nextOffset: events.length > limit ? offset + limit : null,
  });
}

async function timelineRoute(c: InstanceContext): Promise<void> {
  const limit = c.q.int("limit", 1, 5000, 1000);
  const i = c.instance;
  const bars = timelineBars(
    await c.taskHub.dispatcher.store.getHistory(i.instanceId),
  );
  const origin = Math.min(i.createdAt, ...bars.slice(0, 1).map((b) => b.start));
  sendJson(c.res, 200, {
    origin: iso(origin),
    end: iso(i.completedAt),
    now: iso(Date.now()),
    total: bars.length,
    truncated: bars.length > limit,
    bars: bars.slice(0, limit).map((b) => ({
      kind: b.kind,
      id: b.id,
      name: b.name,
      outcome: b.outcome,
      offsetMs: b.start - origin,
      durationMs: b.end === null ? null : b.end - b.start,
    })),
  });
}
