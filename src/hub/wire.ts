/**
 * Protobuf wire-format writing for the few messages the hub builds on hot
 * paths (work items, scheduled-task events, activity requests), where
 * building generated message objects, or many small Buffers, would cost more
 * than the rest of the step. Field numbers come from
 * orchestrator_service.proto.
 */

const VARINT = 0;
const LEN = 2;

/** Writes one message into a growing buffer. */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(sizeHint = 256) {
    this.buf = Buffer.allocUnsafe(sizeHint);
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** An integer field; zero is left out, as proto3 does. */
  int(field: number, value: number): this {
    if (value === 0) return this;
    this.raw((field << 3) | VARINT);
    this.raw(value);
    return this;
  }

  /** A string field (always written, even when empty). */
  string(field: number, value: string): this {
    const len = Buffer.byteLength(value, "utf8");
    this.raw((field << 3) | LEN);
    this.raw(len);
    this.room(len);
    this.pos += this.buf.write(value, this.pos, "utf8");
    return this;
  }

  /** A bytes or embedded-message field from bytes already encoded. */
  bytes(field: number, value: Uint8Array): this {
    this.raw((field << 3) | LEN);
    this.raw(value.length);
    this.room(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** An embedded message written by `body`. */
  message(field: number, body: (w: this) => void): this {
    this.raw((field << 3) | LEN);
    // Reserve five bytes for the length, write the body, then close the gap.
    this.room(5);
    const lenAt = this.pos;
    this.pos += 5;
    body(this);
    const len = this.pos - lenAt - 5;
    const lenBytes = varintSize(len);
    this.buf.copyWithin(lenAt + lenBytes, lenAt + 5, this.pos);
    this.pos = lenAt;
    this.raw(len);
    this.pos += len;
    return this;
  }

  /** A google.protobuf.StringValue field; absent when undefined. */
  stringValue(field: number, value: string | undefined): this {
    if (value === undefined) return this;
    return this.message(field, (w) => w.string(1, value));
  }

  /** A google.protobuf.Timestamp field for epoch milliseconds. */
  timestamp(field: number, ms: number): this {
    return this.message(field, (w) =>
      w.int(1, Math.floor(ms / 1000)).int(2, (ms % 1000) * 1_000_000),
    );
  }

  /** The entries of a map<string, string> field. */
  map(field: number, entries: readonly [string, string][]): this {
    for (const [k, v] of entries) {
      this.message(field, (w) => w.string(1, k).string(2, v));
    }
    return this;
  }

  /** A varint; negative int32 values take ten bytes, as protobuf requires. */
  private raw(n: number): void {
    this.room(10);
    if (n < 0) {
      let v = BigInt.asUintN(64, BigInt(n));
      while (v > 0x7fn) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    let v = n;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(
      Math.max(this.buf.length * 2, this.pos + n),
    );
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v > 0x7f; v = Math.floor(v / 128)) size++;
  return size;
}
