/**
 * The vocabulary of a CTranslate2 Whisper model, turned into the raw token
 * bytes a ggml model holds. CTranslate2 lists byte-level BPE strings, in
 * which GPT-2's byte-to-unicode table stands one printable character for
 * each byte (a space is `Ġ`, a newline `Ċ`); decoding maps each character
 * back to its byte.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { ConfigError } from "../errors.js";

/** The token that ends a transcript; the last one a ggml vocabulary holds. */
export const END_OF_TEXT = "<|endoftext|>";

let decoder: Map<string, number> | undefined;

/**
 * GPT-2's byte decoder: the character that stands for each byte, mapped
 * back to the byte. Printable latin-1 characters stand for themselves;
 * the other 68 bytes are given the code points from 256 on, in order.
 */
export function byteDecoder(): ReadonlyMap<string, number> {
  if (decoder !== undefined) return decoder;
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  decoder = new Map();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const code = printable(b) ? b : 256 + extra++;
    decoder.set(String.fromCodePoint(code), b);
  }
  return decoder;
}

/**
 * The bytes of one BPE token string.
 *
 * @throws ConfigError when a character is not in GPT-2's table (the
 *   vocabulary is not byte-level BPE).
 */
export function tokenBytes(token: string): Buffer {
  const table = byteDecoder();
  const bytes: number[] = [];
  for (const ch of token) {
    const b = table.get(ch);
    if (b === undefined) {
      throw new ConfigError(
        `vocabulary token ${JSON.stringify(token)} has the character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}, which is not in GPT-2's byte table: not a byte-level BPE vocabulary`,
        "E_MODEL_VOCAB",
      );
    }
    bytes.push(b);
  }
  return Buffer.from(bytes);
}

/**
 * The tokens of the CTranslate2 model in `folder`, by id: from
 * vocabulary.json (a JSON array), else vocabulary.txt (one a line), else
 * a Hugging Face tokenizer.json, the order CTranslate2 itself tries.
 *
 * @throws ConfigError when none is there or the one found is malformed.
 */
export async function readVocabulary(folder: string): Promise<string[]> {
  const json = await readOptional(path.join(folder, "vocabulary.json"));
  if (json !== undefined) return parseJsonList(json, folder);
  const txt = await readOptional(path.join(folder, "vocabulary.txt"));
  if (txt !== undefined) return parseLines(txt);
  const tokenizer = await readOptional(path.join(folder, "tokenizer.json"));
  if (tokenizer !== undefined) return parseTokenizer(tokenizer, folder);
  throw new ConfigError(
    `${folder} has no vocabulary.json, vocabulary.txt or tokenizer.json: not a CTranslate2 Whisper model folder`,
    "E_MODEL_VOCAB",
  );
}

/**
 * The tokens a ggml vocabulary holds: every id up to and including
 * `<|endoftext|>`, which ends the text tokens. whisper.cpp makes up the
 * special and timestamp tokens after it itself.
 */
export function ggmlTokens(tokens: readonly string[]): Buffer[] {
  const end = tokens.indexOf(END_OF_TEXT);
  if (end < 0) {
    throw new ConfigError(
      `the vocabulary has no ${END_OF_TEXT} token: not a Whisper vocabulary`,
      "E_MODEL_VOCAB",
    );
  }
  // Special tokens need no case of their own: they are printable ASCII,
  // which the byte table maps to itself.
  return tokens.slice(0, end + 1).map((t) => tokenBytes(t));
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

function parseJsonList(text: string, folder: string): string[] {
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list) || !list.every((t) => typeof t === "string")) {
    throw new ConfigError(
      `${path.join(folder, "vocabulary.json")} is not a JSON array of strings`,
      "E_MODEL_VOCAB",
    );
  }
  return list;
}

function parseLines(text: string): string[] {
  // The writer ends every line with a newline; a token never holds one,
  // because byte-level BPE writes the newline byte as `Ċ`.
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

/** Ids from `model.vocab` and `added_tokens` of a tokenizer.json. */
function parseTokenizer(text: string, folder: string): string[] {
  const doc = JSON.parse(text) as {
    model?: { vocab?: Record<string, number> };
    added_tokens?: { id: number; content: string }[];
  };
  const vocab = doc.model?.vocab;
  if (vocab === undefined || typeof vocab !== "object") {
    throw new ConfigError(
      `${path.join(folder, "tokenizer.json")} has no model.vocab`,
      "E_MODEL_VOCAB",
    );
  }
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(vocab)) tokens[id] = token;
  for (const added of doc.added_tokens ?? []) tokens[added.id] = added.content;
  const hole = tokens.findIndex((t) => t === undefined);
  if (hole >= 0) {
    throw new ConfigError(
      `${path.join(folder, "tokenizer.json")} has no token with id ${hole}`,
      "E_MODEL_VOCAB",
    );
  }
  return tokens;
}
