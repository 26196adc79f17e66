/**
 * `npm run bench:whisper-simd`: whisper.cpp's time per 30 s window with the
 * addon as built (x86-64-v3: AVX, AVX2, FMA, F16C), and with a build
 * without SIMD flags, made here into build/native-generic (once; later runs
 * reuse it). Each build runs in a process of its own, on the same audio and
 * model, after one warm-up window.
 *
 * Flags: --model <ggml .bin> (default: an empty tiny.en model, as in the
 * facts' figures), --threads 2, --windows 2 (30 s windows per run),
 * --runs 3, --optimised-only.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { promisify } from "node:util";

import { WhisperModel, whisperBuildInfo } from "../src/transcribe/whisper.js";
import { DEFAULT_ADDON_PATH } from "../src/transcribe/whisper-native.js";
import { writeEmptyModel } from "../test/support/empty-model.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "2" },
    windows: { type: "string", default: "2" },
    runs: { type: "string", default: "3" },
    "optimised-only": { type: "boolean", default: false },
    child: { type: "boolean", default: false },
    addon: { type: "string" },
  },
});

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WINDOW_SECONDS = 30;

/** What a child process reports for one build. */
interface ChildReport {
  features: string;
  msPerWindow: number[];
}

/** Deterministic noise, the same for every build. */
function noise(seconds: number): Float32Array {
  const pcm = new Float32Array(seconds * 16000);
  let x = 12345;
  for (let i = 0; i < pcm.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = (x / 0x7fffffff - 0.5) * 0.2;
  }
  return pcm;
}

/** The SIMD flags whisper.cpp reports as on, e.g. `AVX AVX2 FMA F16C`. */
function simdFeatures(systemInfo: string): string {
  const on = [...systemInfo.matchAll(/(\w+) = 1/g)].map((m) => m[1]);
  return on.filter((f) => f !== "REPACK").join(" ") || "none";
}

async function child(): Promise<void> {
  const addonPath = values.addon!;
  const threads = Number(values.threads);
  const windows = Number(values.windows);
  const model = await WhisperModel.load(values.model!, { addonPath });
  await model.transcribe(noise(WINDOW_SECONDS), { threads });
  const audio = noise(windows * WINDOW_SECONDS);
  const msPerWindow: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const result = await model.transcribe(audio, { threads });
    msPerWindow.push(result.whisperMs / windows);
  }
  model.close();
  const report: ChildReport = {
    features: simdFeatures(whisperBuildInfo(addonPath).systemInfo),
    msPerWindow,
  };
  process.stdout.write(JSON.stringify(report) + "\n");
}

async function measure(addon: string, model: string): Promise<ChildReport> {
  const script = fileURLToPath(import.meta.url);
  const args = [script, "--child", "--addon", addon, "--model", model];
  for (const flag of ["threads", "windows", "runs"] as const) {
    args.push(`--${flag}`, values[flag]);
  }
  const proc = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) =>
    proc.on("close", resolve),
  );
  if (code !== 0) throw new Error(`benchmark child exited with ${code}`);
  return JSON.parse(out) as ChildReport;
}

/** Builds (or finds up to date) the addon without SIMD flags. */
async function buildGeneric(): Promise<string> {
  const dir = join(ROOT, "build", "native-generic");
  const { stdout } = await promisify(execFile)(
    "bash",
    [join(ROOT, "scripts", "build-whisper.sh")],
    {
      env: {
        ...process.env,
        DURASCRIBE_NATIVE_DIR: dir,
        DURASCRIBE_WHISPER_CPU: "generic",
      },
    },
  );
  process.stdout.write(stdout);
  return join(dir, "durascribe-whisper.node");
}

/**
 * How many FMA instructions `objdump -d` finds in the addon: the proof that
 * the compiler emitted them. Undefined when objdump is not installed.
 */
async function fmaCount(addon: string): Promise<number | undefined> {
  try {
    const { stdout } = await promisify(execFile)("objdump", ["-d", addon], {
      maxBuffer: 512 << 20,
    });
    return stdout.match(/\bvfmadd/g)?.length ?? 0;
  } catch {
    return undefined;
  }
}

function summary(name: string, r: ChildReport): string {
  const sorted = [...r.msPerWindow].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const range = `${(sorted[0]! / 1000).toFixed(2)}-${(sorted.at(-1)! / 1000).toFixed(2)}`;
  return `${name.padEnd(10)} ${(median / 1000).toFixed(2).padStart(7)} s per window (range ${range} s, ${sorted.length} runs)  SIMD: ${r.features}`;
}

function median(r: ChildReport): number {
  const sorted = [...r.msPerWindow].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "durascribe-bench-whisper-"));
  try {
    let model = values.model;
    if (!model) {
      model = join(tmp, "empty-tiny.en.bin");
      await writeEmptyModel(model);
    }
    console.log(
      `whisper.cpp per 30 s window: model ${values.model ?? "empty tiny.en (no tensors)"}, ${values.threads} threads, ${values.windows} windows a run`,
    );
    const optimised = await measure(DEFAULT_ADDON_PATH, model);
    console.log(summary("optimised", optimised));
    console.log(`  vfmadd instructions: ${await fmaCount(DEFAULT_ADDON_PATH)}`);
    if (values["optimised-only"]) return;

    const genericAddon = await buildGeneric();
    const generic = await measure(genericAddon, model);
    console.log(summary("generic", generic));
    console.log(`  vfmadd instructions: ${await fmaCount(genericAddon)}`);
    const ratio = median(generic) / median(optimised);
    console.log(`optimised is ${ratio.toFixed(1)}x faster per window`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await (values.child ? child() : main());
