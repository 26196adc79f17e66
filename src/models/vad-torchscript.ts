/**
 * Reads the float tensors of a TorchScript archive (a `.jit` or `.pt` file
 * written by `torch.jit.save`) without torch. The archive is a zip with one
 * top folder: `data.pkl` pickles the module tree, and each tensor in it
 * points at a raw storage file `data/<key>` (little-endian). A tensor's
 * name is its attribute path, as in `state_dict()`:
 * `_model.encoder.0.reparam_conv.weight`.
 */

import { PickleObject, readPickle } from "./vad-pickle.js";
import type { PickleGlobal } from "./vad-pickle.js";

/** The entries of an archive, read by name. */
export interface ArchiveEntries {
  /** Every entry name, folders as `a/b/c`. */
  readonly names: readonly string[];
  /** The bytes of an entry, or undefined when it is not there. */
  read(name: string): Uint8Array | undefined;
}

/** A float32 tensor, contiguous, row-major. */
export interface FloatTensor {
  readonly name: string;
  /** The torch shape, outermost first. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A storage reference from a persistent id. */
class StorageRef {
  constructor(
    readonly type: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it, before its data is read. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/**
 * Every float32 tensor reachable through module attributes in `archive`,
 * by dotted name. Throws a clear Error when the archive is not TorchScript
 * or a tensor lies outside its storage.
 */
export function readTorchScriptTensors(
  archive: ArchiveEntries,
): Map<string, FloatTensor> {
  const prefix = archivePrefix(archive);
  const order = archive.read(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== "little") {
    throw new Error("TorchScript archive is big-endian: not supported");
  }

  const pkl = archive.read(`${prefix}data.pkl`);
  if (!pkl) throw new Error("TorchScript archive has no data.pkl");
  const root = readPickle(pkl, {
    persistentLoad: storageRef,
    call: rebuildTensor,
  });

  const tensors = new Map<string, FloatTensor>();
  for (const [name, ref] of collectTensors(root, "", new Set())) {
    tensors.set(name, materialise(archive, prefix, name, ref));
  }
  return tensors;
}

/** The archive's top folder with a trailing slash (`VADr_v5/`). */
function archivePrefix(archive: ArchiveEntries): string {
  const pkl = archive.names.find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) {
    throw new Error(
      "not a TorchScript archive: no <folder>/data.pkl entry in the zip",
    );
  }
  return pkl.slice(0, pkl.length - "data.pkl".length);
}

/** TorchScript writes ('storage', <class>, key, location, numel). */
function storageRef(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
    throw new Error("TorchScript persistent id is not a storage reference");
  }
  const cls = pid[1] as PickleGlobal;
  return new StorageRef(cls.name, String(pid[2]), Number(pid[4]));
}

function rebuildTensor(fn: PickleGlobal, args: unknown[]): unknown {
  switch (fn.qualifiedName) {
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, shape, stride] = args;
      if (!(storage instanceof StorageRef)) {
        throw new Error("tensor without a storage in TorchScript archive");
      }
      return new TensorRef(
        storage,
        Number(offset),
        (shape as unknown[]).map(Number),
        (stride as unknown[]).map(Number),
      );
    }
    case "collections.OrderedDict":
      return new Map();
    case "torch.jit._pickle.build_intlist":
    case "torch.jit._pickle.build_doublelist":
    case "torch.jit._pickle.build_boollist":
      return args[0];
    default:
      return undefined;
  }
}

/** Walks module attributes depth-first, in the order they were pickled. */
function* collectTensors(
  value: unknown,
  path: string,
  seen: Set<unknown>,
): Generator<[string, TensorRef]> {
  if (value instanceof TensorRef) {
    yield [path, value];
    return;
  }
  if (!(value instanceof PickleObject) || seen.has(value)) return;
  seen.add(value);
  if (!(value.state instanceof Map)) return;
  for (const [key, child] of value.state as Map<unknown, unknown>) {
    if (typeof key !== "string") continue;
    yield* collectTensors(child, path ? `${path}.${key}` : key, seen);
  }
}

/** Copies a (possibly strided) view of its storage into a dense array. */
function materialise(
  archive: ArchiveEntries,
  prefix: string,
  name: string,
  ref: TensorRef,
): FloatTensor {
  if (ref.storage.type !== "FloatStorage") {
    throw new Error(
      `tensor ${name} is ${ref.storage.type}; only FloatStorage is supported`,
    );
  }
  const bytes = archive.read(`${prefix}data/${ref.storage.key}`);
  if (!bytes) {
    throw new Error(`storage data/${ref.storage.key} of ${name} is missing`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const available = Math.floor(bytes.byteLength / 4);

  const count = ref.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  const index = ref.shape.map(() => 0);
  for (let i = 0; i < count; i++) {
    let at = ref.offset;
    for (let d = 0; d < index.length; d++) at += index[d]! * ref.stride[d]!;
    if (at < 0 || at >= available) {
      throw new Error(`tensor ${name} reaches past the end of its storage`);
    }
    data[i] = view.getFloat32(at * 4, true);
    // Advance the multi-index, innermost dimension fastest (row-major).
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d]! < ref.shape[d]!) break;
      index[d] = 0;
    }
  }
  return { name, shape: ref.shape, data };
}
