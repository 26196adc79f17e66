import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import {
  OrchestrationStatus,
  type ActivityContext,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import { eventually } from "../helpers.js";
import {
  call,
  instancePath,
  startDashboardHub,
  type DashboardHub,
} from "./support.js";

const double = (_: ActivityContext, n: number): number => n * 2;

const explode = (): number => {
  throw new Error("the activity blew up on purpose");
};

async function* echo(_: OrchestrationContext, input: unknown): any {
  return input;
}

async function* waiter(ctx: OrchestrationContext): any {
  ctx.setCustomStatus({ waiting: "go" });
  const got: unknown = yield ctx.waitForExternalEvent("go");
  return { got };
}

async function* twice(ctx: OrchestrationContext, n: number): any {
  const a: number = yield ctx.callActivity(double, n);
  const b: number = yield ctx.callActivity(double, a);
  return b;
}

async function* failing(ctx: OrchestrationContext): any {
  yield ctx.callActivity(explode);
}

async function* parent(ctx: OrchestrationContext): any {
  const a: unknown = yield ctx.callSubOrchestrator(echo, "a", {
    instanceId: `${ctx.instanceId}/c/1`,
  });
  const b: unknown = yield ctx.callSubOrchestrator(echo, "b", {
    instanceId: `${ctx.instanceId}/c/2`,
  });
  return [a, b];
}

let d: DashboardHub;

before(async () => {
  d = await startDashboardHub({
    register: (w) => {
      for (const o of [echo, waiter, twice, failing, parent]) {
        w.addOrchestrator(o);
      }
      w.addActivity(double);
      w.addActivity(explode);
    },
  });
});

after(() => d.stop());

async function run(orchestrator: any, input: unknown, id: string) {
  await d.client.scheduleNewOrchestration(orchestrator, input, id);
  return d.client.waitForOrchestrationCompletion(id, true, 30);
}

async function startWaiter(id: string): Promise<void> {
  await d.client.scheduleNewOrchestration(waiter, undefined, id);
  await d.client.waitForOrchestrationStart(id, false, 30);
}

async function finishWaiter(id: string): Promise<void> {
  await d.client.raiseOrchestrationEvent(id, "go", 1);
  await d.client.waitForOrchestrationCompletion(id, false, 30);
}

test("the list pages through instances newest first with a cursor", async () => {
  for (let i = 0; i < 5; i++) await run(echo, i, `page-${i}`);
  const first = await call(d.url, "/api/instances?prefix=page-&limit=2");
  assert.equal(first.status, 200);
  assert.deepEqual(
    first.body.instances.map((i: any) => i.instanceId),
    ["page-4", "page-3"],
  );
  const seen = [...first.body.instances];
  let cursor: string | null = first.body.nextCursor;
  while (cursor) {
    const next = await call(
      d.url,
      `/api/instances?prefix=page-&limit=2&cursor=${cursor}`,
    );
    seen.push(...next.body.instances);
    cursor = next.body.nextCursor;
  }
  assert.deepEqual(
    seen.map((i) => i.instanceId),
    ["page-4", "page-3", "page-2", "page-1", "page-0"],
  );
  assert.equal(seen[0].status, "COMPLETED");
  assert.equal(seen[0].name, "echo");
});

test("the list orders by id when asked", async () => {
  const r = await call(d.url, "/api/instances?prefix=page-&order=id&limit=3");
  assert.deepEqual(
    r.body.instances.map((i: any) => i.instanceId),
    ["page-0", "page-1", "page-2"],
  );
});

test("the list filters by status, name, id prefix and created range", async () => {
  const from = new Date().toISOString();
  await run(echo, "x", "filter-echo");
  await run(failing, undefined, "filter-failing");
  await startWaiter("filter-waiter");
  const ids = async (query: string) =>
    (await call(d.url, `/api/instances?${query}`)).body.instances
      .map((i: any) => i.instanceId)
      .sort();

  assert.deepEqual(await ids("prefix=filter-&status=failed"), [
    "filter-failing",
  ]);
  assert.deepEqual(await ids("prefix=filter-&status=RUNNING,failed"), [
    "filter-failing",
    "filter-waiter",
  ]);
  assert.deepEqual(await ids("prefix=filter-&name=echo"), ["filter-echo"]);
  assert.deepEqual(await ids(`createdFrom=${from}&name=waiter`), [
    "filter-waiter",
  ]);
  assert.deepEqual(await ids(`prefix=filter-&createdTo=${from}`), []);
  await finishWaiter("filter-waiter");
});

test("the list shows top-level instances only, or the children of one", async () => {
  await run(parent, undefined, "tree");
  const top = await call(d.url, "/api/instances?prefix=tree&topLevel=true");
  assert.deepEqual(
    top.body.instances.map((i: any) => i.instanceId),
    ["tree"],
  );
  const kids = await call(d.url, `/api/instances?parent=tree&order=id`);
  assert.deepEqual(
    kids.body.instances.map((i: any) => i.instanceId),
    ["tree/c/1", "tree/c/2"],
  );
  assert.equal(kids.body.instances[0].parentInstanceId, "tree");
});

test("counts give every status, with the list's filters applied", async () => {
  await run(echo, 1, "count-a");
  await run(echo, 2, "count-b");
  await run(failing, undefined, "count-c");
  const r = await call(d.url, "/api/counts?prefix=count-");
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 3);
  assert.equal(r.body.counts.COMPLETED, 2);
  assert.equal(r.body.counts.FAILED, 1);
  assert.equal(r.body.counts.RUNNING, 0);
  assert.equal(Object.keys(r.body.counts).length, 8);
});

