/**
 * Settings of `durascribe models`, validated once into a frozen object.
 * Only the CLI calls this, with its parsed flags and process.env.
 */
import os from "node:os";
import path from "node:path";

import { ConfigError } from "../errors.js";
import { defaultModelsDir } from "./cache.js";

/** Settings shared by every `models` sub-command. */
export interface ModelsConfig {
  /** Absolute path of the cache folder. */
  readonly modelsDir: string;
  /** Base URL of a mirror of the catalogue's files, if one is set. */
  readonly mirror: string | undefined;
}

/** Raw inputs: parsed flags win over environment variables. */
export interface ModelsConfigInput {
  flags: Record<string, string | boolean | undefined>;
  env: Record<string, string | undefined>;
}

/** `--models-dir`, else DURASCRIBE_MODELS_DIR, else the default under HOME. */
export function modelsConfig({ flags, env }: ModelsConfigInput): ModelsConfig {
  const flag = flags["models-dir"];
  const fromEnv = env.DURASCRIBE_MODELS_DIR?.trim();
  if (flag === "") {
    throw new ConfigError("--models-dir is empty; give a folder");
  }
  const home = env.HOME?.trim() || os.homedir();
  const dir =
    typeof flag === "string" ? flag : fromEnv || defaultModelsDir(home);
  return Object.freeze({
    modelsDir: path.resolve(dir),
    mirror: parseMirror(flags.mirror, env.DURASCRIBE_MODELS_MIRROR),
  });
}

function parseMirror(
  flag: string | boolean | undefined,
  fromEnv: string | undefined,
): string | undefined {
  const [value, name] =
    typeof flag === "string"
      ? [flag, "--mirror"]
      : [fromEnv?.trim() || undefined, "DURASCRIBE_MODELS_MIRROR"];
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} "${value}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} "${value}" is not an http(s) URL`);
  }
  return value;
}
