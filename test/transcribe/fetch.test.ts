import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { PermanentMediaError, TransientError } from "../../src/errors.js";
import { fetchMedia, retryAfterMs } from "../../src/transcribe/fetch.js";
import type { FetchOptions } from "../../src/transcribe/fetch.js";
import { dropAfter, payload, withServer } from "./http-server.js";

const FAST: FetchOptions = { backoffMs: 1, maxBackoffMs: 5 };

async function withTempDir(body: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-fetch-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test("an http download lands at dest with progress reported", async () => {
  const media = payload(50_000);
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": media.length });
      res.end(media);
    },
    async ({ url }) => {
      await withTempDir(async (dir) => {
        const seen: [number, number | undefined][] = [];
        const dest = path.join(dir, "sub", "talk.mp4");
        const got = await fetchMedia(`${url}/talk.mp4`, dest, {
          onProgress: (bytes, total) => seen.push([bytes, total]),
        });

        assert.equal(got, dest);
        assert.deepEqual(await readFile(dest), media);
        assert.deepEqual(seen.at(-1), [media.length, media.length]);
        assert.deepEqual(await readdir(path.join(dir, "sub")), ["talk.mp4"]);
      });
    },
  );
});

void test("a 404 is a permanent error naming the URL and status", async () => {
  await withServer(
    (_req, res) => res.writeHead(404).end("not here"),
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const source = `${url}/missing.mp4`;
        await assert.rejects(
          fetchMedia(source, path.join(dir, "m.mp4"), FAST),
          (err: unknown) =>
            err instanceof PermanentMediaError &&
            err.message.includes(source) &&
            err.message.includes("404"),
        );
        assert.equal(requests.length, 1);
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

void test("a 500 is retried and the next answer's body is kept", async () => {
  const media = payload(1_000);
  await withServer(
    (_req, res, i) => {
      if (i === 0) res.writeHead(500).end("oops");
      else res.writeHead(200).end(media);
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const dest = path.join(dir, "m.mp4");
        await fetchMedia(`${url}/m.mp4`, dest, FAST);

        assert.equal(requests.length, 2);
        assert.deepEqual(await readFile(dest), media);
      });
    },
  );
});

void test("persistent 503s give up after maxAttempts as a transient error", async () => {
  await withServer(
    (_req, res) => res.writeHead(503).end(),
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            maxAttempts: 3,
          }),
          (err: unknown) =>
            err instanceof TransientError &&
            /gave up after 3/.test(err.message),
        );
        assert.equal(requests.length, 3);
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

/**
 * Fetches from a server that first answers `status` with `retryAfter`,
 * then 200, and returns the milliseconds between the two requests.
 */
async function gapAfter(
  status: number,
  retryAfter: string,
  opts: FetchOptions = FAST,
): Promise<number> {
  const at: number[] = [];
  let gap = 0;
  await withServer(
    (_req, res, i) => {
      at.push(performance.now());
      if (i === 0) res.writeHead(status, { "retry-after": retryAfter }).end();
      else res.writeHead(200).end(payload(100));
    },
    async ({ url }) => {
      await withTempDir(async (dir) => {
        await fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), opts);
        assert.equal(at.length, 2);
        gap = at[1]! - at[0]!;
      });
    },
  );
  return gap;
}

void test("a 503 with Retry-After in seconds waits that long before the retry", async () => {
  // The backoff alone would retry within 5 ms.
  const gap = await gapAfter(503, "1");
  assert.ok(gap >= 990, `retried after ${gap.toFixed(0)} ms`);
});

void test("a 429 with Retry-After as an HTTP date waits until then", async () => {
  const date = new Date(Date.now() + 2000).toUTCString();
  const gap = await gapAfter(429, date);
  // The date has whole seconds: at least one of the two is left.
  assert.ok(gap >= 990, `retried after ${gap.toFixed(0)} ms`);
});

void test("a Retry-After past maxRetryAfterMs is cut to it", async () => {
  const gap = await gapAfter(503, "3600", { ...FAST, maxRetryAfterMs: 300 });
  assert.ok(gap >= 290 && gap < 5000, `retried after ${gap.toFixed(0)} ms`);
});

void test("Retry-After values are read as seconds or HTTP dates, and anything else is ignored", () => {
  const now = Date.parse("Fri, 04 Dec 2026 01:00:00 GMT");
  assert.equal(retryAfterMs("120", now), 120_000);
  assert.equal(retryAfterMs(" 0 ", now), 0);
  assert.equal(retryAfterMs("Fri, 04 Dec 2026 01:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("Fri, 04 Dec 2026 00:59:00 GMT", now), 0);
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs("-5", now), undefined);
  assert.equal(retryAfterMs(undefined, now), undefined);
});

void test("a dropped connection resumes with a Range request and exact bytes", async () => {
  const media = payload(200_000);
  const headers = { "accept-ranges": "bytes", etag: '"v1"' };
  await withServer(
    (req, res, i) => {
      if (i === 0) {
        res.writeHead(200, { ...headers, "content-length": media.length });
        dropAfter(res, media.subarray(0, 80_000));
        return;
      }
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1]);
      res.writeHead(206, {
        ...headers,
        "content-length": media.length - from,
        "content-range": `bytes ${from}-${media.length - 1}/${media.length}`,
      });
      res.end(media.subarray(from));
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const dest = path.join(dir, "m.mp4");
        await fetchMedia(`${url}/m.mp4`, dest, FAST);

        assert.equal(requests.length, 2);
        const range = /^bytes=(\d+)-$/.exec(requests[1]!.range ?? "");
        assert.ok(range, `second request had Range ${requests[1]!.range}`);
        assert.ok(Number(range[1]) > 0 && Number(range[1]) <= 80_000);
        assert.equal(requests[1]!["if-range"], '"v1"');
        assert.deepEqual(await readFile(dest), media);
      });
    },
  );
});

