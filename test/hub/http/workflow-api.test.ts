/**
 * The batch view and the transcripts, on real orchestrations that produce
 * the workflow's shapes, with transcripts written by the file store.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { DashboardServer } from "../../../src/hub/http/server.js";
import { blobParts, blobReader } from "../../../src/hub/http/transcript.js";
import { openTranscriptStore } from "../../../src/storage/open.js";
import { withAzurite } from "../../storage/azurite.js";
import { eventually, tempDir } from "../helpers.js";
import {
  call,
  instancePath,
  startDashboardHub,
  type DashboardHub,
} from "./support.js";
import {
  sampleTranscript,
  transcribeBatch,
  writeTranscripts,
  type FakeVideo,
} from "./workflow.js";

let d: DashboardHub;
let dir: { dir: string; cleanup: () => void };
let videos: FakeVideo[];

before(async () => {
  dir = tempDir();
  d = await startDashboardHub();
  const good = await writeTranscripts(
    dir.dir,
    "talk-one",
    sampleTranscript(["Hello and welcome.", "Durable batches are calm."]),
  );
  videos = [
    {
      id: "s-one",
      source: "https://example.test/one.mp4",
      title: "Talk one",
      outcome: "succeeded",
      transcripts: good,
      audioSeconds: 62,
      language: "en",
    },
    {
      id: "s-two",
      source: "https://example.test/two.mp4",
      title: "Talk two",
      outcome: "failed",
      error: "the server answered 404",
      errorCode: "E_FETCH_STATUS",
    },
    ...Array.from({ length: 10 }, (_, i): FakeVideo => ({
      id: `s-x${i}`,
      source: `https://example.test/x${i}.mp4`,
      title: `Extra ${i}`,
      outcome: "succeeded",
      transcripts: { json: good.json! },
    })),
  ];
});

after(async () => {
  await d.stop();
  dir.cleanup();
});

async function startBatch(id: string): Promise<void> {
  await d.client.scheduleNewOrchestration(transcribeBatch, { videos }, id);
  // Its first work item creates every child in the same commit.
  await d.client.waitForOrchestrationStart(id, false, 30);
}

async function finish(id: string, indexes: number[]): Promise<void> {
  for (const i of indexes) {
    await d.client.raiseOrchestrationEvent(`${id}/v/${i}`, "finish", null);
    await d.client.waitForOrchestrationCompletion(`${id}/v/${i}`, false, 30);
  }
}

test("a running batch's view counts its videos and lists them in source order", async () => {
  await startBatch("run-batch");
  await finish("run-batch", [0, 1]);
  await eventuallyDone("run-batch", 2);
  const r = await call(d.url, instancePath("run-batch", "batch"));
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.summary, {
    total: 12,
    succeeded: 1,
    failed: 1,
    running: 10,
  });
  assert.deepEqual(r.body.outcomes, {
    all: 12,
    succeeded: 1,
    failed: 1,
    running: 10,
  });
  const rows = r.body.videos;
  assert.deepEqual(
    rows.map((v: any) => v.instanceId),
    Array.from({ length: 12 }, (_, i) => `run-batch/v/${i}`),
  );
  assert.deepEqual(
    [
      rows[0].title,
      rows[0].status,
      rows[0].audioSeconds,
      rows[0].language,
      rows[0].formats,
    ],
    ["Talk one", "succeeded", 62, "en", ["txt", "srt", "vtt", "json"]],
  );
  assert.deepEqual(
    [rows[1].status, rows[1].error, rows[1].errorCode],
    ["failed", "the server answered 404", "E_FETCH_STATUS"],
  );
  assert.deepEqual(
    [rows[2].status, rows[2].progress, rows[2].title],
    ["transcribing", 0.5, "Extra 0"],
  );
});

test("the batch view filters videos by outcome and pages them", async () => {
  const failed = await call(
    d.url,
    `${instancePath("run-batch", "batch")}?outcome=failed`,
  );
  assert.deepEqual(
    failed.body.videos.map((v: any) => v.title),
    ["Talk two"],
  );
  const page = await call(
    d.url,
    `${instancePath("run-batch", "batch")}?outcome=running&offset=8&limit=5`,
  );
  assert.deepEqual(
    page.body.videos.map((v: any) => v.title),
    ["Extra 8", "Extra 9"],
  );
  assert.equal(page.body.nextOffset, null);
  const bad = await call(
    d.url,
    `${instancePath("run-batch", "batch")}?outcome=lost`,
  );
  assert.equal(bad.status, 400);
});

test("a finished batch's view lists its results with their formats", async () => {
  await finish(
    "run-batch",
    Array.from({ length: 10 }, (_, i) => i + 2),
  );
  await d.client.waitForOrchestrationCompletion("run-batch", false, 30);
  const r = await call(d.url, instancePath("run-batch", "batch"));
  assert.deepEqual(r.body.summary, {
    total: 12,
    succeeded: 11,
    failed: 1,
    running: 0,
  });
  assert.equal(r.body.videos.length, 12);
  assert.deepEqual(
    [r.body.videos[0].videoId, r.body.videos[0].instanceId],
    ["s-one", null],
  );
  assert.deepEqual(r.body.videos[2].formats, ["json"]);
});

test("a finished batch run in parts lists its videos from their instances", async () => {
  const id = "parts-batch";
  await d.client.scheduleNewOrchestration(
    transcribeBatch,
    { videos, partSize: 5 },
    id,
  );
  await d.client.waitForOrchestrationStart(id, false, 30);
  for (let i = 0; i < videos.length; i++) {
    const video = `${id}/b/${Math.floor(i / 5)}/v/${i % 5}`;
    await d.client.raiseOrchestrationEvent(video, "finish", null);
  }
  const done = await d.client.waitForOrchestrationCompletion(id, true, 30);
  assert.equal(JSON.parse(done!.serializedOutput!).parts.length, 3);

  const r = await call(d.url, instancePath(id, "batch"));

  assert.deepEqual(r.body.summary, {
    total: 12,
    succeeded: 11,
    failed: 1,
    running: 0,
  });
  assert.deepEqual(
    r.body.videos.map((v: any) => [v.instanceId, v.videoId]),
    videos.map((v, i) => [`${id}/b/${Math.floor(i / 5)}/v/${i % 5}`, v.id]),
  );
  assert.deepEqual(r.body.videos[0].formats, ["txt", "srt", "vtt", "json"]);
  // A video's transcript comes from its own instance; the batch says so.
  const own = await call(d.url, instancePath(`${id}/b/0/v/0`, "transcript"));
  assert.equal(own.status, 200);
  const viaBatch = await call(
    d.url,
    `${instancePath(id, "transcript")}?video=s-one`,
  );
  assert.equal(viaBatch.status, 400);
  assert.match(viaBatch.body.error.message, /ran in child batches/);
});

test("the batch view refuses an instance that is not a batch", async () => {
  const r = await call(d.url, instancePath("run-batch/v/0", "batch"));
  assert.equal(r.status, 400);
  assert.match(
    r.body.error.message,
    /is a transcribeVideo, not a transcribeBatch/,
  );
});

test("a video's transcript is served from its recorded location, as JSON or any format", async () => {
  const info = await call(d.url, instancePath("run-batch/v/0", "transcript"));
  assert.equal(info.status, 200);
  assert.deepEqual(info.body.formats, ["txt", "srt", "vtt", "json"]);
  assert.equal(info.body.title, "Talk one");

  const json = await call(
    d.url,
    `${instancePath("run-batch/v/0", "transcript")}?format=json`,
  );
  assert.equal(json.status, 200);
  assert.deepEqual(
    json.body.segments.map((s: any) => s.text.trim()),
    ["Hello and welcome.", "Durable batches are calm."],
  );
  const srt = await call(
    d.url,
    `${instancePath("run-batch/v/0", "transcript")}?format=srt&download=1`,
  );
  assert.match(srt.headers.get("content-type") ?? "", /^application\/x-subrip/);
  assert.match(
    srt.headers.get("content-disposition") ?? "",
    /^attachment; filename="talk-one\.srt"$/,
  );
  assert.match(
    srt.text,
    /^1\n00:00:00,000 --> 00:00:01,000\nHello and welcome\.\n/,
  );
});

test("a batch's transcript is found by video id among its results", async () => {
  const needsVideo = await call(
    d.url,
    `${instancePath("run-batch", "transcript")}?format=json`,
  );
  assert.equal(needsVideo.status, 400);
  assert.match(needsVideo.body.error.message, /say which video/);
  const r = await call(
    d.url,
    `${instancePath("run-batch", "transcript")}?format=txt&video=s-one`,
  );
  assert.equal(r.status, 200);
  assert.equal(r.text, "Hello and welcome.\nDurable batches are calm.\n");
  const unknown = await call(
    d.url,
    `${instancePath("run-batch", "transcript")}?video=s-nine`,
  );
  assert.equal(unknown.status, 404);
});

test("only recorded formats are served, and never a path from the query", async () => {
  const missing = await call(
    d.url,
    `${instancePath("run-batch/v/3", "transcript")}?format=srt`,
  );
  assert.equal(missing.status, 404);
  assert.match(missing.body.error.message, /no srt transcript is recorded/);
  const failed = await call(
    d.url,
    `${instancePath("run-batch/v/1", "transcript")}?format=json`,
  );
  assert.equal(failed.status, 404);
  const path = await call(
    d.url,
    `${instancePath("run-batch/v/0", "transcript")}?format=json&location=/etc/passwd`,
  );
  assert.equal(path.status, 400);
  assert.match(path.body.error.message, /unknown query parameter "location"/);
  const bad = await call(
    d.url,
    `${instancePath("run-batch/v/0", "transcript")}?format=pdf`,
  );
  assert.equal(bad.status, 400);
});

test("a transcript deleted from its location answers 404", async () => {
  const gone = await writeTranscripts(
    dir.dir,
    "gone",
    sampleTranscript(["Soon gone."]),
  );
  await d.client.scheduleNewOrchestration(
    transcribeBatch,
    {
      videos: [
        {
          id: "g",
          source: "g.mp4",
          title: "Gone",
          outcome: "succeeded",
          transcripts: gone,
        },
      ],
    },
    "gone-batch",
  );
  await d.client.waitForOrchestrationStart("gone-batch", false, 30);
  await finish("gone-batch", [0]);
  rmSync(gone.json!);
  const r = await call(
    d.url,
    `${instancePath("gone-batch/v/0", "transcript")}?format=json`,
  );
  assert.equal(r.status, 404);
  assert.match(r.body.error.message, /no longer at its location/);
});

test("an instance without a VideoResult has no transcript", async () => {
  const r = await call(
    d.url,
    instancePath("run-batch/v/0", "transcript").replace("v%2F0", "v%2F99"),
  );
  assert.equal(r.status, 404);
});

test("a transcript in Blob Storage is read through the blob store", async () => {
  await withAzurite(async ({ accountUrl, connectionString }) => {
    const store = openTranscriptStore({ kind: "blob", accountUrl }, "videos", {
      connectionString,
    });
    const body = JSON.stringify(sampleTranscript(["Stored as a blob."]));
    const location = await store.put(
      "blob-talk.json",
      body,
      "application/json",
    );
    await d.client.scheduleNewOrchestration(
      transcribeBatch,
      {
        videos: [
          {
            id: "b",
            source: "b.mp4",
            title: "Blob",
            outcome: "succeeded",
            transcripts: { json: location },
          },
        ],
      },
      "blob-batch",
    );
    await d.client.waitForOrchestrationStart("blob-batch", false, 30);
    await finish("blob-batch", [0]);

    const path = `${instancePath("blob-batch/v/0", "transcript")}?format=json`;
    const plain = await call(d.url, path);
    assert.equal(plain.status, 501);
    assert.match(
      plain.body.error.message,
      /cannot read transcripts stored at http: locations/,
    );

    const dashboard = new DashboardServer({
      hub: d.hub.server,
      port: 0,
      readRemote: blobReader({ connectionString }),
    });
    await dashboard.start();
    try {
      const r = await call(dashboard.url, path);
      assert.equal(r.status, 200);
      assert.equal(r.body.segments[0].text.trim(), "Stored as a blob.");
    } finally {
      await dashboard.stop();
    }
  });
});

test("blob URLs split into account, container and name in both styles", () => {
  assert.deepEqual(
    blobParts("https://acct.blob.core.windows.net/videos/a/b%20c.json"),
    {
      accountUrl: "https://acct.blob.core.windows.net",
      container: "videos",
      name: "a/b c.json",
    },
  );
  assert.deepEqual(
    blobParts("http://127.0.0.1:10000/devstoreaccount1/videos/x.json"),
    {
      accountUrl: "http://127.0.0.1:10000/devstoreaccount1",
      container: "videos",
      name: "x.json",
    },
  );
  assert.equal(
    blobParts("https://acct.blob.core.windows.net/videos"),
    undefined,
  );
  assert.equal(blobParts("ftp://host/c/n"), undefined);
});

/** The batch counts in the work item after its children end: re-check. */
function eventuallyDone(id: string, done: number): Promise<true> {
  return eventually(async () => {
    const r = await call(d.url, instancePath(id));
    const s = r.body.customStatus ? JSON.parse(r.body.customStatus) : {};
    return s.succeeded + s.failed >= done ? true : undefined;
  }, `batch ${id} to count ${done} videos done`);
}
