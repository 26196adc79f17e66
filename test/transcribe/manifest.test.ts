import assert from "node:assert/strict";
import { once, EventEmitter } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { Logger } from "../../src/logger.js";
import { FileTranscriptStore } from "../../src/storage/file.js";
import {
  ManifestWriter,
  manifestName,
  startingManifest,
  type JobManifest,
} from "../../src/transcribe/manifest.js";

/** A real file store that tells each write as it lands, and can fail some. */
class WatchedStore extends FileTranscriptStore {
  readonly events = new EventEmitter();
  readonly writes: { at: number; doc: JobManifest }[] = [];
  failNext = 0;

  override async put(
    name: string,
    body: string | Buffer,
    type: string,
  ): Promise<string> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("disk full");
    }
    // When the write began: the writer spaces out starts, not ends.
    const at = performance.now();
    const location = await super.put(name, body, type);
    this.writes.push({ at, doc: JSON.parse(String(body)) });
    this.events.emit("write");
    return location;
  }

  nextWrite(): Promise<unknown> {
    return once(this.events, "write");
  }
}

async function withStore(body: (store: WatchedStore) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-manifest-"));
  try {
    await body(new WatchedStore(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const initial = () =>
  startingManifest("https://media.invalid/talk.mp4", "DEM520/talk", "tiny.en");

void test("start writes a running manifest with every field of the contract", async () => {
  await withStore(async (store) => {
    const writer = new ManifestWriter(store, initial());

    const location = await writer.start();

    assert.equal(
      location,
      path.join(store.root, "DEM520", "talk.manifest.json"),
    );
    const doc = JSON.parse(await readFile(location, "utf8"));
    assert.deepEqual(Object.keys(doc).sort(), [
      "audioSeconds",
      "base",
      "error",
      "exitCode",
      "fetchSeconds",
      "finishedAt",
      "formats",
      "language",
      "model",
      "phase",
      "processingSeconds",
      "progress",
      "source",
      "startedAt",
      "status",
      "updatedAt",
      "version",
    ]);
    assert.equal(doc.version, 1);
    assert.equal(doc.status, "running");
    assert.equal(doc.phase, "fetching");
    assert.equal(doc.source, "https://media.invalid/talk.mp4");
    assert.equal(manifestName("a/b"), "a/b.manifest.json");
  });
});

void test("updates within the interval become one write of the latest state", async () => {
  await withStore(async (store) => {
    const writer = new ManifestWriter(store, initial(), { intervalMs: 300 });
    await writer.start();

    const next = store.nextWrite();
    for (let i = 1; i <= 50; i++) {
      writer.update({ phase: "decoding", progress: i / 50 });
    }
    await next;

    assert.equal(store.writes.length, 2);
    const [first, second] = store.writes;
    assert.ok(
      second!.at - first!.at >= 295,
      `${second!.at - first!.at} ms apart`,
    );
    assert.equal(second!.doc.phase, "decoding");
    assert.equal(second!.doc.progress, 1);
    await writer.finish({ status: "succeeded" });
  });
});

void test("finish writes at once and later updates are ignored", async () => {
  await withStore(async (store) => {
    const writer = new ManifestWriter(store, initial(), { intervalMs: 60_000 });
    await writer.start();
    writer.update({ phase: "transcribing", progress: 0.5 });

    await writer.finish({ status: "failed", phase: "done", exitCode: 3 });
    writer.update({ phase: "uploading" });

    assert.equal(store.writes.length, 2);
    const doc = JSON.parse((await store.get(writer.name))!.toString());
    assert.equal(doc.status, "failed");
    assert.equal(doc.phase, "done");
    assert.equal(doc.progress, 0.5);
    assert.equal(doc.exitCode, 3);
  });
});

void test("a failed write while running is logged and the state written later", async () => {
  await withStore(async (store) => {
    const lines: string[] = [];
    const logger = new Logger("warn", {}, (line) => lines.push(line));
    const writer = new ManifestWriter(store, initial(), {
      intervalMs: 50,
      logger,
    });
    await writer.start();

    store.failNext = 1;
    const next = store.nextWrite();
    writer.update({ phase: "uploading", progress: 0.25 });
    await next;

    assert.match(lines.join(""), /manifest update failed error="disk full"/);
    assert.equal(store.writes.at(-1)!.doc.phase, "uploading");
    await writer.finish({});
  });
});

void test("start fails when the store cannot take the manifest", async () => {
  await withStore(async (store) => {
    store.failNext = 1;
    await assert.rejects(
      new ManifestWriter(store, initial()).start(),
      /disk full/,
    );
  });
});
