/**
 * The numeric pieces of the converter: half and bfloat16 conversions, the
 * mel filterbank (against OpenAI's saved one when it can be had), and
 * GPT-2's byte decoder.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import {
  bfloat16ToFloat,
  convertFloats,
  floatToHalf,
  halfToFloat,
} from "../../src/models/float16.js";
import { hzToMel, melFilters, melToHz } from "../../src/models/mel.js";
import { ZipArchive } from "../../src/models/zip.js";
import {
  byteDecoder,
  ggmlTokens,
  readVocabulary,
  tokenBytes,
} from "../../src/models/vocab.js";
import { pipAsset, tarMember } from "../support/assets.js";

test("half-precision bits decode to their IEEE values", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x03ff), 1023 * 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
});

test("every half survives a round trip through float32", () => {
  for (let h = 0; h < 0x10000; h++) {
    const back = floatToHalf(halfToFloat(h));
    if (Number.isNaN(halfToFloat(h))) assert.equal(back & 0x7c00, 0x7c00);
    else assert.equal(back, h, `half 0x${h.toString(16)}`);
  }
});

test("float32 to half rounds to nearest, ties to even", () => {
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie, even stays
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie, odd rounds up
  assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds past the largest half
  assert.equal(floatToHalf(2 ** -25), 0x0000); // tie to even zero
  assert.equal(floatToHalf(3 * 2 ** -26), 0x0001);
  assert.equal(floatToHalf(2 ** -14 - 2 ** -25), 0x0400); // into the normals
  assert.equal(floatToHalf(-1e-10), 0x8000);
});

test("bfloat16 is the top half of a float32", () => {
  assert.equal(bfloat16ToFloat(0x3f80), 1);
  assert.equal(bfloat16ToFloat(0xc040), -3);
  const buf = Buffer.from([0x80, 0x3f, 0x00, 0x40]); // 1, 2
  const out = convertFloats(buf, "bfloat16", "float32");
  assert.deepEqual([out.readFloatLE(0), out.readFloatLE(4)], [1, 2]);
});

test("convertFloats reads unaligned input and converts between widths", () => {
  const raw = Buffer.alloc(7);
  raw.writeUInt16LE(0x3c00, 1);
  raw.writeUInt16LE(0xc000, 3);
  raw.writeUInt16LE(0x3800, 5);
  const f32 = convertFloats(raw.subarray(1), "float16", "float32");
  assert.deepEqual(
    [0, 4, 8].map((o) => f32.readFloatLE(o)),
    [1, -2, 0.5],
  );
  assert.deepEqual(convertFloats(f32, "float32", "float16"), raw.subarray(1));
});

test("the Slaney mel scale is linear to 1 kHz and logarithmic above", () => {
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(500) - 7.5) < 1e-12);
  assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-9); // 27 mels per ratio of 6.4
  for (const hz of [0, 123, 999.9, 1000, 4321, 8000]) {
    assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-9, `${hz} Hz`);
  }
});

test("mel filters are non-negative triangles over 201 bins", () => {
  const { nMels, nBins, data } = melFilters(80);
  assert.equal(nMels, 80);
  assert.equal(nBins, 201);
  for (let m = 0; m < nMels; m++) {
    const row = data.subarray(m * nBins, (m + 1) * nBins);
    assert.ok(row.every((w) => w >= 0));
    // A triangle rises then falls: at most one local maximum.
    const peaks = row.filter(
      (w, k) => w > 0 && w >= (row[k - 1] ?? 0) && w > (row[k + 1] ?? 0),
    );
    assert.ok(peaks.length <= 1, `filter ${m} has ${peaks.length} peaks`);
  }
});

test("computed mel filters match OpenAI's mel_filters.npz", async (t) => {
  const sdist = await pipAsset("openai-whisper", "20250625");
  if ("skip" in sdist) return t.skip(sdist.skip);
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-mel-"));
  try {
    const npz = path.join(dir, "mel_filters.npz");
    await writeFile(
      npz,
      await tarMember(sdist.path, "*/whisper/assets/mel_filters.npz"),
    );
    const zip = await ZipArchive.open(npz);
    try {
      for (const n of [80, 128]) {
        const npy = await zip.read(zip.find(`mel_${n}.npy`)!);
        const header = npy.toString("latin1", 10, 10 + npy.readUInt16LE(8));
        assert.match(
          header,
          new RegExp(`'descr': '<f4'.*'shape': \\(${n}, 201\\)`),
        );
        const saved = npy.subarray(10 + npy.readUInt16LE(8));
        const mine = melFilters(n).data;
        assert.equal(saved.length, mine.length * 4);
        let worst = 0;
        for (let i = 0; i < mine.length; i++) {
          worst = Math.max(
            worst,
            Math.abs(saved.readFloatLE(i * 4) - mine[i]!),
          );
        }
        assert.ok(worst <= 1e-6, `mel_${n}: largest difference ${worst}`);
        // Computed the way librosa computes them, they match bit for bit.
        assert.deepEqual(Buffer.from(mine.buffer), saved);
      }
    } finally {
      await zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("GPT-2's byte decoder maps 256 characters back to 256 bytes", () => {
  const table = byteDecoder();
  assert.equal(table.size, 256);
  assert.deepEqual(new Set(table.values()).size, 256);
  assert.equal(table.get("A"), 0x41);
  assert.equal(table.get("Ġ"), 0x20);
  assert.equal(table.get("Ċ"), 0x0a);
  assert.equal(table.get("Ā"), 0x00);
});

test("byte-level tokens decode to their raw bytes", () => {
  assert.equal(tokenBytes("Ġthe").toString(), " the");
  assert.equal(tokenBytes("ĊĊ").toString(), "\n\n");
  assert.equal(tokenBytes("âĢĻ").toString("utf8"), "\u2019"); // ’ as UTF-8
  assert.deepEqual(tokenBytes("Ãł"), Buffer.from([0xc3, 0xa0]));
  assert.equal(tokenBytes("<|endoftext|>").toString(), "<|endoftext|>");
});

test("a token with a character outside the byte table is refused", () => {
  assert.throws(
    () => tokenBytes("naïve\u4e00"),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /U\+4E00.*not a byte-level BPE vocabulary/);
      return true;
    },
  );
});

