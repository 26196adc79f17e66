#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
import("../dist/src/cli/main.js").then(
  (cli) => cli.main(process.argv.slice(2)),
  (err) => {
    process.stderr.write(
      `durascribe: cannot load dist/src/cli/main.js (${err.message}); run \`npm run build\` first\n`,
    );
    process.exit(2);
  },
);