test("an instance answers with its input, output, custom status and failure", async () => {
  await run(echo, { hello: "world" }, "detail-ok");
  const ok = await call(d.url, instancePath("detail-ok"));
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body.input), { hello: "world" });
  assert.deepEqual(JSON.parse(ok.body.output), { hello: "world" });
  assert.equal(ok.body.failure, null);
  assert.ok(Date.parse(ok.body.completedAt) >= Date.parse(ok.body.createdAt));

  await run(failing, undefined, "detail-failed");
  const bad = await call(d.url, instancePath("detail-failed"));
  assert.equal(bad.body.status, "FAILED");
  assert.match(bad.body.failure.errorMessage, /blew up on purpose/);

  await startWaiter("detail-running");
  const live = await call(d.url, instancePath("detail-running"));
  assert.deepEqual(JSON.parse(live.body.customStatus), { waiting: "go" });
  await finishWaiter("detail-running");
});

test("ids with slashes and spaces are addressed percent-encoded", async () => {
  await run(echo, 1, "a b/c%d");
  const r = await call(d.url, instancePath("a b/c%d"));
  assert.equal(r.status, 200);
  assert.equal(r.body.instanceId, "a b/c%d");
});

test("an unknown instance answers 404 with a JSON error", async () => {
  const r = await call(d.url, instancePath("no-such-instance"));
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, "not_found");
  assert.match(r.body.error.message, /no instance "no-such-instance"/);
});

test("bad query input answers 400 naming what is wrong", async () => {
  const cases: [string, RegExp][] = [
    ["/api/instances?colour=red", /unknown query parameter "colour"/],
    ["/api/instances?status=sleeping", /"sleeping" is not a status/],
    ["/api/instances?limit=0", /limit "0" is not a whole number from 1 to 500/],
    ["/api/instances?limit=ten", /limit "ten"/],
    [
      "/api/instances?createdFrom=yesterday",
      /createdFrom "yesterday" is not an ISO 8601/,
    ],
    [
      "/api/instances?createdFrom=2025-02-01&createdTo=2025-01-01",
      /createdFrom is after createdTo/,
    ],
    ["/api/instances?cursor=bm9wZQ", /cursor is not one this API issued/],
    [
      "/api/instances?status=RUNNING&status=FAILED",
      /"status" is given more than once/,
    ],
    ["/api/instances?order=oldest", /order "oldest" is not one of newest, id/],
    [
      "/api/instances?taskhub=bad%20name",
      /taskhub "bad name" is not a valid task hub name/,
    ],
    [
      "/api/instances?parent=x&topLevel=1",
      /parent and topLevel cannot be used together/,
    ],
    [`${instancePath("page-0", "history")}?limit=5000`, /limit "5000"/],
  ];
  for (const [path, message] of cases) {
    const r = await call(d.url, path);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.error.code, "invalid_argument", path);
    assert.match(r.body.error.message, message, path);
  }
});

