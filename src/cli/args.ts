/**
 * Flag parsing shared by every sub-command: strict, so a misspelt flag is
 * a configuration error (exit code 2) rather than silently ignored.
 */
import { parseArgs } from "node:util";

import { ConfigError } from "../errors.js";

/** The option table `node:util` parseArgs takes. */
export type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/** Parses `args` against `options`; bad flags become a ConfigError. */
export function parse(
  args: string[],
  options: Options,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}
