/**
 * The job's speech recogniser: whisper.cpp through our addon
 * ({@link WhisperModel}), with models found by src/models. A job execution
 * loads its model once and frees it at the end; `durascribe transcribe`
 * keeps it loaded from one file to the next.
 */
import type { Logger } from "../logger.js";
import { resolveModel } from "../models/resolve.js";
import { ensureVadModel } from "../models/vad.js";
import type {
  EngineLease,
  EngineProvider,
  EngineRequest,
  ResolvedEngine,
} from "./engine-types.js";
import { WhisperModel } from "./whisper.js";

/** Options of {@link WhisperEngines}. */
export interface WhisperEnginesOptions {
  /**
   * Keep each model loaded after a file is done, for the next one; free
   * them all with {@link WhisperEngines.close}. @default false
   */
  keepLoaded?: boolean;
  /** Told what happens when the VAD model has to be made first. */
  logger?: Logger;
}

/** Finds models in the cache (or at a path) and loads them in whisper.cpp. */
export class WhisperEngines implements EngineProvider {
  private readonly loaded = new Map<string, Promise<WhisperModel>>();

  constructor(private readonly opts: WhisperEnginesOptions = {}) {}

  /**
   * Finds the model; with VAD, also the Silero model, which is made from
   * its PyPI package when the cache lacks it (see src/models/vad.ts).
   *
   * @throws ConfigError when a model is missing, saying how to get it.
   */
  async resolve(request: EngineRequest): Promise<ResolvedEngine> {
    const model = await resolveModel(request.model, request.modelsDir);
    const vadModelPath = request.vad
      ? await ensureVadModel(request.modelsDir, { logger: this.opts.logger })
      : undefined;
    return {
      name: model.name,
      vadModelPath,
      load: () => this.load(model.path),
    };
  }

  /** Frees every model kept loaded. */
  async close(): Promise<void> {
    const models = [...this.loaded.values()];
    this.loaded.clear();
    for (const model of await Promise.allSettled(models)) {
      if (model.status === "fulfilled") model.value.close();
    }
  }

  private async load(path: string): Promise<EngineLease> {
    if (!this.opts.keepLoaded) {
      const model = await WhisperModel.load(path);
      return { engine: model, release: () => model.close() };
    }

    let loading = this.loaded.get(path);
    if (loading === undefined) {
      loading = WhisperModel.load(path);
      this.loaded.set(path, loading);
      // A failed load is not kept: the next file tries again.
      void loading.catch(() => this.loaded.delete(path));
    }
    return { engine: await loading, release: () => undefined };
  }
}
