import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { expandSources } from "../../src/sources/expand.js";
import { tempDir } from "../hub/helpers.js";

function folder(t: { after(fn: () => void): void }): string {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  return dir;
}

function touch(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "x");
  return file;
}

test("a session code, a URL and a file each become one entry of their kind", async (t) => {
  const dir = folder(t);
  const file = touch(path.join(dir, "Talk One.mp4"));

  const entries = await expandSources(
    ["dem520", "https://example.com/media/keynote.mp4?sig=1", file],
    dir,
  );

  assert.deepEqual(
    entries.map((e) => [e.kind, e.source, e.base]),
    [
      ["session", "DEM520", "DEM520"],
      ["url", "https://example.com/media/keynote.mp4?sig=1", "keynote"],
      ["file", file, "Talk-One"],
    ],
  );
  assert.equal(entries[0]!.id, "DEM520");
});

test("the same sources give the same ids on every run", async (t) => {
  const dir = folder(t);
  const file = touch(path.join(dir, "a.mp4"));
  const inputs = ["BRK101", "https://example.com/x.mp4", file];

  const first = await expandSources(inputs, dir);
  const second = await expandSources([...inputs].reverse(), dir);

  assert.deepEqual(
    first.map((e) => e.id).sort(),
    second.map((e) => e.id).sort(),
  );
});

test("a folder expands to its media files, sorted, skipping other and hidden files", async (t) => {
  const dir = folder(t);
  touch(path.join(dir, "talks", "b.mkv"));
  touch(path.join(dir, "talks", "a.MP4"));
  touch(path.join(dir, "talks", "deep", "c.wav"));
  touch(path.join(dir, "talks", "notes.txt"));
  touch(path.join(dir, "talks", ".hidden.mp4"));

  const entries = await expandSources(["talks"], dir);

  assert.deepEqual(
    entries.map((e) => path.relative(dir, e.source)),
    ["talks/a.MP4", "talks/b.mkv", "talks/deep/c.wav"],
  );
});

test("a list file gives one source per line, skipping comments and blank lines, relative to the list", async (t) => {
  const dir = folder(t);
  const clip = touch(path.join(dir, "lists", "clips", "one.mp4"));
  writeFileSync(
    path.join(dir, "lists", "batch.txt"),
    "# Build talks\nDEM520\n\n  clips/one.mp4  \nhttps://example.com/two.mp4\n",
  );

  const entries = await expandSources(["@lists/batch.txt"], dir);

  assert.deepEqual(
    entries.map((e) => e.source),
    ["DEM520", clip, "https://example.com/two.mp4"],
  );
});

test("a source given twice appears once", async (t) => {
  const dir = folder(t);
  const file = touch(path.join(dir, "a.mp4"));

  const entries = await expandSources(
    ["DEM520", "dem520", file, pathToFileURL(file).href],
    dir,
  );

  assert.deepEqual(
    entries.map((e) => e.source),
    ["DEM520", file],
  );
});

test("two files with the same name get distinct base names from their ids", async (t) => {
  const dir = folder(t);
  const a = touch(path.join(dir, "x", "talk.mp4"));
  const b = touch(path.join(dir, "y", "talk.mp4"));
  const c = touch(path.join(dir, "y", "other.mp4"));

  const entries = await expandSources([a, b, c], dir);

  const bases = entries.map((e) => e.base);
  assert.equal(new Set(bases).size, 3);
  assert.match(bases[0]!, /^talk-[0-9a-f]{8}$/);
  assert.equal(bases[2], "other");
});

test("a missing file, a missing list and an unrecognised word are error entries, not exceptions", async (t) => {
  const dir = folder(t);

  const entries = await expandSources(
    ["missing.mp4", "@nope.txt", "hello world"],
    dir,
  );

  assert.deepEqual(
    entries.map((e) => e.errorCode),
    ["E_SOURCE_NOT_FOUND", "E_SOURCE_LIST", "E_SOURCE_UNRECOGNISED"],
  );
  assert.match(entries[0]!.error!, /missing\.mp4.*not an existing file/);
  assert.match(entries[1]!.error!, /@nope\.txt.*cannot be read/);
});

test("a word that is no file, URL or session code says what sources can be", async (t) => {
  const dir = folder(t);

  const [entry] = await expandSources(["banana"], dir);

  assert.equal(entry!.errorCode, "E_SOURCE_UNRECOGNISED");
  assert.match(
    entry!.error!,
    /not a file, folder, http\(s\) URL or Build session code/,
  );
});

test("a list that includes itself stops with an error entry", async (t) => {
  const dir = folder(t);
  writeFileSync(path.join(dir, "loop.txt"), "DEM520\n@loop.txt\n");

  const entries = await expandSources(["@loop.txt"], dir);

  assert.deepEqual(
    entries.map((e) => e.errorCode ?? e.source),
    ["DEM520", "E_SOURCE_LIST"],
  );
});
