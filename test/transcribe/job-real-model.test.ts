/**
 * The job with real weights: tiny.en from the model cache hears the
 * synthesised speech, and every format carries the words. Skipped, saying
 * why, where the cache has no tiny.en (`durascribe models pull tiny.en`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { speechMp4 } from "../support/media.js";
import { withServer } from "./http-server.js";
import { readManifest, runJobProcess, sendMedia } from "./job-helpers.js";

const MODELS_DIR = path.join(os.homedir(), ".cache", "durascribe", "models");
const HAVE_TINY_EN = existsSync(path.join(MODELS_DIR, "ggml-tiny.en.bin"));
const skip = HAVE_TINY_EN
  ? false
  : `no tiny.en in ${MODELS_DIR}; get it with durascribe models pull tiny.en`;

const SAID = "The quick brown fox jumps over the lazy dog.";

/** Lower case, letters and spaces only, for comparing what was heard. */
function words(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

void test(
  "with tiny.en every format carries the spoken words and their times",
  { skip },
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-real-"));
    try {
      const talk = await readFile(
        await speechMp4(dir, {
          text: SAID,
        }),
      );
      await withServer(
        (req, res) => sendMedia(res, talk, req.headers.range),
        async ({ url }) => {
          const out = path.join(dir, "out");
          const exit = await runJobProcess({
            HOME: dir,
            VIDEO_URL: `${url}/fox.mp4`,
            STORAGE_ACCOUNT_URL: `file:${out}`,
            DURASCRIBE_MODELS_DIR: MODELS_DIR,
            DURASCRIBE_THREADS: "2",
            DURASCRIBE_WORD_TIMESTAMPS: "true",
          });
          assert.equal(exit.code, 0, exit.stderr);

          const file = (ext: string) =>
            readFile(path.join(out, "videos", `fox.${ext}`), "utf8");
          // espeak-ng is no orator ("quick roundfark stump"): most words do.
          const heardTxt = words(await file("txt")).split(" ");
          const found = words(SAID)
            .split(" ")
            .filter((w) => heardTxt.includes(w));
          assert.ok(found.length >= 6, `heard "${heardTxt.join(" ")}"`);

          const srt = await file("srt");
          assert.match(srt, /^1\n00:00:0\d,\d{3} --> 00:00:\d\d,\d{3}\n\S/);
          const vtt = await file("vtt");
          assert.match(
            vtt,
            /^WEBVTT\n\n00:00:0\d\.\d{3} --> 00:00:\d\d\.\d{3}\n\S/,
          );

          const json = JSON.parse(await file("json"));
          assert.equal(json.model, "tiny.en");
          assert.equal(json.language, "en");
          assert.ok(json.segments.length >= 1);
          for (const seg of json.segments) {
            assert.ok(seg.start < seg.end, JSON.stringify(seg));
          }
          const heard = json.segments
            .flatMap((s: any) => s.words)
            .map((w: any) => words(w.text));
          assert.ok(heard.includes("dog"), heard.join("|"));
          for (const seg of json.segments) {
            for (const w of seg.words) {
              assert.ok(
                w.start >= seg.start - 0.01 && w.end <= seg.end + 0.01,
                JSON.stringify(w),
              );
            }
          }

          const manifest = await readManifest(
            path.join(out, "videos", "fox.manifest.json"),
          );
          assert.equal(manifest.language, "en");
          assert.equal(manifest.model, "tiny.en");
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
