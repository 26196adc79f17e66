/**
 * The dashboard with a hub token: a bearer header for the API, a sign-in
 * form and session cookie for browsers.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { call, startDashboardHub, type DashboardHub } from "./support.js";

const TOKEN = "s3cret-token";
let d: DashboardHub;

before(async () => {
  d = await startDashboardHub({ token: TOKEN });
});

after(() => d.stop());

async function signIn(token: string, next = "/"): Promise<Response> {
  return fetch(`${d.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next }).toString(),
    redirect: "manual",
  });
}

test("the API refuses a call without the bearer token", async () => {
  const r = await call(d.url, "/api/instances");
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, "unauthenticated");
  assert.match(
    r.body.error.message,
    /requires `Authorization: Bearer <token>`/,
  );
  assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
});

test("the API refuses a wrong bearer token", async () => {
  const r = await call(d.url, "/api/instances", { token: "guess" });
  assert.equal(r.status, 401);
  assert.match(r.body.error.message, /not valid for this hub/);
});

test("the right bearer token opens the API and the metrics", async () => {
  assert.equal(
    (await call(d.url, "/api/instances", { token: TOKEN })).status,
    200,
  );
  const metrics = await call(d.url, "/metrics", { token: TOKEN });
  assert.equal(metrics.status, 200);
  assert.equal((await call(d.url, "/metrics")).status, 401);
});

test("a browser without a session is sent to the sign-in form", async () => {
  const r = await call(d.url, "/instance?id=x");
  assert.equal(r.status, 303);
  assert.equal(r.headers.get("location"), "/login?next=%2Finstance%3Fid%3Dx");
  const form = await call(d.url, "/login?next=%2Finstance%3Fid%3Dx");
  assert.equal(form.status, 200);
  assert.match(form.text, /<label for="token">Hub token<\/label>/);
  assert.match(form.text, /name="next" value="\/instance\?id=x"/);
});

test("signing in with the token sets a session that opens the pages and the API", async () => {
  const r = await signIn(TOKEN, "/instance?id=x");
  assert.equal(r.status, 303);
  assert.equal(r.headers.get("location"), "/instance?id=x");
  const cookie = r.headers.get("set-cookie") ?? "";
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.ok(!cookie.includes(TOKEN), "the cookie must not hold the token");
  const session = cookie.split(";")[0]!;
  const page = await call(d.url, "/", { headers: { cookie: session } });
  assert.equal(page.status, 200);
  assert.match(page.text, /<main id="main"/);
  const api = await call(d.url, "/api/info", { headers: { cookie: session } });
  assert.equal(api.status, 200);
  assert.equal(api.body.authRequired, true);
});

test("a wrong token on the form answers 401 and sets no session", async () => {
  const r = await signIn("wrong");
  assert.equal(r.status, 401);
  assert.equal(r.headers.get("set-cookie"), null);
  assert.match(await r.text(), /That token is not valid for this hub/);
});

test("sign-in only ever returns to a path on this site", async () => {
  for (const next of ["//evil.example/", "https://evil.example/", "/\\evil"]) {
    const r = await signIn(TOKEN, next);
    assert.equal(r.headers.get("location"), "/", next);
  }
});

test("health and the static assets need no token", async () => {
  assert.equal((await call(d.url, "/healthz")).status, 200);
  const css = await call(d.url, "/assets/app.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
  assert.equal((await call(d.url, "/assets/index.html")).status, 404);
  assert.equal((await call(d.url, "/assets/..%2Fserver.js")).status, 404);
});

test("signing out clears the session cookie", async () => {
  const r = await fetch(`${d.url}/logout`, {
    method: "POST",
    redirect: "manual",
  });
  assert.equal(r.status, 303);
  assert.match(r.headers.get("set-cookie") ?? "", /Max-Age=0/);
  assert.equal(r.headers.get("location"), "/login");
});
