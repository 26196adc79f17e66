/**
 * `durascribe models`: the Whisper model cache. Lists the catalogue and
 * what is cached, pulls (downloads and checks) a model, prints a model's
 * path, imports a CTranslate2 model, and re-checks a cached model.
 */
import { ConfigError } from "../errors.js";
import { listCachedModels, readChecksum, sha256File } from "../models/cache.js";
import type { CachedModel } from "../models/cache.js";
import { CATALOGUE, findModel } from "../models/catalogue.js";
import { modelsConfig } from "../models/config.js";
import type { ModelsConfig } from "../models/config.js";
import { importModel } from "../models/import.js";
import { pullModel } from "../models/pull.js";
import type { PullOptions, PullResult } from "../models/pull.js";
import { resolveModel } from "../models/resolve.js";
import { parse } from "./args.js";
import { ProgressBoard } from "./progress.js";

/** Usage lines of the models command. */
export const MODELS_USAGE = `  models  the Whisper model cache (DURASCRIBE_MODELS_DIR, ~/.cache/durascribe/models)
          models list                        catalogue and cached models
          models pull <name> [--force] [--no-fallback] [--mirror <url>]
          models path <name>                 path of a cached model
          models import <folder|wheel> [--name <name>]
                                             convert a CTranslate2 model
          models verify <name>               re-check a cached model's SHA-256
          --models-dir <dir>
`;

const SUBCOMMANDS: Readonly<Record<string, (args: string[]) => Promise<void>>> =
  {
    list: listCommand,
    pull: pullCommand,
    path: pathCommand,
    import: importCommand,
    verify: verifyCommand,
  };

/** Runs `durascribe models <sub-command> ...`. */
export async function modelsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (run === undefined) {
    throw new ConfigError(
      `${sub === undefined ? "missing" : `unknown`} models sub-command${sub === undefined ? "" : ` "${sub}"`}; use one of: ${Object.keys(SUBCOMMANDS).join(", ")}\n${MODELS_USAGE}`,
    );
  }
  await run(rest);
}

/** Parses the sub-command's flags plus `--models-dir` into its config. */
function parseWith(
  args: string[],
  options: Parameters<typeof parse>[1],
): {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
} & ModelsConfig {
  const { values, positionals } = parse(
    args,
    { ...options, "models-dir": { type: "string" } },
    true,
  );
  const flags = values as Record<string, string | boolean | undefined>;
  return {
    values: flags,
    positionals,
    ...modelsConfig({ flags, env: process.env }),
  };
}

/** The one positional argument, called `what` in the error. */
function onePositional(list: string[], what: string): string {
  if (list.length !== 1 || list[0] === undefined || list[0] === "") {
    throw new ConfigError(
      `expected one ${what}, got ${list.length}\n${MODELS_USAGE}`,
    );
  }
  return list[0];
}

async function listCommand(args: string[]): Promise<void> {
  const { positionals: extra, modelsDir } = parseWith(args, {});
  if (extra.length > 0) throw new ConfigError(`models list takes no arguments`);
  const cached = new Map(
    (await listCachedModels(modelsDir)).map((m) => [m.name, m]),
  );
  const rows = [["NAME", "SIZE", "CACHED", "PATH"]];
  for (const model of CATALOGUE) {
    const found = cached.get(model.name);
    rows.push([
      model.name,
      megabytes(found?.bytes ?? model.bytes),
      cacheState(found, model.sha256),
      found?.path ?? "",
    ]);
    cached.delete(model.name);
  }
  for (const other of cached.values()) {
    rows.push([
      other.name,
      megabytes(other.bytes),
      "yes (not in catalogue)",
      other.path,
    ]);
  }
  process.stdout.write(`model cache: ${modelsDir}\n${table(rows)}`);
}

/** `no`, `yes`, or `yes (converted)` when the recorded SHA-256 is another. */
function cacheState(
  found: CachedModel | undefined,
  sha256: string | undefined,
): string {
  if (found === undefined) return "no";
  if (found.sha256 === undefined) return "yes (no checksum)";
  if (sha256 !== undefined && found.sha256 !== sha256) return "yes (converted)";
  return "yes";
}

async function pullCommand(args: string[]): Promise<void> {
  const {
    values,
    positionals: list,
    modelsDir,
    mirror,
  } = parseWith(args, {
    force: { type: "boolean" },
    "no-fallback": { type: "boolean" },
    mirror: { type: "string" },
  });
  const name = onePositional(list, "model name");
  const result = await pullWithProgress(name, {
    modelsDir,
    mirror,
    force: values.force === true,
    fallback: values["no-fallback"] !== true,
  });
  process.stdout.write(`${pullSummary(result)}\n`);
}

