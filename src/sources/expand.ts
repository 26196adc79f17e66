/**
 * Expanding what the user gave into one entry per source: `@list.txt`
 * files are read (one source per line), folders are searched for media
 * files, and each source gets a stable id and a base name unique within
 * the batch. Nothing is fetched here; session codes are looked up later.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { safeName, shortHash, sourceId, stem } from "./ids.js";
import { MEDIA_EXTENSIONS, type SourceEntry } from "./types.js";

/** A Build session code such as `DEM520` or `BRK101A`. */
export const SESSION_CODE = /^[A-Za-z]{2,8}\d{2,4}[A-Za-z]?$/;

type Pending = Omit<SourceEntry, "base"> & { name: string };

/**
 * Expands `inputs` into entries, in input order, without duplicates (the
 * first of two identical sources wins).
 *
 * @param cwd Folder that relative paths and `@lists` are resolved in.
 */
export async function expandSources(
  inputs: readonly string[],
  cwd: string,
): Promise<SourceEntry[]> {
  const found: Pending[] = [];
  for (const input of inputs) {
    await expandOne(input.trim(), cwd, found, new Set());
  }
  return assignBases(dedupe(found));
}

async function expandOne(
  input: string,
  cwd: string,
  out: Pending[],
  lists: Set<string>,
): Promise<void> {
  if (input.startsWith("@")) return expandList(input, cwd, out, lists);
  if (/^https?:\/\//i.test(input)) return void out.push(urlEntry(input));
  if (input.startsWith("file:")) {
    let file: string;
    try {
      file = fileURLToPath(input);
    } catch {
      return void out.push(errorEntry(input, "is not a valid file: URL"));
    }
    return expandPath(input, file, out);
  }

  const file = path.resolve(cwd, input);
  if (await exists(file)) return expandPath(input, file, out);
  if (SESSION_CODE.test(input)) {
    const code = input.toUpperCase();
    return void out.push({
      id: code,
      kind: "session",
      source: code,
      name: code,
    });
  }
  const pathLike =
    /[\\/]/.test(input) ||
    MEDIA_EXTENSIONS.has(path.extname(input).toLowerCase());
  out.push(
    pathLike
      ? errorEntry(
          input,
          `is not an existing file (looked for ${file})`,
          "E_SOURCE_NOT_FOUND",
        )
      : errorEntry(
          input,
          "is not a file, folder, http(s) URL or Build session code",
        ),
  );
}

async function expandList(
  input: string,
  cwd: string,
  out: Pending[],
  lists: Set<string>,
): Promise<void> {
  const file = path.resolve(cwd, input.slice(1));
  if (lists.has(file)) {
    return void out.push(errorEntry(input, "includes itself", "E_SOURCE_LIST"));
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const why = `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}: ${file})`;
    return void out.push(errorEntry(input, why, "E_SOURCE_LIST"));
  }
  const inner = new Set(lists).add(file);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    // Relative paths in a list are relative to the list, not to the cwd.
    await expandOne(line, path.dirname(file), out, inner);
  }
}

async function expandPath(
  input: string,
  file: string,
  out: Pending[],
): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    const why = `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}: ${file})`;
    return void out.push(errorEntry(input, why, "E_SOURCE_NOT_FOUND"));
  }
  if (!info.isDirectory()) return void out.push(fileEntry(file));

  const media = await mediaIn(file);
  if (media.length === 0) {
    const why = `is a folder with no media files (${[...MEDIA_EXTENSIONS].slice(0, 6).join(", ")}, ...)`;
    return void out.push(errorEntry(input, why, "E_SOURCE_EMPTY_FOLDER"));
  }
  for (const m of media) out.push(fileEntry(m));
}

/** Media files under `dir`, depth first, sorted by name; hidden ones skipped. */
async function mediaIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const full = path.join(dir, e.name);
    const isDir =
      e.isDirectory() || (e.isSymbolicLink() && (await isFolder(full)));
    if (isDir) files.push(...(await mediaIn(full)));
    else if (MEDIA_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      files.push(full);
    }
  }
  return files;
}

function fileEntry(file: string): Pending {
  const name = stem(path.basename(file));
  return { id: sourceId(name, file), kind: "file", source: file, name };
}

function urlEntry(input: string): Pending {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return errorEntry(input, "is not a valid URL", "E_SOURCE_URL");
  }
  const name = stem(urlFileName(url)) || url.hostname;
  return { id: sourceId(name, url.href), kind: "url", source: url.href, name };
}

/** The decoded last path segment of a URL, or "" if it has none. */
export function urlFileName(url: URL): string {
  const last = url.pathname.split("/").filter(Boolean).pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function errorEntry(
  input: string,
  why: string,
  code = "E_SOURCE_UNRECOGNISED",
): Pending {
  const id = `error-${shortHash(input)}`;
  return {
    id,
    kind: "file",
    source: input,
    name: id,
    error: `source "${input}" ${why}`,
    errorCode: code,
  };
}

function dedupe(entries: Pending[]): Pending[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

/**
 * Base names: a session's code, a file's or URL's own name, or its id
 * where two sources would share a name (compared ignoring case, as some
 * file systems do).
 */
function assignBases(entries: Pending[]): SourceEntry[] {
  const key = (e: Pending) =>
    (e.kind === "session" ? e.id : safeName(e.name)).toLowerCase();
  const count = new Map<string, number>();
  for (const e of entries) count.set(key(e), (count.get(key(e)) ?? 0) + 1);
  return entries.map((pending) => {
    const { name, ...e } = pending;
    if (e.kind === "session") return { ...e, base: e.id };
    const shared = (count.get(key(pending)) ?? 0) > 1;
    return { ...e, base: shared ? e.id : safeName(name) };
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function isFolder(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}
