import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BlobServiceClient,
  ContainerSASPermissions,
} from "@azure/storage-blob";

import { BlobTranscriptStore, StorageError } from "../../src/storage/blob.js";
import { InvalidNameError } from "../../src/storage/store.js";
import { ACCOUNT, accountKey, withAzurite, type Azurite } from "./azurite.js";

function connectionStringFor(accountUrl: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${accountKey()};BlobEndpoint=${accountUrl};`;
}

function storeOn(azurite: Azurite, container = "videos"): BlobTranscriptStore {
  return BlobTranscriptStore.open(azurite.accountUrl, container, {
    connectionString: azurite.connectionString,
  });
}

void test("put uploads a blob with its content type and returns the blob's URL", async () => {
  await withAzurite(async (azurite) => {
    const store = storeOn(azurite);

    const location = await store.put(
      "DEM520/talk.srt",
      "1\n00:00:00,000 --> 00:00:01,000\nHello\n",
      "application/x-subrip; charset=utf-8",
    );

    assert.equal(location, `${azurite.accountUrl}/videos/DEM520/talk.srt`);
    const props = await store.container
      .getBlockBlobClient("DEM520/talk.srt")
      .getProperties();
    assert.equal(props.contentType, "application/x-subrip; charset=utf-8");
    assert.equal(props.blobType, "BlockBlob");
  });
});

void test("get returns what put stored, byte for byte, unicode included", async () => {
  await withAzurite(async (azurite) => {
    const store = storeOn(azurite);
    const text = "Grüße, 世界 🎙️\n";
    const bytes = Buffer.from([0, 255, 10, 13, 0xe2, 0x82, 0xac]);

    await store.put("a/text.txt", text, "text/plain; charset=utf-8");
    await store.put("a/b/c.bin", bytes, "application/octet-stream");

    assert.equal((await store.get("a/text.txt"))?.toString("utf8"), text);
    assert.deepEqual(await store.get("a/b/c.bin"), bytes);
  });
});

void test("the first put creates a container that does not exist yet", async () => {
  await withAzurite(async (azurite) => {
    const store = storeOn(azurite, "fresh-container");
    assert.equal(await store.container.exists(), false);

    await store.put("x.txt", "x\n", "text/plain");

    assert.equal(await store.container.exists(), true);
  });
});

void test("get of a name never stored is undefined, with or without a container", async () => {
  await withAzurite(async (azurite) => {
    const store = storeOn(azurite, "nothing-here");
    assert.equal(await store.get("missing.txt"), undefined);

    await store.put("other.txt", "o", "text/plain");
    assert.equal(await store.get("missing.txt"), undefined);
  });
});

void test("readers during overwrites see the old blob or the new one, never a mix", async () => {
  await withAzurite(async (azurite) => {
    const store = storeOn(azurite);
    const a = Buffer.alloc(3 * 1024 * 1024, "a");
    const b = Buffer.alloc(3 * 1024 * 1024 + 7, "b");
    await store.put("big.txt", a, "text/plain");

    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 8; i++) {
        await store.put("big.txt", i % 2 ? a : b, "text/plain");
      }
      writing = false;
    })();
    const seen = new Set<string>();
    try {
      while (writing) {
        const got = (await store.get("big.txt"))!;
        seen.add(got.equals(a) ? "a" : got.equals(b) ? "b" : "mixed");
      }
    } finally {
      await writer;
    }

    assert.ok(!seen.has("mixed"), "a reader saw a partial blob");
    assert.ok(seen.size >= 1);
  });
});

void test("absolute names and names with .. are refused before any request", async () => {
  // No emulator: a request would fail with a connection error instead.
  const url = `http://127.0.0.1:9/${ACCOUNT}`;
  const store = BlobTranscriptStore.open(url, "videos", {
    connectionString: connectionStringFor(url),
  });
  for (const name of ["", "/etc/passwd", "a/../../b", "a\\b"]) {
    await assert.rejects(store.put(name, "x", "text/plain"), InvalidNameError);
    await assert.rejects(store.get(name), InvalidNameError);
  }
});

void test("a wrong account key is a permanent storage error naming the blob", async () => {
  await withAzurite(async (azurite) => {
    const wrongKey = Buffer.alloc(64, 7).toString("base64");
    const store = BlobTranscriptStore.open(azurite.accountUrl, "videos", {
      connectionString: azurite.connectionString.replace(
        /AccountKey=[^;]+/,
        `AccountKey=${wrongKey}`,
      ),
    });

    await assert.rejects(
      store.put("t.txt", "x", "text/plain"),
      (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.permanent, true);
        assert.equal(err.status, 403);
        assert.match(err.message, /upload .*\/videos\/t\.txt: got 403/);
        return true;
      },
    );
  });
});

void test("a storage endpoint that cannot be reached is a transient storage error", async () => {
  // Port 9 (discard) is closed on the loopback: every connect is refused.
  const url = `http://127.0.0.1:9/${ACCOUNT}`;
  const store = BlobTranscriptStore.open(
    url,
    "videos",
    { connectionString: connectionStringFor(url) },
    {
      retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
    },
  );

  await assert.rejects(
    store.put("t.txt", "x", "text/plain"),
    (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.permanent, false);
      assert.equal(err.status, undefined);
      return true;
    },
  );
});

void test("a SAS token in the connection string never appears in a location", async () => {
  await withAzurite(async (azurite) => {
    const service = BlobServiceClient.fromConnectionString(
      azurite.connectionString,
    );
    const container = service.getContainerClient("videos");
    await container.createIfNotExists();
    const sasUrl = await container.generateSasUrl({
      permissions: ContainerSASPermissions.parse("rwc"),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const sas = new URL(sasUrl).search.slice(1);
    const store = BlobTranscriptStore.open(azurite.accountUrl, "videos", {
      connectionString: `BlobEndpoint=${azurite.accountUrl};SharedAccessSignature=${sas}`,
    });

    const location = await store.put("s.txt", "s", "text/plain");

    assert.equal(location, `${azurite.accountUrl}/videos/s.txt`);
  });
});
