/**
 * `durascribe transcribe` as a person runs it, in a child process (build
 * first: it runs dist/). Its stderr is a pipe here, so the progress bars
 * come out as one line per phase.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { writeEmptyModel } from "../support/empty-model.js";
import { speechMp4 } from "../support/media.js";
import { errorLines, filesUnder, startCli } from "./job-helpers.js";

let root: string;
let model: string;
let talkA: string;
let talkB: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-cli-"));
  model = path.join(root, "ggml-empty.bin");
  await writeEmptyModel(model);
  await mkdir(path.join(root, "a"));
  await mkdir(path.join(root, "b"));
  talkA = await speechMp4(path.join(root, "a"));
  talkB = await speechMp4(path.join(root, "b"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function transcribe(args: string[]) {
  return startCli(["transcribe", "--model", model, "--threads", "2", ...args], {
    HOME: root,
    TMPDIR: os.tmpdir(),
  }).exited;
}

void test("transcribe writes each file's formats to --out and says where they went", async () => {
  const out = path.join(root, "out-1");

  const exit = await transcribe([
    talkA,
    talkB,
    "--out",
    out,
    "--formats",
    "txt,json",
  ]);

  assert.equal(exit.code, 0, exit.stderr);
  // Both are called talk.mp4: the second one's outputs get a suffix.
  assert.deepEqual(await filesUnder(out), [
    "talk-2.json",
    "talk-2.manifest.json",
    "talk-2.txt",
    "talk.json",
    "talk.manifest.json",
    "talk.txt",
  ]);
  assert.deepEqual(exit.stdout.trim().split("\n"), [
    `${talkA}: ${path.join(out, "talk.txt")} ${path.join(out, "talk.json")}`,
    `${talkB}: ${path.join(out, "talk-2.txt")} ${path.join(out, "talk-2.json")}`,
  ]);
  const json = JSON.parse(
    await readFile(path.join(out, "talk-2.json"), "utf8"),
  );
  assert.equal(json.model, "empty");

  const lines = exit.stderr.trim().split("\n");
  const forA = lines.filter((l) => l.startsWith(`${talkA}:`));
  assert.deepEqual(forA.slice(0, -1), [
    `${talkA}: downloading`,
    `${talkA}: decoding`,
    `${talkA}: transcribing`,
    `${talkA}: writing`,
  ]);
  assert.match(forA.at(-1)!, /: done \d+\.\d s of audio in \d+\.\d s$/);
});

void test("a file that fails does not stop the others, and sets the exit code", async () => {
  const out = path.join(root, "out-2");
  const missing = path.join(root, "missing.mp4");

  const exit = await transcribe([
    missing,
    talkA,
    "--out",
    out,
    "--formats",
    "vtt",
  ]);

  assert.equal(exit.code, 3);
  assert.deepEqual(errorLines(exit.stderr), [
    `durascribe: ${missing}: media file ${missing} cannot be read: ENOENT: no such file or directory, stat '${missing}'`,
  ]);
  assert.deepEqual(await filesUnder(out), [
    "missing.manifest.json",
    "talk.manifest.json",
    "talk.vtt",
  ]);
});

void test("transcribe without media is a usage error", async () => {
  const exit = await transcribe([]);

  assert.equal(exit.code, 2);
  assert.match(exit.stderr, /transcribe needs at least one media file or URL/);
});
