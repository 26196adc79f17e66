/**
 * A small reader of zip archives (a Python wheel, a TorchScript file, a
 * NumPy .npz): the central directory is read once, and each entry is read
 * or streamed on demand, inflated with node:zlib and checked against its
 * CRC-32 and declared size. ZIP64 archives are understood; encrypted
 * entries and compression methods other than stored and deflate are
 * refused with a clear error.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { Transform } from "node:stream";
import type { Readable, TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32, createInflateRaw } from "node:zlib";

import { ConfigError } from "../errors.js";

/** One file (or folder) in the archive, as its central directory says. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated; folders end with `/`. */
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  /** Bytes of the (compressed) data in the archive. */
  readonly compressedSize: number;
  /** Bytes once inflated. */
  readonly size: number;
  /** CRC-32 of the inflated bytes. */
  readonly crc32: number;
  /** Where the entry's local header starts. */
  readonly localHeaderOffset: number;
  /** True for a folder entry (no data). */
  readonly isDirectory: boolean;
  /** True when the entry is encrypted (it cannot be read here). */
  readonly encrypted: boolean;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATE = 8;

/** An open zip archive. Close it when done. */
export class ZipArchive {
  private constructor(
    /** The archive's path, used in messages and to stream entries. */
    readonly path: string,
    private readonly handle: FileHandle,
    /** Every entry, in central-directory order. */
    readonly entries: readonly ZipEntry[],
  ) {}