/**
 * Pulls a catalogue model into the cache with a progress bar on stderr
 * (plain progress lines when stderr is not a terminal), telling the user
 * when it falls back to pip. `durascribe run` uses it for a missing model.
 */
export async function pullWithProgress(
  name: string,
  opts: Omit<PullOptions, "onProgress" | "onNotice">,
): Promise<PullResult> {
  const board = new ProgressBoard(process.stderr);
  const bar = board.add(name);
  const plain = new PlainProgress(name, process.stderr.isTTY !== true);
  try {
    const result = await pullModel(name, {
      ...opts,
      onProgress: (bytes, total) => {
        const fraction = total ? bytes / total : undefined;
        // The bar shows the percentage; its detail gives the sizes.
        const of = total ? ` of ${megabytes(total)}` : "";
        bar.update("downloading", fraction, `${megabytes(bytes)}${of}`);
        plain.report(bytes, total);
      },
      onNotice: (message) => {
        bar.update("falling back to pip");
        process.stderr.write(`durascribe: ${message}\n`);
      },
    });
    bar.done(megabytes(result.bytes));
    board.close();
    return result;
  } catch (err) {
    // The error itself is printed by main; the bar only ends.
    bar.fail("");
    board.close();
    throw err;
  }
}

function pullSummary(r: PullResult): string {
  const what = {
    download: `downloaded, ${megabytes(r.bytes)}`,
    cache: `already in the cache, ${megabytes(r.bytes)}`,
    pip: `converted from the pip package, ${megabytes(r.bytes)}`,
  }[r.source];
  const check = {
    sha256: "SHA-256 matches the catalogue",
    size: "size matches the catalogue (it publishes no SHA-256)",
    none:
      r.source === "pip"
        ? "a converted copy, so the catalogue's SHA-256 does not apply"
        : "not the catalogue's file (a converted copy, or no checksum recorded)",
  }[r.verified];
  return `${r.name}: ${what}; ${check}\n${r.path}`;
}

async function pathCommand(args: string[]): Promise<void> {
  const { positionals: list, modelsDir } = parseWith(args, {});
  const resolved = await resolveModel(
    onePositional(list, "model name"),
    modelsDir,
  );
  process.stdout.write(`${resolved.path}\n`);
}

async function importCommand(args: string[]): Promise<void> {
  const {
    values,
    positionals: list,
    modelsDir,
  } = parseWith(args, {
    name: { type: "string" },
  });
  const source = onePositional(list, "folder or wheel");
  process.stderr.write(`converting ${source} ...\n`);
  const result = await importModel(source, {
    modelsDir,
    name: typeof values.name === "string" ? values.name : undefined,
  });
  process.stdout.write(
    `${result.name}: imported, ${megabytes(result.bytes)}, ${result.tensors} tensors, SHA-256 ${result.sha256}\n${result.path}\n`,
  );
}

async function verifyCommand(args: string[]): Promise<void> {
  const { positionals: list, modelsDir } = parseWith(args, {});
  const name = onePositional(list, "model name");
  const { path: file } = await resolveModel(name, modelsDir);
  const actual = await sha256File(file);
  const recorded = await readChecksum(file);
  const published = findModel(name)?.sha256;
  if (recorded !== undefined && recorded !== actual) {
    throw new ConfigError(
      `${file} has SHA-256 ${actual}, not the ${recorded} recorded when it was pulled or imported: the file changed; pull or import it again`,
      "E_MODEL_CHECKSUM",
    );
  }
  const note =
    published === actual
      ? "matches the catalogue"
      : recorded !== undefined
        ? "matches the checksum recorded at import"
        : "no checksum was recorded to compare with";
  process.stdout.write(`${name}: SHA-256 ${actual} ${note}\n`);
}

/** Plain progress lines for a log: one per 10% (or per 50 MB unsized). */
class PlainProgress {
  private next = 0.1;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  report(bytes: number, total: number | undefined): void {
    if (!this.enabled) return;
    const step = total ? bytes / total : bytes / 50e6 / 10;
    if (step < this.next && bytes !== total) return;
    while (this.next <= step) this.next += 0.1;
    process.stderr.write(`${this.label}: ${sizeDetail(bytes, total)}\n`);
  }
}

function sizeDetail(bytes: number, total: number | undefined): string {
  if (!total) return megabytes(bytes);
  return `${Math.floor((bytes / total) * 100)}% of ${megabytes(total)}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Rows as left-aligned columns. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((r) => (r[c] ?? "").length)),
  );
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}
