/**
 * The batch view of a `transcribeBatch` instance: its progress counts and
 * one row per video. The shapes read here are the workflow's contracts
 * (TEAM.md): the batch's custom status `{ total, succeeded, failed,
 * running }` and output `{ total, succeeded, failed, results }`, and the
 * `transcribeVideo` instances under `<batchId>/` with their custom status
 * `{ phase, attempt, progress? }` and VideoResult output.
 */
import type { InstanceRecord, TaskHubStore } from "../store/store.js";
import { isTerminal, pb, Status } from "../protocol.js";
import { parsePayload, statusText } from "./views.js";

/** Orchestration names of the transcription workflow. */
export const BATCH_NAME = "transcribeBatch";
/** The per-video sub-orchestration. */
export const VIDEO_NAME = "transcribeVideo";

/** Transcript formats, in the order the viewer offers them. */
export const FORMATS = ["txt", "srt", "vtt", "json"] as const;

/** The progress counts of a batch. */
export interface BatchSummary {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

/** A row of the video table. */
export interface VideoRow {
  /** The transcribeVideo instance, when the row comes from one. */
  instanceId: string | null;
  /** The VideoResult id (the source's id), once known. */
  videoId: string | null;
  title: string;
  source: string | null;
  /** succeeded, failed, or while running the custom status phase. */
  status: string;
  /** The instance's own status, e.g. RUNNING. */
  instanceStatus: string | null;
  attempt: number | null;
  progress: number | null;
  audioSeconds: number | null;
  language: string | null;
  error: string | null;
  errorCode: string | null;
  /** Formats with a recorded transcript location. */
  formats: string[];
}

/** Which rows a caller wants. */
export type Outcome = "all" | "succeeded" | "failed" | "running";

/** The most videos gathered for one view. */
const MAX_VIDEOS = 50_000;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The batch's counts, from its output when done, else its custom status. */
export function batchSummary(batch: InstanceRecord): BatchSummary {
  const from = (v: unknown): BatchSummary | undefined => {
    if (!isObject(v) || num(v.total) === null) return undefined;
    return {
      total: num(v.total) ?? 0,
      succeeded: num(v.succeeded) ?? 0,
      failed: num(v.failed) ?? 0,
      running: num(v.running) ?? 0,
    };
  };
  // Before its first custom status a batch has counted nothing yet.
  return (
    from(parsePayload(batch.output)) ??
    from(parsePayload(batch.customStatus)) ?? {
      total: 0,
      succeeded: 0,
      failed: 0,
      running: 0,
    }
  );
}

/**
 * Every video row of a batch, in source order: from the batch's results
 * once it has them, else from its transcribeVideo instances.
 */
export async function batchVideos(
  store: TaskHubStore,
  batch: InstanceRecord,
): Promise<VideoRow[]> {
  const output = parsePayload(batch.output);
  if (isObject(output) && Array.isArray(output.results)) {
    return output.results.filter(isObject).map((r) => resultRow(r, null));
  }
  const rows: VideoRow[] = [];
  let after: string | undefined;
  // TODO: a batch of more than MAX_VIDEOS shows its first MAX_VIDEOS only;
  // paging in the store by source index would lift the cap.
  while (rows.length < MAX_VIDEOS) {
    const page = await store.listInstances({
      instanceIdPrefix: `${batch.instanceId}/`,
      name: VIDEO_NAME,
      after,
      limit: 1000,
    });
    rows.push(...page.map(videoRow));
    if (page.length < 1000) break;
    after = page.at(-1)!.instanceId;
  }
  const collator = new Intl.Collator("en", { numeric: true });
  return rows.sort((a, b) => collator.compare(a.instanceId!, b.instanceId!));
}

/** Whether a row belongs to the outcome asked for. */
export function matches(row: VideoRow, outcome: Outcome): boolean {
  if (outcome === "all") return true;
  if (outcome === "running") {
    return row.status !== "succeeded" && row.status !== "failed";
  }
  return row.status === outcome;
}

/** A row from a transcribeVideo instance. */
function videoRow(i: InstanceRecord): VideoRow {
  const result = parsePayload(i.output);
  if (isObject(result) && typeof result.status === "string") {
    return resultRow(result, i);
  }
  const custom = parsePayload(i.customStatus);
  const input = parsePayload(i.input);
  const phase = isObject(custom) ? str(custom.phase) : null;
  const ended = isTerminal(i.status);
  return {
    instanceId: i.instanceId,
    videoId: isObject(input) ? str(input.id) : null,
    title: titleOf(input) ?? i.instanceId,
    source: isObject(input) ? str(input.source) : null,
    status: ended ? "failed" : (phase ?? waitingPhase(i.status)),
    instanceStatus: statusText(i.status),
    attempt: isObject(custom) ? num(custom.attempt) : null,
    progress: isObject(custom) ? num(custom.progress) : null,
    audioSeconds: null,
    language: null,
    error: ended ? failureText(i) : null,
    errorCode: null,
    formats: [],
  };
}

/** A row from a VideoResult (in a batch's results or a video's output). */
function resultRow(r: Json, i: InstanceRecord | null): VideoRow {
  const transcripts = isObject(r.transcripts) ? r.transcripts : {};
  return {
    instanceId: i?.instanceId ?? null,
    videoId: str(r.id),
    title: str(r.title) ?? str(r.source) ?? str(r.id) ?? "(untitled)",
    source: str(r.source),
    status: r.status === "succeeded" ? "succeeded" : "failed",
    instanceStatus: i ? statusText(i.status) : null,
    attempt: num(r.attempts),
    progress: null,
    audioSeconds: num(r.audioSeconds),
    language: str(r.language),
    error: str(r.error),
    errorCode: str(r.errorCode),
    formats: FORMATS.filter((f) => typeof transcripts[f] === "string"),
  };
}

function titleOf(input: unknown): string | null {
  if (!isObject(input)) return null;
  return str(input.title) ?? str(input.source);
}

function waitingPhase(status: number): string {
  if (status === Status.PENDING) return "queued";
  return status === Status.SUSPENDED ? "suspended" : "starting";
}

function failureText(i: InstanceRecord): string {
  if (i.status === Status.TERMINATED) return "terminated";
  if (!i.failure) return statusText(i.status).toLowerCase();
  return pb.TaskFailureDetails.deserializeBinary(i.failure).getErrormessage();
}