test("a cursor from one order is refused for the other", async () => {
  const first = await call(d.url, "/api/instances?prefix=page-&limit=1");
  const r = await call(
    d.url,
    `/api/instances?prefix=page-&order=id&cursor=${first.body.nextCursor}`,
  );
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /another order/);
});

test("unknown endpoints answer 404 and wrong methods 405 with Allow", async () => {
  const missing = await call(d.url, "/api/nothing-here");
  assert.equal(missing.status, 404);
  const wrong = await call(d.url, "/api/instances", { method: "DELETE" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  const get = await call(d.url, instancePath("page-0", "terminate"));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
});

test("history is paged by offset, from ExecutionStarted to ExecutionCompleted", async () => {
  await run(twice, 3, "hist");
  const all = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const page = await call(
      d.url,
      `${instancePath("hist", "history")}?offset=${offset}&limit=3`,
    );
    assert.ok(page.body.events.length <= 3);
    all.push(...page.body.events);
    offset = page.body.nextOffset;
  }
  const types = all.map((e) => e.type);
  assert.equal(types[1], "ExecutionStarted");
  assert.equal(types.at(-1), "ExecutionCompleted");
  const scheduled = all.filter((e) => e.type === "TaskScheduled");
  assert.deepEqual(
    scheduled.map((e) => e.name),
    ["double", "double"],
  );
  const completed = all.filter((e) => e.type === "TaskCompleted");
  assert.deepEqual(
    completed.map((e) => e.result),
    ["6", "12"],
  );
  assert.equal(all.at(-1).status, "COMPLETED");
});

test("the timeline pairs each activity with its result", async () => {
  const r = await call(d.url, instancePath("hist", "timeline"));
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 2);
  for (const bar of r.body.bars) {
    assert.equal(bar.kind, "activity");
    assert.equal(bar.name, "double");
    assert.equal(bar.outcome, "completed");
    assert.ok(bar.durationMs >= 0 && bar.offsetMs >= 0);
  }
  assert.ok(
    r.body.bars[1].offsetMs >=
      r.body.bars[0].offsetMs + r.body.bars[0].durationMs,
  );

  await run(failing, undefined, "timeline-failed");
  const failed = await call(d.url, instancePath("timeline-failed", "timeline"));
  assert.equal(failed.body.bars[0].outcome, "failed");
});

test("children lists sub-orchestrations with their status", async () => {
  const r = await call(d.url, instancePath("tree", "children"));
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.instances.map((i: any) => [i.instanceId, i.status]),
    [
      ["tree/c/1", "COMPLETED"],
      ["tree/c/2", "COMPLETED"],
    ],
  );
});

test("terminate from the API terminates the instance", async () => {
  await startWaiter("act-terminate");
  const r = await call(d.url, instancePath("act-terminate", "terminate"), {
    method: "POST",
    body: { reason: "operator says stop" },
  });
  assert.equal(r.status, 202);
  const s = await d.client.waitForOrchestrationCompletion(
    "act-terminate",
    true,
    30,
  );
  assert.equal(s?.runtimeStatus, OrchestrationStatus.TERMINATED);
  assert.equal(JSON.parse(s.serializedOutput!), "operator says stop");
});

test("suspend and resume from the API pause and continue the instance", async () => {
  await startWaiter("act-suspend");
  const s1 = await call(d.url, instancePath("act-suspend", "suspend"), {
    method: "POST",
    body: {},
  });
  assert.equal(s1.status, 202);
  await waitForStatus("act-suspend", "SUSPENDED");
  const s2 = await call(d.url, instancePath("act-suspend", "resume"), {
    method: "POST",
    body: {},
  });
  assert.equal(s2.status, 202);
  await waitForStatus("act-suspend", "RUNNING");
  await finishWaiter("act-suspend");
});

