/**
 * Azurite, the Azure Storage emulator from npm, run as a child process on
 * 127.0.0.1 for Blob Storage tests and stopped by the test that started it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);

/** The emulator's well-known development account. */
export const ACCOUNT = "devstoreaccount1";

/** That account's key, read from the emulator itself, not from memory. */
export function accountKey(): string {
  const constants = require("azurite/dist/src/blob/utils/constants.js") as {
    EMULATOR_ACCOUNT_KEY_STR: string;
  };
  return constants.EMULATOR_ACCOUNT_KEY_STR;
}

/** A running emulator. */
export interface Azurite {
  /** Blob account URL, such as `http://127.0.0.1:41445/devstoreaccount1`. */
  accountUrl: string;
  /** A connection string for the dev account, with its key. */
  connectionString: string;
}

/** Starts Azurite's blob service, runs `body`, and stops it, whatever happens. */
export async function withAzurite(
  body: (azurite: Azurite) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-azurite-"));
  const child = spawn(
    process.execPath,
    [
      require.resolve("azurite/dist/src/blob/main.js"),
      ...["--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dir],
      // The SDK speaks a newer API version than the emulator knows.
      ...["--silent", "--skipApiVersionCheck", "--disableTelemetry"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    const accountUrl = `${await listening(child)}/${ACCOUNT}`;
    await body({
      accountUrl,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${accountKey()};BlobEndpoint=${accountUrl};`,
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The base URL Azurite prints once it listens. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (text: string) => {
      out += text;
      const match = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.on("data", (text: Buffer) => (out += text.toString()));
    child.once("exit", (code) =>
      reject(
        new Error(`azurite exited with ${code} before listening:\n${out}`),
      ),
    );
  });
}
