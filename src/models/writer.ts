/**
 * Sequential writes to a new file through a buffer, hashing every byte on
 * the way, so a converted model's SHA-256 is known the moment it is
 * written without reading the file again.
 */
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

const FLUSH_AT = 1024 * 1024;

/** A file being written from start to end, with its running SHA-256. */
export class HashingFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly hash: Hash = createHash("sha256");
  /** Bytes written so far (buffered ones included). */
  bytes = 0;

  private constructor(private readonly handle: FileHandle) {}

  /** Creates `file`, failing if it exists (temp names are unique). */
  static async create(file: string): Promise<HashingFileWriter> {
    return new HashingFileWriter(await open(file, "wx"));
  }

  /** Appends `chunk`; small chunks are gathered into larger writes. */
  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  /** Writes what is buffered, syncs and closes; returns the hex SHA-256. */
  async finish(): Promise<string> {
    await this.flush();
    // The file is renamed into place next: make sure its bytes are on
    // disk first, or a crash could leave a complete-looking empty model.
    await this.handle.sync();
    await this.handle.close();
    return this.hash.digest("hex");
  }

  /** Closes the file without finishing it (after a failure). */
  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data =
      this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.write(data);
  }
}
