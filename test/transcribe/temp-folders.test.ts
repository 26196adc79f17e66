import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { processStart } from "../../src/process-identity.js";
import {
  makeTempFolder,
  sweepTempFolders,
} from "../../src/transcribe/temp-folders.js";

let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-sweep-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A process that has started and then exited: its pid is free now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

async function folder(
  name: string,
  owner: Record<string, unknown> | undefined,
): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  await writeFile(path.join(dir, "media.mp4"), "partial download");
  if (owner) {
    await writeFile(path.join(dir, "owner.json"), JSON.stringify(owner));
  }
  return dir;
}

test("only folders of processes gone from this host are swept", async () => {
  const host = os.hostname();
  const sleeper = spawn(
    process.execPath,
    ["-e", "setTimeout(() => {}, 60000)"],
    {
      stdio: "ignore",
    },
  );
  try {
    const livePid = sleeper.pid!;
    const ours = await makeTempFolder(root);
    const dead = await folder("durascribe-job-dead", {
      host,
      pid: await deadPid(),
    });
    const live = await folder("durascribe-job-live", {
      host,
      pid: livePid,
      start: await processStart(livePid),
    });
    // The pid runs, but it is another process than the one that made it.
    const reused = await folder("durascribe-job-reused", {
      host,
      pid: livePid,
      start: "1",
    });
    await folder("durascribe-job-elsewhere", {
      host: `${host}-other`,
      pid: 1e7,
    });
    await folder("durascribe-job-unowned", undefined);
    await folder("other-tool-dead", { host, pid: await deadPid() });

    const removed = await sweepTempFolders(root);

    assert.deepEqual(removed.sort(), [dead, reused].sort());
    assert.deepEqual(
      (await readdir(root)).sort(),
      [
        "durascribe-job-elsewhere",
        path.basename(live),
        path.basename(ours),
        "durascribe-job-unowned",
        "other-tool-dead",
      ].sort(),
    );
  } finally {
    sleeper.kill("SIGKILL");
  }
});

test("a temp root that does not exist sweeps nothing", async () => {
  assert.deepEqual(await sweepTempFolders(path.join(root, "absent")), []);
});
