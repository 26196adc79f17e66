/**
 * A small reader of Python pickles: enough of the protocol (0-5 binary
 * opcodes) to walk the `data.pkl` of a TorchScript archive, which holds
 * the module tree and references to the tensor storages. It never runs
 * code: globals become {@link PickleGlobal} values and the caller decides,
 * through {@link PickleHooks}, what a call of one produces.
 */

/** A `module.name` reference written by GLOBAL or STACK_GLOBAL. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`, the way Python prints a qualified name. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An instance made by NEWOBJ (or a REDUCE no hook claimed), with the state
 * BUILD gave it: for a TorchScript module, a Map of attribute name to value.
 */
export class PickleObject {
  state: unknown = undefined;

  constructor(
    /** Usually a {@link PickleGlobal}: whatever the pickle called. */
    readonly cls: unknown,
    readonly args: unknown[],
  ) {}
}

/** A Python tuple (kept apart from lists so shapes read as they were). */
export type PickleTuple = readonly unknown[];

/** What the caller decides while a pickle is read. */
export interface PickleHooks {
  /**
   * Called for REDUCE and NEWOBJ on a global; return `undefined` to get a
   * plain {@link PickleObject}.
   */
  call?(fn: PickleGlobal, args: unknown[]): unknown;
  /** Resolves a BINPERSID reference; a pickle with one needs this hook. */
  persistentLoad?(pid: unknown): unknown;
}

const MARK = Symbol("mark");

/** Reads one pickle from `data` and returns its top value. */
export function readPickle(data: Uint8Array, hooks: PickleHooks = {}): unknown {
  return new PickleMachine(data, hooks).run();
}

/** Decodes opcodes one at a time against a stack and a memo. */
class PickleMachine {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;
  private readonly text = new TextDecoder("utf-8", { fatal: true });