test("raising an event from the API delivers its name and data", async () => {
  await startWaiter("act-event");
  const r = await call(d.url, instancePath("act-event", "events"), {
    method: "POST",
    body: { name: "go", data: { approved: true } },
  });
  assert.equal(r.status, 202);
  const s = await d.client.waitForOrchestrationCompletion(
    "act-event",
    true,
    30,
  );
  assert.deepEqual(JSON.parse(s!.serializedOutput!), {
    got: { approved: true },
  });
});

test("purge refuses a running instance and deletes a finished one with its children", async () => {
  await startWaiter("act-purge-live");
  const refused = await call(d.url, instancePath("act-purge-live", "purge"), {
    method: "POST",
    body: {},
  });
  assert.equal(refused.status, 409);
  assert.match(
    refused.body.error.message,
    /only finished instances can be purged/,
  );
  await finishWaiter("act-purge-live");

  await run(parent, undefined, "purge-tree");
  const r = await call(d.url, instancePath("purge-tree", "purge"), {
    method: "POST",
    body: { recursive: true },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.deleted, 3);
  assert.equal(
    await d.client.getOrchestrationState("purge-tree/c/1"),
    undefined,
  );
});

test("actions refuse bad bodies with a clear error", async () => {
  await startWaiter("act-bad");
  const path = instancePath("act-bad", "events");
  type Case = { body: unknown; headers?: Record<string, string> };
  const cases: [Case, number, RegExp][] = [
    [{ body: {} }, 400, /name is required/],
    [{ body: { name: "go", extra: 1 } }, 400, /unknown field "extra"/],
    [{ body: { name: 5 } }, 400, /name must be a string/],
    [{ body: "[1,2]" }, 400, /must be a JSON object/],
    [{ body: "{nope" }, 400, /not valid JSON/],
    [
      {
        body: "name=go",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      415,
      /must be application\/json/,
    ],
  ];
  for (const [init, status, message] of cases) {
    const r = await call(d.url, path, {
      method: "POST",
      body: init.body,
      headers: init.headers,
    });
    assert.equal(r.status, status, JSON.stringify(init));
    assert.match(r.body.error.message, message);
  }
  const big = await call(d.url, path, {
    method: "POST",
    body: { name: "go", data: "x".repeat(1_100_000) },
  });
  assert.equal(big.status, 413);
  const terminated = await call(d.url, instancePath("act-bad", "terminate"), {
    method: "POST",
    body: { recursive: "yes" },
  });
  assert.equal(terminated.status, 400);
  assert.match(
    terminated.body.error.message,
    /recursive must be true or false/,
  );
  await finishWaiter("act-bad");
  const late = await call(d.url, instancePath("act-bad", "suspend"), {
    method: "POST",
    body: {},
  });
  assert.equal(late.status, 409);
  assert.match(late.body.error.message, /is completed and cannot be suspended/);
});

test("an action needs a JSON content type, even with no body", async () => {
  await startWaiter("act-form");
  const r = await call(d.url, instancePath("act-form", "terminate"), {
    method: "POST",
  });
  assert.equal(r.status, 415);
  assert.match(
    r.body.error.message,
    /must be application\/json \(got "no content type"\)/,
  );
  const s = await call(d.url, instancePath("act-form"));
  assert.equal(s.body.status, "RUNNING");
  await finishWaiter("act-form");
});

test("a POST from another site's page is refused", async () => {
  await startWaiter("act-foreign");
  const foreign: Record<string, string>[] = [
    { origin: "http://evil.example" },
    { origin: "null" },
    { "sec-fetch-site": "cross-site" },
  ];
  for (const headers of foreign) {
    const r = await call(d.url, instancePath("act-foreign", "terminate"), {
      method: "POST",
      body: {},
      headers,
    });
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.equal(r.body.error.code, "forbidden");
  }
  const same = await call(d.url, instancePath("act-foreign", "events"), {
    method: "POST",
    body: { name: "go" },
    headers: { origin: d.url },
  });
  assert.equal(same.status, 202);
  await d.client.waitForOrchestrationCompletion("act-foreign", false, 30);
});

test("on loopback without a token, other host names are refused", async () => {
  const port = new URL(d.url).port;
  const refused = await rawGet(port, "rebound.example:" + port);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /answers to localhost names only/);
  assert.equal((await rawGet(port, `localhost:${port}`)).status, 200);
});

test("odd request targets are answered, not followed", async () => {
  const port = new URL(d.url).port;
  const host = `127.0.0.1:${port}`;
  assert.equal((await rawGet(port, host, "//api/instances")).status, 404);
  const absolute = await rawGet(port, host, `http://${host}/api/info`);
  assert.equal(absolute.status, 400);
  assert.match(absolute.body, /must be a path/);
  assert.equal(
    (await rawGet(port, host, "/api/instances/%E0%A4%A")).status,
    400,
  );
});

test("API answers carry the server time in Server-Timing", async () => {
  const r = await call(d.url, "/api/instances?limit=1");
  assert.match(r.headers.get("server-timing") ?? "", /^app;dur=\d+(\.\d+)?$/);
});

test("/healthz answers ok while the store answers", async () => {
  const r = await call(d.url, "/healthz");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: "ok" });
});