void test("a server that ignores Range restarts the file from the first byte", async () => {
  const media = payload(100_000);
  await withServer(
    (_req, res, i) => {
      res.writeHead(200, {
        "accept-ranges": "bytes",
        "content-length": media.length,
      });
      if (i === 0) dropAfter(res, media.subarray(0, 30_000));
      else res.end(media);
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const dest = path.join(dir, "m.mp4");
        await fetchMedia(`${url}/m.mp4`, dest, FAST);

        assert.match(requests[1]!.range ?? "", /^bytes=\d+-$/);
        assert.deepEqual(await readFile(dest), media);
      });
    },
  );
});

void test("a dropped download without Accept-Ranges retries without Range", async () => {
  const media = payload(100_000);
  await withServer(
    (_req, res, i) => {
      res.writeHead(200, { "content-length": media.length });
      if (i === 0) dropAfter(res, media.subarray(0, 30_000));
      else res.end(media);
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const dest = path.join(dir, "m.mp4");
        await fetchMedia(`${url}/m.mp4`, dest, FAST);

        assert.equal(requests[1]!.range, undefined);
        assert.deepEqual(await readFile(dest), media);
      });
    },
  );
});

void test("a truncated body on every attempt fails as transient and leaves no temp file", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": 10_000 });
      dropAfter(res, payload(1_000));
    },
    async ({ url }) => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            maxAttempts: 2,
          }),
          TransientError,
        );
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

void test("a Content-Length over the size cap fails before any byte is stored", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": 5_000 });
      res.end(payload(5_000));
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            maxBytes: 4_096,
          }),
          (err: unknown) =>
            err instanceof PermanentMediaError &&
            err.code === "E_MEDIA_TOO_LARGE",
        );
        assert.equal(requests.length, 1);
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

void test("a chunked body that grows past the size cap is cut off", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(payload(1_000));
      res.end();
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            maxBytes: 4_096,
          }),
          (err: unknown) =>
            err instanceof PermanentMediaError &&
            err.code === "E_MEDIA_TOO_LARGE",
        );
        assert.equal(requests[0]!["transfer-encoding"], undefined);
        assert.equal(requests.length, 1);
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

void test("a server that goes silent mid-body hits the idle timeout", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": 10_000 });
      res.write(payload(1_000));
    },
    async ({ url }) => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            idleTimeoutMs: 100,
            maxAttempts: 1,
          }),
          (err: unknown) =>
            err instanceof TransientError &&
            err.code === "E_FETCH_IDLE_TIMEOUT",
        );
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});

void test("redirects are followed to the media", async () => {
  const media = payload(2_000);
  await withServer(
    (req, res) => {
      if (req.url === "/old") res.writeHead(302, { location: "/new" }).end();
      else res.writeHead(200).end(media);
    },
    async ({ url, requests }) => {
      await withTempDir(async (dir) => {
        const dest = path.join(dir, "m.mp4");
        await fetchMedia(`${url}/old`, dest, FAST);

        assert.equal(requests.length, 2);
        assert.deepEqual(await readFile(dest), media);
      });
    },
  );
});

void test("a local path is returned as an absolute path without copying", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "talk.mp4");
    await writeFile(file, "x");

    const got = await fetchMedia(path.relative(process.cwd(), file), "unused");
    assert.equal(got, file);
    assert.deepEqual(await readdir(dir), ["talk.mp4"]);
  });
});

void test("a file: URL is returned as its path", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "talk one.mp4");
    await writeFile(file, "x");

    const got = await fetchMedia(pathToFileURL(file).href, "unused");
    assert.equal(got, file);
  });
});

void test("a missing local file is a permanent error", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      fetchMedia(path.join(dir, "nope.mp4"), "unused"),
      (err: unknown) =>
        err instanceof PermanentMediaError && err.code === "E_MEDIA_NOT_FOUND",
    );
  });
});

void test("a local folder is a permanent error", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      fetchMedia(dir, "unused"),
      (err: unknown) =>
        err instanceof PermanentMediaError && err.code === "E_MEDIA_NOT_FILE",
    );
  });
});

void test("an unsupported URL scheme is a permanent error", async () => {
  await assert.rejects(
    fetchMedia("ftp://example.com/talk.mp4", "unused"),
    (err: unknown) =>
      err instanceof PermanentMediaError && err.code === "E_FETCH_SCHEME",
  );
});

void test("an aborted download throws the abort reason and removes its temp file", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": 10_000 });
      res.write(payload(1_000));
    },
    async ({ url }) => {
      await withTempDir(async (dir) => {
        const controller = new AbortController();
        const reason = new Error("user cancelled");
        await assert.rejects(
          fetchMedia(`${url}/m.mp4`, path.join(dir, "m.mp4"), {
            ...FAST,
            onProgress: () => controller.abort(reason),
            signal: controller.signal,
          }),
          (err: unknown) => err === reason,
        );
        assert.deepEqual(await readdir(dir), []);
      });
    },
  );
});
