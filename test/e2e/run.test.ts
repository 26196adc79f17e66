import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import type { FullBatchResult } from "../../src/workflow/types.js";
import { deferrer, tempDir } from "../hub/helpers.js";
import { speechMp4, videoOnlyMp4 } from "../support/media.js";
import { buildApi, startRun, testModel } from "./helpers.js";

test("durascribe run transcribes files and a Build session, and reports each failure as a result", async (t) => {
  const defer = deferrer(t);
  const { dir, cleanup } = tempDir();
  defer(cleanup);
  await speechMp4(dir, { name: "fox.mp4" });
  const talk = await speechMp4(dir, {
    name: "session.mp4",
    text: "Welcome to the session. Today we talk about the quick brown fox.",
  });
  await videoOnlyMp4(dir, 2, "silent.mp4");
  const api = await buildApi({
    DEM520: { title: "Local AI development", file: talk },
  });
  defer(() => api.close());
  const { model, real } = await testModel(dir);

  const run = startRun(dir, [
    "fox.mp4",
    "silent.mp4",
    "DEM520",
    "NOPE404",
    "--model",
    model,
    "--threads",
    "2",
    "--build-api-url",
    api.url,
    "--json",
  ]);
  const { code, stdout, stderr } = await run.done;

  assert.equal(code, 1, stderr);
  const result = JSON.parse(stdout) as FullBatchResult;
  assert.deepEqual([result.total, result.succeeded, result.failed], [4, 2, 2]);
  const [fox, silent, session, nope] = result.results;
  assert.equal(fox!.status, "succeeded");
  for (const f of ["txt", "srt", "vtt", "json"] as const) {
    assert.ok(existsSync(fox!.transcripts[f]!), `${f} written`);
  }
  assert.equal(
    fox!.transcripts.txt,
    path.join(dir, "transcripts", "videos", "fox.txt"),
  );
  assert.ok(existsSync(fox!.manifest!));
  assert.equal(session!.title, "Local AI development");
  assert.equal(session!.status, "succeeded");
  assert.equal(session!.mediaUrl, `${api.url}/media/DEM520.mp4`);
  assert.match(session!.transcripts.srt!, /DEM520\.srt$/);
  if (real) {
    assert.match(readFileSync(fox!.transcripts.txt, "utf8"), /dog/i);
    assert.match(readFileSync(session!.transcripts.txt!, "utf8"), /session/i);
  }
  assert.deepEqual([silent!.status, silent!.attempts], ["failed", 1]);
  assert.match(silent!.error!, /no audio stream/);
  assert.deepEqual(
    [nope!.status, nope!.errorCode, nope!.attempts],
    ["failed", "E_SOURCE_UNKNOWN_SESSION", 0],
  );
});

test("of 3 media files, an unknown Build code and a URL that answers 404, 3 are transcribed and 2 fail with their reasons", async (t) => {
  const defer = deferrer(t);
  const { dir, cleanup } = tempDir();
  defer(cleanup);
  await speechMp4(dir, { name: "first.mp4" });
  await speechMp4(dir, { name: "second.mp4", text: "A second talk." });
  await speechMp4(dir, { name: "third.mp4", text: "And a third one." });
  const api = await buildApi({});
  defer(() => api.close());
  const { model } = await testModel(dir);
  const missing = `${api.url}/videos/missing.mp4`;

  const run = startRun(dir, [
    "first.mp4",
    "second.mp4",
    "third.mp4",
    "XYZ999",
    missing,
    "--model",
    model,
    "--threads",
    "2",
    "--build-api-url",
    api.url,
  ]);
  const { code, stdout, stderr } = await run.done;

  assert.equal(code, 1, stderr);
  const written = readdirSync(path.join(dir, "transcripts", "videos"));
  for (const name of ["first", "second", "third"]) {
    for (const f of ["txt", "srt", "vtt", "json"]) {
      assert.ok(written.includes(`${name}.${f}`), `${name}.${f} written`);
    }
  }
  assert.equal(written.filter((f) => f.endsWith(".txt")).length, 3);
  // The summary lists each failure with its reason.
  assert.match(stdout, /XYZ999 +failed[^\n]*does not exist/);
  assert.match(stdout, /missing +failed[^\n]*404[^\n]*videos\/missing\.mp4/);
});