  constructor(
    private readonly data: Uint8Array,
    private readonly hooks: PickleHooks,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  run(): unknown {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      if (op === 0x2e /* STOP */) return this.pop();
      if (!this.step(op)) {
        throw new Error(
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${at}`,
        );
      }
    }
  }

  /** Runs one opcode; false when it is not one this reader knows. */
  private step(op: number): boolean {
    return (
      this.stepScalar(op) ||
      this.stepContainer(op) ||
      this.stepMemo(op) ||
      this.stepObject(op)
    );
  }

  private stepScalar(op: number): boolean {
    switch (op) {
      case 0x80 /* PROTO */:
        this.u8();
        return true;
      case 0x95 /* FRAME: a size hint only */:
        this.take(8);
        return true;
      case 0x4e /* NONE */:
        return this.push(null);
      case 0x88 /* NEWTRUE */:
        return this.push(true);
      case 0x89 /* NEWFALSE */:
        return this.push(false);
      case 0x4b /* BININT1 */:
        return this.push(this.u8());
      case 0x4d /* BININT2 */:
        return this.push(this.u16());
      case 0x4a /* BININT */:
        return this.push(this.i32());
      case 0x8a /* LONG1 */:
        return this.push(this.long(this.u8()));
      case 0x8b /* LONG4 */:
        return this.push(this.long(this.u32()));
      case 0x47 /* BINFLOAT: big-endian double */:
        return this.push(this.view.getFloat64(this.advance(8), false));
      case 0x58 /* BINUNICODE */:
      case 0x8d /* BINUNICODE8 */:
        return this.push(this.utf8(op === 0x58 ? this.u32() : this.u64()));
      case 0x8c /* SHORT_BINUNICODE */:
        return this.push(this.utf8(this.u8()));
      case 0x55 /* SHORT_BINSTRING */:
      case 0x43 /* SHORT_BINBYTES */:
        return this.push(this.take(this.u8()));
      case 0x54 /* BINSTRING */:
      case 0x42 /* BINBYTES */:
        return this.push(this.take(this.u32()));
      default:
        return false;
    }
  }

  private stepContainer(op: number): boolean {
    switch (op) {
      case 0x28 /* MARK */:
        return this.push(MARK);
      case 0x29 /* EMPTY_TUPLE */:
        return this.push([]);
      case 0x74 /* TUPLE */:
        return this.push(this.popMark());
      case 0x85 /* TUPLE1 */:
      case 0x86 /* TUPLE2 */:
      case 0x87 /* TUPLE3 */:
        return this.push(this.popN(op - 0x84));
      case 0x5d /* EMPTY_LIST */:
        return this.push([]);
      case 0x61 /* APPEND */: {
        const item = this.pop();
        this.list(this.top()).push(item);
        return true;
      }
      case 0x65 /* APPENDS */: {
        const items = this.popMark();
        this.list(this.top()).push(...items);
        return true;
      }
      case 0x7d /* EMPTY_DICT */:
        return this.push(new Map<unknown, unknown>());
      case 0x73 /* SETITEM */: {
        const [key, value] = this.popN(2);
        this.dict(this.top()).set(key, value);
        return true;
      }
      case 0x75 /* SETITEMS */: {
        const items = this.popMark();
        const dict = this.dict(this.top());
        for (let i = 0; i + 1 < items.length; i += 2) {
          dict.set(items[i], items[i + 1]);
        }
        return true;
      }
      case 0x30 /* POP */:
        this.pop();
        return true;
      case 0x31 /* POP_MARK */:
        this.popMark();
        return true;
      case 0x32 /* DUP */:
        return this.push(this.top());
      default:
        return false;
    }
  }

  private stepMemo(op: number): boolean {
    switch (op) {
      case 0x71 /* BINPUT */:
        this.memo.set(this.u8(), this.top());
        return true;
      case 0x72 /* LONG_BINPUT */:
        this.memo.set(this.u32(), this.top());
        return true;
      case 0x94 /* MEMOIZE */:
        this.memo.set(this.memo.size, this.top());
        return true;
      case 0x68 /* BINGET */:
        return this.push(this.recall(this.u8()));
      case 0x6a /* LONG_BINGET */:
        return this.push(this.recall(this.u32()));
      default:
        return false;
    }
  }

  private stepObject(op: number): boolean {
    switch (op) {
      case 0x63 /* GLOBAL: two text lines */:
        return this.push(new PickleGlobal(this.line(), this.line()));
      case 0x93 /* STACK_GLOBAL */: {
        const [module, name] = this.popN(2);
        return this.push(new PickleGlobal(String(module), String(name)));
      }
      case 0x81 /* NEWOBJ */:
      case 0x52 /* REDUCE */: {
        const [fn, args] = this.popN(2);
        return this.push(this.call(fn, this.list(args)));
      }
      case 0x62 /* BUILD */: {
        const state = this.pop();
        const target = this.top();
        if (target instanceof PickleObject) target.state = state;
        return true;
      }
      case 0x51 /* BINPERSID */: {
        const pid = this.pop();
        if (!this.hooks.persistentLoad) {
          throw new Error("pickle has a persistent id but no loader for it");
        }
        return this.push(this.hooks.persistentLoad(pid));
      }
      default:
        return false;
    }
  }

  private call(fn: unknown, args: unknown[]): unknown {
    if (fn instanceof PickleGlobal && this.hooks.call) {
      const made = this.hooks.call(fn, args);
      if (made !== undefined) return made;
    }
    return new PickleObject(fn, args);
  }

  private push(value: unknown): true {
    this.stack.push(value);
    return true;
  }

  private pop(): unknown {
    if (this.stack.length === 0) throw new Error("pickle stack underflow");
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) throw new Error("pickle stack underflow");
    return this.stack[this.stack.length - 1];
  }

  private popN(n: number): unknown[] {
    if (this.stack.length < n) throw new Error("pickle stack underflow");
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): unknown[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) throw new Error("pickle MARK missing");
    const items = this.stack.slice(at + 1);
    this.stack.length = at;
    return items;
  }

  private recall(index: number): unknown {
    if (!this.memo.has(index)) throw new Error(`pickle memo ${index} unset`);
    return this.memo.get(index);
  }

  private list(value: unknown): unknown[] {
    if (!Array.isArray(value)) throw new Error("pickle expected a list");
    return value as unknown[];
  }

  private dict(value: unknown): Map<unknown, unknown> {
    if (!(value instanceof Map)) throw new Error("pickle expected a dict");
    return value as Map<unknown, unknown>;
  }

  /** Moves past `n` bytes and returns where they started. */
  private advance(n: number): number {
    const at = this.pos;
    if (at + n > this.data.length) throw new Error("pickle is truncated");
    this.pos += n;
    return at;
  }

  private take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.data.subarray(at, at + n);
  }

  private u8(): number {
    return this.view.getUint8(this.advance(1));
  }

  private u16(): number {
    return this.view.getUint16(this.advance(2), true);
  }

  private u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  private i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  private u64(): number {
    return Number(this.view.getBigUint64(this.advance(8), true));
  }

  /** A little-endian two's complement integer of `n` bytes. */
  private long(n: number): number | bigint {
    const bytes = this.take(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (n > 0 && bytes[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
    const small = Number(value);
    return Number.isSafeInteger(small) ? small : value;
  }

  private utf8(n: number): string {
    return this.text.decode(this.take(n));
  }

  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw new Error("pickle is truncated");
    const text = this.text.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
}