test("/metrics exposes instances, work in flight, latencies and activities in Prometheus text", async () => {
  await run(twice, 1, "metrics-run");
  await startWaiter("metrics-live");
  const r = await call(d.url, "/metrics");
  assert.equal(r.status, 200);
  assert.match(
    r.headers.get("content-type") ?? "",
    /^text\/plain; version=0\.0\.4/,
  );
  const value = (re: RegExp) => Number(re.exec(r.text)?.[1]);
  assert.ok(
    value(
      /^durascribe_instances\{taskhub="default",status="COMPLETED"\} (\d+)$/m,
    ) >= 1,
  );
  assert.ok(
    value(
      /^durascribe_instances\{taskhub="default",status="RUNNING"\} (\d+)$/m,
    ) >= 1,
  );
  assert.match(
    r.text,
    /^durascribe_work_items_in_flight\{taskhub="default",kind="activity"\} \d+$/m,
  );
  assert.ok(
    value(
      /^durascribe_activities_completed_total\{taskhub="default",outcome="succeeded"\} (\d+)$/m,
    ) >= 2,
  );
  assert.ok(
    value(
      /^durascribe_activities_completed_total\{taskhub="default",outcome="failed"\} (\d+)$/m,
    ) >= 1,
  );
  const dispatched = value(
    /^durascribe_dispatch_latency_seconds_count\{taskhub="default",kind="activity"\} (\d+)$/m,
  );
  assert.ok(dispatched >= 2);
  assert.equal(
    value(
      /^durascribe_dispatch_latency_seconds_bucket\{taskhub="default",kind="activity",le="\+Inf"\} (\d+)$/m,
    ),
    dispatched,
  );
  assert.ok(
    value(
      /^durascribe_store_commit_seconds_count\{taskhub="default",kind="orchestration"\} (\d+)$/m,
    ) >= 1,
  );
  assert.match(
    r.text,
    /^# TYPE durascribe_dispatch_latency_seconds histogram$/m,
  );
  await finishWaiter("metrics-live");
});

/** Suspended and running have no SDK wait: re-check, bounded in time. */
function waitForStatus(id: string, status: string): Promise<true> {
  return eventually(async () => {
    const r = await call(d.url, instancePath(id));
    return r.body.status === status ? true : undefined;
  }, `${id} to become ${status}`);
}

/** A GET with a Host header of our choosing (fetch will not send one). */
function rawGet(
  port: string,
  host: string,
  path = "/api/info",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(port),
        path,
        headers: { host },
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
