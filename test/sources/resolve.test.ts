import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";

import { BuildApi } from "../../src/sources/build.js";
import { expandSources } from "../../src/sources/expand.js";
import { resolveSources } from "../../src/sources/resolve.js";
import { tempDir } from "../hub/helpers.js";
import { withServer } from "../transcribe/http-server.js";

/** A session as the Build API answers it (the fields we read, and others). */
function session(code: string, link: string | null) {
  return {
    sessionId: "7a1c2f1e-0000-4000-8000-000000000001",
    sessionCode: code,
    title: `Session ${code}: what is new`,
    description: "A talk.",
    startDateTime: "2025-05-20T16:00:00+00:00",
    onDemand: `https://medius.studios.ms/Embed/video-nc/B25-${code}`,
    downloadVideoLink: link,
    captionFileLink: null,
    slideDeck: "",
    speakerNames: ["A Speaker"],
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const fast = { attempts: 3, backoffMs: 5, timeoutMs: 2000 };

test("a session code resolves to its downloadVideoLink and title via GET /api/session/en-US-<CODE>", async () => {
  const paths: string[] = [];
  await withServer(
    (req, res) => {
      paths.push(req.url!);
      json(res, 200, session("DEM520", "https://cdn.example/DEM520.mp4"));
    },
    async ({ url, requests }) => {
      const api = new BuildApi({ baseUrl: url, ...fast });

      const s = await api.session("DEM520");

      assert.deepEqual(s, {
        code: "DEM520",
        title: "Session DEM520: what is new",
        mediaUrl: "https://cdn.example/DEM520.mp4",
      });
      assert.deepEqual(paths, ["/api/session/en-US-DEM520"]);
      assert.equal(requests[0]!.accept, "application/json");
    },
  );
});

test("a 5xx answer is retried and the next answer is used", async () => {
  await withServer(
    (_req, res, i) =>
      i < 2
        ? json(res, 503, { error: "busy" })
        : json(res, 200, session("BRK101", "https://cdn.example/b.mp4")),
    async ({ url, requests }) => {
      const api = new BuildApi({ baseUrl: url, ...fast });

      const s = await api.session("BRK101");

      assert.equal(s.mediaUrl, "https://cdn.example/b.mp4");
      assert.equal(requests.length, 3);
    },
  );
});

test("an unknown code, a session without video and a lasting 5xx are per-item errors", async () => {
  await withServer(
    (req, res) => {
      if (req.url!.endsWith("NOPE404")) return json(res, 404, {});
      if (req.url!.endsWith("SOON123")) {
        return json(res, 200, session("SOON123", null));
      }
      json(res, 500, { error: "down" });
    },
    async ({ url }) => {
      const build = new BuildApi({ baseUrl: url, ...fast });
      const entries = await expandSources(
        ["NOPE404", "SOON123", "DOWN500"],
        "/",
      );

      const resolved = await resolveSources(entries, { build });

      assert.deepEqual(
        resolved.map((r) => [r.id, r.mediaUrl, r.errorCode]),
        [
          ["NOPE404", null, "E_SOURCE_UNKNOWN_SESSION"],
          ["SOON123", null, "E_SOURCE_NO_VIDEO"],
          ["DOWN500", null, "E_SOURCE_LOOKUP"],
        ],
      );
      assert.match(resolved[0]!.error!, /NOPE404 does not exist/);
      assert.match(resolved[1]!.error!, /no downloadable video/);
      assert.match(resolved[2]!.error!, /answered 500/);
    },
  );
});

test("a request that outlives its timeout is an error for that item", async () => {
  await withServer(
    () => {
      // Never answers: the client's timeout must end the request.
    },
    async ({ url }) => {
      const build = new BuildApi({
        baseUrl: url,
        attempts: 1,
        timeoutMs: 100,
      });
      const entries = await expandSources(["SLOW100"], "/");

      const [r] = await resolveSources(entries, { build });

      assert.equal(r!.errorCode, "E_SOURCE_LOOKUP");
      assert.match(r!.error!, /SLOW100.*failed/);
    },
  );
});

test("files and URLs resolve without a lookup; a file deleted since expansion is an error", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const kept = path.join(dir, "kept.mp4");
  const gone = path.join(dir, "gone.mp4");
  writeFileSync(kept, "x");
  writeFileSync(gone, "x");
  const entries = await expandSources(
    [kept, gone, "https://example.com/v/Opening%20Keynote.mp4"],
    dir,
  );
  const { rmSync } = await import("node:fs");
  rmSync(gone);

  const resolved = await resolveSources(entries, {
    build: new BuildApi({ baseUrl: "http://127.0.0.1:9" }),
  });

  assert.deepEqual(
    resolved.map((r) => [r.title, r.mediaUrl, r.errorCode]),
    [
      ["kept", kept, null],
      ["gone", null, "E_SOURCE_NOT_FOUND"],
      ["Opening Keynote", "https://example.com/v/Opening%20Keynote.mp4", null],
    ],
  );
});
