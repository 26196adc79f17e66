import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import {
  openTranscriptStore,
  parseStorageUrl,
} from "../../src/storage/open.js";
import { withAzurite } from "./azurite.js";

void test("a file: location stores under a sub-folder named for the container", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-open-"));
  try {
    const store = openTranscriptStore(parseStorageUrl(`file:${dir}`), "videos");

    const location = await store.put("talk.txt", "hello\n", "text/plain");

    assert.equal(location, path.join(dir, "videos", "talk.txt"));
    assert.equal(await readFile(location, "utf8"), "hello\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("a Blob account URL with a connection string stores in that container", async () => {
  await withAzurite(async ({ accountUrl, connectionString }) => {
    const store = openTranscriptStore(parseStorageUrl(accountUrl), "jobs", {
      connectionString,
    });

    const location = await store.put("a/talk.vtt", "WEBVTT\n", "text/vtt");

    assert.equal(location, `${accountUrl}/jobs/a/talk.vtt`);
    assert.equal((await store.get("a/talk.vtt"))?.toString(), "WEBVTT\n");
  });
});

void test("a connection string for another account than STORAGE_ACCOUNT_URL is a configuration error", async () => {
  const store = openTranscriptStore(
    parseStorageUrl("https://other.blob.core.windows.net"),
    "videos",
    {
      connectionString:
        "DefaultEndpointsProtocol=https;AccountName=mine;AccountKey=AAAA;EndpointSuffix=core.windows.net",
    },
  );

  await assert.rejects(
    store.put("t.txt", "x", "text/plain"),
    (err: unknown) =>
      err instanceof ConfigError &&
      /for the account at https:\/\/mine\.blob\.core\.windows\.net, but STORAGE_ACCOUNT_URL is https:\/\/other/.test(
        err.message,
      ),
  );
});
