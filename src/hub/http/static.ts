/**
 * The dashboard's pages and scripts: plain files in `assets/`, shipped in
 * the package and read into memory once, so the dashboard works offline
 * and needs no build step of its own.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A file ready to serve. */
export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The assets folder. The compiler copies no files, so the code running
 * from dist/src/hub/http/ reads them from the package's src/hub/http/assets.
 */
export function assetsDir(): string {
  const here = new URL("./assets/", import.meta.url);
  const beside = fileURLToPath(here);
  if (existsSync(beside)) return beside;
  return fileURLToPath(
    new URL("../../../../src/hub/http/assets/", import.meta.url),
  );
}

/** Every asset by name (e.g. `app.js`). */
export function loadAssets(dir = assetsDir()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, name));
    const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
    assets.set(name, { body, type, etag });
  }
  if (!assets.has("index.html")) {
    throw new Error(
      `the dashboard's assets are missing: no index.html in ${dir}`,
    );
  }
  return assets;
}