  /**
   * Opens `file` and reads its central directory.
   *
   * @throws ConfigError (code E_ZIP) when the file is not a zip archive
   *   or its directory is damaged.
   */
  static async open(file: string): Promise<ZipArchive> {
    const handle = await open(file, "r");
    try {
      const entries = await readDirectory(handle, file);
      return new ZipArchive(file, handle, entries);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The entry with exactly this name, if any. */
  find(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * The entry's bytes, inflated and checked. Meant for small entries:
   * refuses one larger than `maxBytes` (default 256 MiB) before reading.
   */
  async read(entry: ZipEntry, maxBytes = 256 * 1024 ** 2): Promise<Buffer> {
    if (entry.size > maxBytes) {
      throw zipError(
        this.path,
        `entry ${entry.name} is ${entry.size} bytes, more than the ${maxBytes} bytes read into memory`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.stream(entry)) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** Writes the entry's inflated bytes to `dest` (created or replaced). */
  async extract(entry: ZipEntry, dest: string): Promise<void> {
    await pipeline(await this.stream(entry), createWriteStream(dest));
  }

  /**
   * A stream of the entry's inflated bytes. It fails if the bytes do not
   * match the CRC-32 or the size the directory declares.
   */
  async stream(entry: ZipEntry): Promise<Readable> {
    checkReadable(entry, this.path);
    const start = await this.dataOffset(entry);
    const check = new EntryCheck(entry, this.path);
    if (entry.compressedSize === 0) {
      check.end();
      return check;
    }

    // A read stream of its own per entry, so entries can be read at once.
    const raw = createReadStream(this.path, {
      start,
      end: start + entry.compressedSize - 1,
    });
    if (entry.method === STORED) {
      raw.on("error", (err) => check.destroy(err));
      return raw.pipe(check);
    }
    const inflate = createInflateRaw();
    // pipe() does not forward errors: hand each to the stream the caller
    // reads, and stop the others.
    const fail = (err: Error): void => {
      raw.destroy();
      inflate.destroy();
      check.destroy(zipError(this.path, `entry ${entry.name}: ${err.message}`));
    };
    raw.on("error", fail);
    inflate.on("error", fail);
    check.on("close", () => raw.destroy());
    return raw.pipe(inflate).pipe(check);
  }

  /** Closes the archive's file. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Offset of the entry's data: after its local header, name and extra. */
  private async dataOffset(entry: ZipEntry): Promise<number> {
    const header = Buffer.alloc(30);
    const { bytesRead } = await this.handle.read(
      header,
      0,
      30,
      entry.localHeaderOffset,
    );
    if (bytesRead < 30 || header.readUInt32LE(0) !== LOCAL_SIG) {
      throw zipError(this.path, `entry ${entry.name} has no local header`);
    }
    return (
      entry.localHeaderOffset +
      30 +
      header.readUInt16LE(26) +
      header.readUInt16LE(28)
    );
  }
}

/** Counts and CRCs the inflated bytes; fails on any mismatch. */
class EntryCheck extends Transform {
  private bytes = 0;
  private crc = 0;

  constructor(
    private readonly entry: ZipEntry,
    private readonly file: string,
  ) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: TransformCallback,
  ): void {
    this.bytes += chunk.length;
    // Stop an entry that inflates past its declared size (a zip bomb)
    // before it fills the disk.
    if (this.bytes > this.entry.size) {
      done(this.mismatch(`more than the declared ${this.entry.size} bytes`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.entry.size) {
      done(this.mismatch(`${this.bytes} bytes, not ${this.entry.size}`));
    } else if (this.crc >>> 0 !== this.entry.crc32) {
      done(this.mismatch("a CRC-32 that does not match its directory"));
    } else {
      done();
    }
  }

  private mismatch(what: string): ConfigError {
    return zipError(this.file, `entry ${this.entry.name} has ${what}`);
  }
}

function checkReadable(entry: ZipEntry, file: string): void {
  if (entry.encrypted) {
    throw zipError(file, `entry ${entry.name} is encrypted`);
  }
  if (entry.method !== STORED && entry.method !== DEFLATE) {
    throw zipError(
      file,
      `entry ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`,
    );
  }
}

function zipError(file: string, what: string): ConfigError {
  return new ConfigError(`${file}: ${what}`, "E_ZIP");
}

/** Where the central directory is and how many entries it holds. */
interface Directory {
  offset: number;
  size: number;
  count: number;
}

async function readDirectory(
  handle: FileHandle,
  file: string,
): Promise<ZipEntry[]> {
  const { size } = await handle.stat();
  const dir = await findDirectory(handle, size, file);
  if (dir.offset + dir.size > size) {
    throw zipError(file, "the central directory lies past the end of file");
  }
  const buf = Buffer.alloc(dir.size);
  await handle.read(buf, 0, dir.size, dir.offset);

  const entries: ZipEntry[] = [];
  let pos = 0;
  for (let i = 0; i < dir.count; i++) {
    const { entry, next } = parseCentralEntry(buf, pos, file);
    entries.push(entry);
    pos = next;
  }
  return entries;
}

/** Finds the end-of-central-directory record (and its ZIP64 twin). */
async function findDirectory(
  handle: FileHandle,
  size: number,
  file: string,
): Promise<Directory> {
  const tailSize = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tail = Buffer.alloc(tailSize);
  await handle.read(tail, 0, tailSize, size - tailSize);

  // The record sits before a comment of unknown length: scan backwards.
  for (let i = tailSize - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIG) continue;
    const dir: Directory = {
      count: tail.readUInt16LE(i + 10),
      size: tail.readUInt32LE(i + 12),
      offset: tail.readUInt32LE(i + 16),
    };
    const zip64 =
      dir.count === 0xffff ||
      dir.size === 0xffffffff ||
      dir.offset === 0xffffffff;
    if (!zip64) return dir;
    return readZip64Directory(handle, size - tailSize + i, file);
  }
  throw zipError(file, "not a zip archive (no end of central directory)");
}

async function readZip64Directory(
  handle: FileHandle,
  eocdOffset: number,
  file: string,
): Promise<Directory> {
  const locator = Buffer.alloc(20);
  await handle.read(locator, 0, 20, eocdOffset - 20);
  if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) {
    throw zipError(file, "ZIP64 archive without its locator");
  }
  const record = Buffer.alloc(56);
  await handle.read(record, 0, 56, safeNumber(locator.readBigUInt64LE(8)));
  if (record.readUInt32LE(0) !== ZIP64_EOCD_SIG) {
    throw zipError(file, "ZIP64 end of central directory not found");
  }
  return {
    count: safeNumber(record.readBigUInt64LE(32)),
    size: safeNumber(record.readBigUInt64LE(40)),
    offset: safeNumber(record.readBigUInt64LE(48)),
  };
}

function parseCentralEntry(
  buf: Buffer,
  pos: number,
  file: string,
): { entry: ZipEntry; next: number } {
  if (pos + 46 > buf.length || buf.readUInt32LE(pos) !== CENTRAL_SIG) {
    throw zipError(file, `damaged central directory at entry offset ${pos}`);
  }
  const flags = buf.readUInt16LE(pos + 8);
  const nameLength = buf.readUInt16LE(pos + 28);
  const extraLength = buf.readUInt16LE(pos + 30);
  const commentLength = buf.readUInt16LE(pos + 32);
  const nameStart = pos + 46;
  // Bit 11 marks UTF-8 names; others are CP437, read here as latin1
  // (the same for the ASCII names archives use in practice).
  const name = buf.toString(
    flags & 0x800 ? "utf8" : "latin1",
    nameStart,
    nameStart + nameLength,
  );
  const sizes = zip64Sizes(
    buf.subarray(nameStart + nameLength, nameStart + nameLength + extraLength),
    {
      size: buf.readUInt32LE(pos + 24),
      compressedSize: buf.readUInt32LE(pos + 20),
      offset: buf.readUInt32LE(pos + 42),
    },
  );
  const entry: ZipEntry = {
    name,
    method: buf.readUInt16LE(pos + 10),
    crc32: buf.readUInt32LE(pos + 16),
    compressedSize: sizes.compressedSize,
    size: sizes.size,
    localHeaderOffset: sizes.offset,
    isDirectory: name.endsWith("/"),
    encrypted: (flags & 1) !== 0,
  };
  return {
    entry,
    next: nameStart + nameLength + extraLength + commentLength,
  };
}

interface Sizes {
  size: number;
  compressedSize: number;
  offset: number;
}

/** Replaces 0xFFFFFFFF fields with their values from a ZIP64 extra field. */
function zip64Sizes(extra: Buffer, sizes: Sizes): Sizes {
  const out = { ...sizes };
  for (let p = 0; p + 4 <= extra.length;) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      // Only the fields that overflowed are present, in this order.
      let q = p + 4;
      for (const key of ["size", "compressedSize", "offset"] as const) {
        if (out[key] !== 0xffffffff || q + 8 > p + 4 + length) continue;
        out[key] = safeNumber(extra.readBigUInt64LE(q));
        q += 8;
      }
    }
    p += 4 + length;
  }
  return out;
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConfigError(`zip offset ${value} is too large`, "E_ZIP");
  }
  return Number(value);
}
