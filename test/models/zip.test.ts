/**
 * The zip reader against archives written by an independent writer
 * (Python's zipfile): stored and deflated entries, ZIP64 records, archive
 * comments, and damaged archives.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import { ZipArchive } from "../../src/models/zip.js";
import { pythonZip } from "../support/assets.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-zip-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withZip<T>(
  file: string,
  body: (z: ZipArchive) => Promise<T>,
): Promise<T> {
  const zip = await ZipArchive.open(file);
  try {
    return await body(zip);
  } finally {
    await zip.close();
  }
}

test("stored and deflated entries read back byte for byte", async () => {
  const text = Buffer.from("hello ".repeat(1000));
  const noise = randomBytes(300_000);
  const file = path.join(dir, "mixed.zip");
  await pythonZip(file, [
    { name: "a/text.txt", data: text },
    { name: "a/noise.bin", data: noise, stored: true },
    { name: "empty", data: Buffer.alloc(0) },
  ]);

  await withZip(file, async (zip) => {
    assert.deepEqual(
      zip.entries.map((e) => [e.name, e.size, e.method]),
      [
        ["a/text.txt", text.length, 8],
        ["a/noise.bin", noise.length, 0],
        ["empty", 0, 8],
      ],
    );
    assert.ok(zip.find("a/text.txt")!.compressedSize < text.length);
    assert.deepEqual(await zip.read(zip.find("a/text.txt")!), text);
    assert.deepEqual(await zip.read(zip.find("a/noise.bin")!), noise);
    assert.equal((await zip.read(zip.find("empty")!)).length, 0);
  });
});

test("an entry streams in pieces and extracts to a file", async () => {
  const big = randomBytes(3 * 1024 * 1024);
  const file = path.join(dir, "big.zip");
  await pythonZip(file, [{ name: "big.bin", data: big }]);

  await withZip(file, async (zip) => {
    let chunks = 0;
    for await (const _ of await zip.stream(zip.find("big.bin")!)) chunks++;
    assert.ok(chunks > 1, `expected several chunks, got ${chunks}`);
    const out = path.join(dir, "big.out");
    await zip.extract(zip.find("big.bin")!, out);
    assert.deepEqual(await readFile(out), big);
  });
});

test("ZIP64 records are read", async () => {
  const data = Buffer.from("zip64 body");
  const file = path.join(dir, "z64.zip");
  await pythonZip(
    file,
    [
      { name: "x.txt", data },
      { name: "y.txt", data },
    ],
    { zip64: true },
  );

  await withZip(file, async (zip) => {
    assert.deepEqual(
      zip.entries.map((e) => e.name),
      ["x.txt", "y.txt"],
    );
    assert.deepEqual(await zip.read(zip.find("y.txt")!), data);
  });
});

test("an archive comment does not hide the directory", async () => {
  const file = path.join(dir, "comment.zip");
  await pythonZip(file, [{ name: "c.txt", data: Buffer.from("c") }], {
    comment: "x".repeat(5000),
  });
  await withZip(file, async (zip) => {
    assert.equal((await zip.read(zip.find("c.txt")!)).toString(), "c");
  });
});

test("a file that is not a zip archive is a ConfigError naming it", async () => {
  const file = path.join(dir, "not.zip");
  await writeFile(file, "plain text, no directory");
  await assert.rejects(ZipArchive.open(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, "E_ZIP");
    assert.match(err.message, /not\.zip.*not a zip archive/);
    return true;
  });
});

test("a corrupted entry fails its CRC-32 check", async () => {
  const data = Buffer.alloc(4096, 7);
  const file = path.join(dir, "crc.zip");
  await pythonZip(file, [{ name: "s.bin", data, stored: true }]);
  const bytes = await readFile(file);
  // The stored data starts after the 30-byte local header and the name.
  bytes[30 + "s.bin".length + 100]! ^= 0xff;
  await writeFile(file, bytes);

  await withZip(file, async (zip) => {
    await assert.rejects(
      zip.read(zip.find("s.bin")!),
      /s\.bin has a CRC-32 that does not match/,
    );
  });
});

test("an entry that inflates past its declared size is stopped", async () => {
  const data = Buffer.alloc(100_000, 1);
  const file = path.join(dir, "bomb.zip");
  await pythonZip(file, [{ name: "b.bin", data }]);
  const bytes = await readFile(file);
  // Shrink the declared size in the central directory to 1000 bytes.
  const central = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE(1000, central + 24);
  await writeFile(file, bytes);

  await withZip(file, async (zip) => {
    await assert.rejects(
      zip.read(zip.find("b.bin")!),
      /more than the declared 1000 bytes/,
    );
  });
});

test("an unsupported compression method is refused by name", async () => {
  const file = path.join(dir, "method.zip");
  await pythonZip(file, [
    { name: "m.bin", data: Buffer.from("m"), stored: true },
  ]);
  const bytes = await readFile(file);
  const central = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt16LE(14, central + 10); // LZMA
  await writeFile(file, bytes);

  await withZip(file, async (zip) => {
    await assert.rejects(
      zip.stream(zip.find("m.bin")!),
      /m\.bin uses compression method 14/,
    );
  });
});
