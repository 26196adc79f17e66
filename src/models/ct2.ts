/**
 * The index of a CTranslate2 `model.bin`: every variable's name, shape,
 * type and where its bytes lie, read without loading the bytes, so a
 * converter can copy tensors one at a time.
 *
 * Layout (little-endian, nothing aligned): u32 binary version; for
 * version >= 2 a spec name and u32 spec revision; u32 variable count;
 * per variable, sorted by name: name, u8 rank, u32 dims[rank], u8 type id,
 * u32 byte count, the bytes; then u32 alias count and (alias, target)
 * name pairs. A string is a u16 length that counts a trailing NUL, the
 * UTF-8 bytes, and the NUL.
 */
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

import { ConfigError } from "../errors.js";

/** Element types, by CTranslate2's type id. */
export const CT2_TYPES = [
  "float32",
  "int8",
  "int16",
  "int32",
  "float16",
  "bfloat16",
] as const;

/** One element type of a CTranslate2 variable. */
export type Ct2Type = (typeof CT2_TYPES)[number];

const TYPE_SIZE: Readonly<Record<Ct2Type, number>> = {
  float32: 4,
  int8: 1,
  int16: 2,
  int32: 4,
  float16: 2,
  bfloat16: 2,
};

/** Where one variable's bytes are and what they hold. */
export interface Ct2Variable {
  readonly name: string;
  /** Row-major dims, as the numpy shape; empty for a scalar. */
  readonly dims: readonly number[];
  readonly type: Ct2Type;
  /** File offset of the first byte. */
  readonly offset: number;
  readonly byteLength: number;
}

/** What {@link readCt2Index} finds in a model.bin. */
export interface Ct2Index {
  readonly binaryVersion: number;
  /** Such as `WhisperSpec`; empty before binary version 2. */
  readonly spec: string;
  readonly specRevision: number;
  /** Every variable by name; aliases point at their target's entry. */
  readonly variables: ReadonlyMap<string, Ct2Variable>;
  /** Alias name to target name. */
  readonly aliases: ReadonlyMap<string, string>;
}

// Version 4 replaced the item size by a type id; 5 and 6 changed files
// beside model.bin, not its layout. Every Whisper model is version 6.
const MIN_VERSION = 4;
const MAX_VERSION = 6;

/**
 * Reads the index of the model.bin at `file`.
 *
 * @throws ConfigError (code E_MODEL_FORMAT) when the file is truncated,
 *   of an unknown binary version, or its sizes do not add up.
 */
export async function readCt2Index(file: string): Promise<Ct2Index> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    return await parseIndex(new Cursor(handle, size, file));
  } finally {
    await handle.close();
  }
}

async function parseIndex(c: Cursor): Promise<Ct2Index> {
  const binaryVersion = await c.u32();
  if (binaryVersion < MIN_VERSION || binaryVersion > MAX_VERSION) {
    throw c.error(
      `binary version ${binaryVersion} is not supported (only ${MIN_VERSION} to ${MAX_VERSION}; a model converted by CTranslate2 3.0 or later is version 6)`,
    );
  }
  const spec = await c.string();
  const specRevision = await c.u32();

  const variables = new Map<string, Ct2Variable>();
  const count = await c.u32();
  for (let i = 0; i < count; i++) {
    const variable = await readVariable(c);
    variables.set(variable.name, variable);
  }

  const aliases = new Map<string, string>();
  const aliasCount = await c.u32();
  for (let i = 0; i < aliasCount; i++) {
    const alias = await c.string();
    const target = await c.string();
    const entry = variables.get(target);
    if (entry === undefined) {
      throw c.error(`alias ${alias} names a missing variable ${target}`);
    }
    aliases.set(alias, target);
    variables.set(alias, entry);
  }
  return { binaryVersion, spec, specRevision, variables, aliases };
}

async function readVariable(c: Cursor): Promise<Ct2Variable> {
  const name = await c.string();
  const rank = await c.u8();
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(await c.u32());
  const typeId = await c.u8();
  const type = CT2_TYPES[typeId];
  if (type === undefined) {
    throw c.error(`variable ${name} has an unknown type id ${typeId}`);
  }
  const byteLength = await c.u32();
  const elements = dims.reduce((a, b) => a * b, 1);
  if (byteLength !== elements * TYPE_SIZE[type]) {
    throw c.error(
      `variable ${name} [${dims.join(",")}] ${type} should have ${elements * TYPE_SIZE[type]} bytes but declares ${byteLength}`,
    );
  }
  const offset = c.position;
  c.skip(byteLength);
  return { name, dims, type, offset, byteLength };
}

/** Sequential reads through a small buffer; data can be skipped. */
class Cursor {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  /** Offset of the next byte to read. */
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly file: string,
  ) {}

  async u8(): Promise<number> {
    return (await this.take(1)).readUInt8(0);
  }

  async u32(): Promise<number> {
    return (await this.take(4)).readUInt32LE(0);
  }

  async string(): Promise<string> {
    const length = (await this.take(2)).readUInt16LE(0);
    if (length === 0) throw this.error("a string has length 0");
    const bytes = await this.take(length);
    return bytes.toString("utf8", 0, length - 1);
  }

  skip(bytes: number): void {
    if (this.position + bytes > this.size) {
      throw this.error(
        `truncated: data past the end at offset ${this.position}`,
      );
    }
    this.position += bytes;
  }

  error(what: string): ConfigError {
    return new ConfigError(
      `${this.file} is not a usable CTranslate2 model: ${what}`,
      "E_MODEL_FORMAT",
    );
  }

  private async take(n: number): Promise<Buffer> {
    const end = this.bufferStart + this.buffer.length;
    if (this.position < this.bufferStart || this.position + n > end) {
      await this.fill(n);
    }
    const from = this.position - this.bufferStart;
    this.position += n;
    return this.buffer.subarray(from, from + n);
  }

  private async fill(n: number): Promise<void> {
    const want = Math.max(n, 64 * 1024);
    const buffer = Buffer.alloc(want);
    const { bytesRead } = await this.handle.read(
      buffer,
      0,
      want,
      this.position,
    );
    if (bytesRead < n) {
      throw this.error(`truncated at offset ${this.position}`);
    }
    this.buffer = buffer.subarray(0, bytesRead);
    this.bufferStart = this.position;
  }
}

/** The numeric value of a scalar variable (num_heads and the like). */
export async function readScalar(
  handle: FileHandle,
  variable: Ct2Variable,
): Promise<number> {
  if (variable.dims.length !== 0) {
    throw new ConfigError(`${variable.name} is not a scalar`, "E_MODEL_FORMAT");
  }
  const buf = Buffer.alloc(variable.byteLength);
  await handle.read(buf, 0, buf.length, variable.offset);
  return scalarValue(buf, variable.type, variable.name);
}

function scalarValue(buf: Buffer, type: Ct2Type, name: string): number {
  switch (type) {
    case "int8":
      return buf.readInt8(0);
    case "int16":
      return buf.readInt16LE(0);
    case "int32":
      return buf.readInt32LE(0);
    case "float32":
      return buf.readFloatLE(0);
    case "float16":
    case "bfloat16":
      throw new ConfigError(
        `scalar ${name} is ${type}; an integer or float32 is expected`,
        "E_MODEL_FORMAT",
      );
  }
}