test("the ggml vocabulary ends with <|endoftext|>", () => {
  const tokens = ggmlTokens([
    "a",
    "Ġb",
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|0.00|>",
  ]);
  assert.deepEqual(
    tokens.map((t) => t.toString()),
    ["a", " b", "<|endoftext|>"],
  );
  assert.throws(() => ggmlTokens(["a", "b"]), /no <\|endoftext\|> token/);
});

test("vocabularies are read from json, txt and tokenizer.json alike", async () => {
  const tokens = ["!", "Ġa", "Ċ", "<|endoftext|>", "<|en|>"];
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-vocab-"));
  try {
    const json = path.join(dir, "json");
    const txt = path.join(dir, "txt");
    const hf = path.join(dir, "hf");
    for (const d of [json, txt, hf]) await mkdir(d);
    await writeFile(path.join(json, "vocabulary.json"), JSON.stringify(tokens));
    await writeFile(path.join(txt, "vocabulary.txt"), tokens.join("\n") + "\n");
    await writeFile(
      path.join(hf, "tokenizer.json"),
      JSON.stringify({
        model: { vocab: { "!": 0, Ġa: 1, Ċ: 2 } },
        added_tokens: [
          { id: 3, content: "<|endoftext|>" },
          { id: 4, content: "<|en|>" },
        ],
      }),
    );
    for (const d of [json, txt, hf]) {
      assert.deepEqual(await readVocabulary(d), tokens);
    }
    await assert.rejects(
      readVocabulary(dir),
      /has no vocabulary\.json, vocabulary\.txt or tokenizer\.json/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
