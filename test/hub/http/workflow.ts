/**
 * Stand-ins for the transcription workflow, registered with the real SDK
 * worker, that produce the shapes TEAM.md fixes: `transcribeBatch` with
 * custom status `{ total, succeeded, failed, running }` and output
 * `{ total, succeeded, failed, results }`, children `transcribeVideo` at
 * `<batchId>/v/<i>` with custom status `{ phase, attempt, progress? }` and
 * a VideoResult output. A video waits for the test to raise `finish`, so
 * tests decide when progress moves.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  whenAny,
  type OrchestrationContext,
  type Task,
} from "@microsoft/durabletask-js";
import { FileTranscriptStore } from "../../../src/storage/file.js";
import {
  FORMATS,
  contentTypeFor,
  renderFormat,
  type Transcript,
} from "../../../src/transcribe/formats.js";

/** What a fake video turns into. */
export interface FakeVideo {
  id: string;
  source: string;
  title: string;
  outcome: "succeeded" | "failed";
  /** Recorded locations by format (succeeded videos). */
  transcripts?: Record<string, string>;
  audioSeconds?: number;
  language?: string;
  error?: string;
  errorCode?: string;
}

/** The per-video sub-orchestration. */
export async function* transcribeVideo(
  ctx: OrchestrationContext,
  v: FakeVideo,
): any {
  ctx.setCustomStatus({ phase: "transcribing", attempt: 1, progress: 0.5 });
  yield ctx.waitForExternalEvent("finish");
  ctx.setCustomStatus({
    phase: v.outcome === "succeeded" ? "done" : "failed",
    attempt: 1,
  });
  return {
    id: v.id,
    source: v.source,
    title: v.title,
    mediaUrl: v.source,
    status: v.outcome,
    transcripts: v.transcripts ?? {},
    manifest: null,
    language: v.language ?? null,
    audioSeconds: v.audioSeconds ?? null,
    error: v.error ?? null,
    errorCode: v.errorCode ?? null,
    attempts: 1,
  };
}

/**
 * The batch: one child per video, counts in custom status as they end.
 * With `partSize`, it takes the shape of a batch run in parts: its videos
 * are `<batchId>/b/<k>/v/<i>`, and its output names the parts instead of
 * holding the results.
 */
export async function* transcribeBatch(
  ctx: OrchestrationContext,
  input: { videos: FakeVideo[]; partSize?: number },
): any {
  const total = input.videos.length;
  const size = input.partSize;
  const counts = { total, succeeded: 0, failed: 0, running: total };
  ctx.setCustomStatus({ ...counts });
  const videoId = (index: number): string =>
    size === undefined
      ? `${ctx.instanceId}/v/${index}`
      : `${ctx.instanceId}/b/${Math.floor(index / size)}/v/${index % size}`;
  const pending: { task: Task<any>; index: number }[] = input.videos.map(
    (v, index) => ({
      task: ctx.callSubOrchestrator(transcribeVideo, v, {
        instanceId: videoId(index),
      }),
      index,
    }),
  );
  const results: unknown[] = new Array(total);
  while (pending.length > 0) {
    const done: Task<any> = yield whenAny(pending.map((p) => p.task));
    const at = pending.findIndex((p) => p.task === done);
    const { index } = pending.splice(at, 1)[0]!;
    const result = done.getResult();
    results[index] = result;
    if (result.status === "succeeded") counts.succeeded++;
    else counts.failed++;
    counts.running--;
    ctx.setCustomStatus({ ...counts });
  }
  const { succeeded, failed } = counts;
  if (size === undefined) return { total, succeeded, failed, results };
  const parts = [];
  for (let k = 0; k * size < total; k++) {
    const mine = results.slice(k * size, (k + 1) * size) as FakeVideo[];
    const ok = mine.filter((r: any) => r.status === "succeeded").length;
    parts.push({
      instanceId: `${ctx.instanceId}/b/${k}`,
      total: mine.length,
      succeeded: ok,
      failed: mine.length - ok,
    });
  }
  return { total, succeeded, failed, parts };
}

/** A transcript with the given segment texts, one second each. */
export function sampleTranscript(texts: string[]): Transcript {
  return {
    segments: texts.map((text, i) => ({
      start: i,
      end: i + 1,
      text: ` ${text}`,
    })),
    language: "en",
    model: "tiny.en",
    audioSeconds: texts.length,
    processingSeconds: 0.5,
  };
}

/**
 * Writes a transcript in every format through the file store, as a job
 * would, and returns the recorded locations.
 */
export async function writeTranscripts(
  dir: string,
  base: string,
  transcript: Transcript,
): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const store = new FileTranscriptStore(join(dir, "transcripts"));
  const locations: Record<string, string> = {};
  for (const format of FORMATS) {
    locations[format] = await store.put(
      `${base}.${format}`,
      renderFormat(format, transcript),
      contentTypeFor(format),
    );
  }
  return locations;
}
