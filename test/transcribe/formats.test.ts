import assert from "node:assert/strict";
import { test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import {
  FORMATS,
  formatTimestamp,
  parseFormats,
  renderFormat,
} from "../../src/transcribe/formats.js";
import type { Transcript } from "../../src/transcribe/formats.js";

function transcript(segments: Transcript["segments"]): Transcript {
  return {
    segments,
    language: "en",
    model: "large-v3",
    audioSeconds: 4000,
    processingSeconds: 120.5,
  };
}

const SAMPLE = transcript([
  { start: 0, end: 2.5, text: " Hello everyone." },
  { start: 2.5, end: 61.0004, text: " Welcome to Build." },
  { start: 3725.5, end: 3727.25, text: " Questions?" },
]);

interface Cue {
  index: string;
  timing: string;
  text: string[];
}

/** Splits srt or vtt cue blocks the way a player would: on blank lines. */
function parseCues(body: string): Cue[] {
  return body
    .trim()
    .split(/\n\n+/)
    .filter((block) => block !== "")
    .map((block) => {
      const lines = block.split("\n");
      const hasIndex = !lines[0]!.includes("-->");
      return {
        index: hasIndex ? lines[0]! : "",
        timing: hasIndex ? lines[1]! : lines[0]!,
        text: lines.slice(hasIndex ? 2 : 1),
      };
    });
}

void test("timestamps past one hour keep their hours", () => {
  assert.equal(formatTimestamp(3725.5, ","), "01:02:05,500");
  assert.equal(formatTimestamp(100 * 3600 + 1.25, "."), "100:00:01.250");
});

void test("timestamps round to milliseconds without producing 1000 ms", () => {
  assert.equal(formatTimestamp(59.9996, ","), "00:01:00,000");
  assert.equal(formatTimestamp(3599.9999, "."), "01:00:00.000");
  assert.equal(formatTimestamp(1.0004, ","), "00:00:01,000");
});

void test("negative and non-finite timestamps clamp to zero", () => {
  assert.equal(formatTimestamp(-3, ","), "00:00:00,000");
  assert.equal(formatTimestamp(Number.NaN, "."), "00:00:00.000");
});

void test("srt numbers cues from 1 with comma timestamps", () => {
  const cues = parseCues(renderFormat("srt", SAMPLE));

  assert.deepEqual(
    cues.map((cue) => cue.index),
    ["1", "2", "3"],
  );
  assert.deepEqual(
    cues.map((cue) => cue.timing),
    [
      "00:00:00,000 --> 00:00:02,500",
      "00:00:02,500 --> 00:01:01,000",
      "01:02:05,500 --> 01:02:07,250",
    ],
  );
  assert.deepEqual(cues[0]!.text, ["Hello everyone."]);
});

void test("srt separates cues with exactly one blank line and ends with a newline", () => {
  const srt = renderFormat("srt", SAMPLE);

  assert.ok(srt.endsWith("Questions?\n"));
  assert.equal(srt.split("\n\n").length, 3);
  assert.ok(!srt.includes("\n\n\n"));
});

void test("vtt starts with the WEBVTT header and uses dot timestamps", () => {
  const vtt = renderFormat("vtt", SAMPLE);
  const [header, ...cues] = vtt.split("\n\n");

  assert.equal(header, "WEBVTT");
  assert.equal(cues.length, 3);
  assert.equal(cues[2], "01:02:05.500 --> 01:02:07.250\nQuestions?\n");
});

void test("txt has one trimmed segment per line", () => {
  assert.equal(
    renderFormat("txt", SAMPLE),
    "Hello everyone.\nWelcome to Build.\nQuestions?\n",
  );
});

void test("json keeps the transcript fields and leaves out absent words", () => {
  const doc = JSON.parse(renderFormat("json", SAMPLE));

  assert.deepEqual(doc, {
    segments: SAMPLE.segments,
    language: "en",
    model: "large-v3",
    audioSeconds: 4000,
    processingSeconds: 120.5,
  });
  assert.equal("words" in doc.segments[0]!, false);
});

void test("json includes words, and probability only where given", () => {
  const words = [
    { start: 0, end: 0.4, text: " Hi", probability: 0.93 },
    { start: 0.4, end: 0.9, text: " there" },
  ];
  const doc = JSON.parse(
    renderFormat(
      "json",
      transcript([{ start: 0, end: 1, text: "Hi there", words }]),
    ),
  );

  assert.deepEqual(doc.segments[0].words, words);
  assert.equal("probability" in doc.segments[0].words[1], false);
});

void test("json is pretty-printed", () => {
  const json = renderFormat("json", SAMPLE);

  assert.ok(json.startsWith('{\n  "segments": [\n'));
  assert.ok(json.endsWith("}\n"));
});

void test("zero segments give valid empty outputs in every format", () => {
  const empty = transcript([]);

  assert.equal(renderFormat("txt", empty), "");
  assert.equal(renderFormat("srt", empty), "");
  assert.equal(renderFormat("vtt", empty), "WEBVTT\n");
  assert.deepEqual(JSON.parse(renderFormat("json", empty)).segments, []);
});

void test("unicode text comes through intact in every format", () => {
  const text = "Grüße, 東京 👋🏽 — naïve café";
  const t = transcript([{ start: 1, end: 2, text }]);

  for (const format of FORMATS) {
    assert.ok(renderFormat(format, t).includes(text), format);
  }
});

void test("an arrow or blank lines in text do not break srt cue structure", () => {
  const t = transcript([
    { start: 0, end: 1, text: "a --> b\n\n2\n00:00:09,000 --> 00:00:10,000" },
    { start: 1, end: 2, text: "next" },
  ]);
  const cues = parseCues(renderFormat("srt", t));

  assert.equal(cues.length, 2);
  assert.deepEqual(cues[0]!.text, ["a -> b 2 00:00:09,000 -> 00:00:10,000"]);
  assert.equal(cues[1]!.index, "2");
  assert.deepEqual(cues[1]!.text, ["next"]);
});

void test("an arrow or blank lines in text do not break vtt cue structure", () => {
  const t = transcript([
    { start: 0, end: 1, text: "x --> y\r\n\r\nz" },
    { start: 1, end: 2, text: "next" },
  ]);
  const cues = parseCues(renderFormat("vtt", t).replace(/^WEBVTT\n/, ""));

  assert.equal(cues.length, 2);
  assert.deepEqual(cues[0]!.text, ["x -> y z"]);
});

void test("vtt escapes ampersands and angle brackets that would start markup", () => {
  const t = transcript([{ start: 0, end: 1, text: "R&D <b>bold</b>" }]);

  assert.ok(renderFormat("vtt", t).includes("R&amp;D &lt;b>bold&lt;/b>"));
  assert.ok(renderFormat("srt", t).includes("R&D <b>bold</b>"));
});

void test("blank segments are left out of srt and numbering stays contiguous", () => {
  const t = transcript([
    { start: 0, end: 1, text: "one" },
    { start: 1, end: 2, text: "   " },
    { start: 2, end: 3, text: "two" },
  ]);
  const cues = parseCues(renderFormat("srt", t));

  assert.deepEqual(
    cues.map((cue) => [cue.index, cue.text[0]]),
    [
      ["1", "one"],
      ["2", "two"],
    ],
  );
});

void test("parseFormats accepts a spaced, mixed-case list and drops duplicates", () => {
  assert.deepEqual(parseFormats(" SRT, vtt,srt ,json"), ["srt", "vtt", "json"]);
});

void test("parseFormats names the unknown format and the allowed ones", () => {
  assert.throws(
    () => parseFormats("srt,docx"),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message ===
        'unknown format "docx" in DURASCRIBE_FORMATS; allowed: txt, srt, vtt, json',
  );
});

void test("parseFormats rejects an empty list", () => {
  assert.throws(() => parseFormats(" , "), ConfigError);
});
