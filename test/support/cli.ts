/** The path of this checkout's CLI entry point, for tests that spawn it. */
import { fileURLToPath } from "node:url";

/** `bin/durascribe.js` of this checkout (it runs the build in dist/). */
export const CLI = fileURLToPath(
  new URL("../../../bin/durascribe.js", import.meta.url),
);
