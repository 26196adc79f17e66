import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { FileTranscriptStore } from "../../src/storage/file.js";
import { InvalidNameError } from "../../src/storage/store.js";

async function withStore(body: (store: FileTranscriptStore) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-store-"));
  try {
    await body(new FileTranscriptStore(path.join(dir, "out")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test("put creates folders and returns the file's path", async () => {
  await withStore(async (store) => {
    const location = await store.put("DEM520/talk.srt", "1\n", "text/plain");

    assert.equal(location, path.join(store.root, "DEM520", "talk.srt"));
    assert.equal(await readFile(location, "utf8"), "1\n");
  });
});

void test("get returns what put stored, byte for byte", async () => {
  await withStore(async (store) => {
    const bytes = Buffer.from([0, 255, 10, 13, 0xe2, 0x82, 0xac]);
    await store.put("a/b/c.bin", bytes, "application/octet-stream");

    assert.deepEqual(await store.get("a/b/c.bin"), bytes);
  });
});

void test("get of a name never stored is undefined", async () => {
  await withStore(async (store) => {
    assert.equal(await store.get("nothing.txt"), undefined);
  });
});

void test("put replaces an earlier file and leaves no temp file behind", async () => {
  await withStore(async (store) => {
    await store.put("t.txt", "old", "text/plain");
    await store.put("t.txt", "new", "text/plain");

    assert.equal((await store.get("t.txt"))?.toString(), "new");
    assert.deepEqual(await readdir(store.root), ["t.txt"]);
  });
});

void test("concurrent puts to one name leave one whole body", async () => {
  await withStore(async (store) => {
    const bodies = ["a", "b", "c", "d"].map((c) => c.repeat(100_000));
    await Promise.all(bodies.map((b) => store.put("x.txt", b, "text/plain")));

    const got = (await store.get("x.txt"))?.toString();
    assert.ok(got !== undefined && bodies.includes(got));
    assert.deepEqual(await readdir(store.root), ["x.txt"]);
  });
});

void test("names that climb out of the folder are rejected", async () => {
  await withStore(async (store) => {
    for (const name of ["../evil.txt", "a/../../evil.txt", "a\\..\\..\\x"]) {
      await assert.rejects(
        store.put(name, "x", "text/plain"),
        InvalidNameError,
      );
      await assert.rejects(store.get(name), InvalidNameError);
    }
  });
});

void test("absolute and empty names are rejected with a clear message", async () => {
  await withStore(async (store) => {
    await assert.rejects(
      store.put("/etc/passwd", "x", "text/plain"),
      /invalid transcript name "\/etc\/passwd": it is an absolute path/,
    );
    await assert.rejects(
      store.put("C:\\x.txt", "x", "text/plain"),
      InvalidNameError,
    );
    await assert.rejects(store.put("", "x", "text/plain"), InvalidNameError);
  });
});
