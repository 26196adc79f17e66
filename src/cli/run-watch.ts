/**
 * Watching a batch from the terminal: a bar for the batch and one for
 * each video while it runs, from the instances' custom statuses, and a
 * summary of the results at the end.
 */
import {
  OrchestrationStatus,
  type OrchestrationState,
  type TaskHubGrpcClient,
} from "@microsoft/durabletask-js";

import type {
  BatchResult,
  FullBatchResult,
  BatchStatus,
  VideoInput,
  VideoResult,
  VideoStatus,
} from "../workflow/types.js";
import { isFinished, parseJson, statusName } from "./client.js";
import {
  ProgressBoard,
  type ProgressBar,
  type ProgressOutput,
} from "./progress.js";

/** Options of {@link watchBatch}. */
export interface WatchOptions {
  client: TaskHubGrpcClient;
  batchId: string;
  out: ProgressOutput;
  /** Ends the watch early (the batch goes on). */
  signal: AbortSignal;
  /** Time between two looks. @default 1000 */
  intervalMs?: number;
}

/**
 * Draws the batch's progress until it ends (its final state) or the
 * signal aborts (undefined).
 */
export async function watchBatch(
  opts: WatchOptions,
): Promise<OrchestrationState | undefined> {
  const board = new ProgressBoard(opts.out);
  const total = board.add(`batch ${opts.batchId}`);
  const bars = new Map<string, ProgressBar>();
  try {
    while (!opts.signal.aborted) {
      const state = await opts.client.getOrchestrationState(
        opts.batchId,
        false,
      );
      if (!state) return undefined;
      await updateVideos(opts, board, bars);
      if (isFinished(state.runtimeStatus)) {
        const final = await opts.client.getOrchestrationState(
          opts.batchId,
          true,
        );
        endTotal(total, final ?? state);
        return final ?? state;
      }
      updateTotal(total, state);
      await sleep(opts.intervalMs ?? 1000, opts.signal);
    }
    return undefined;
  } finally {
    board.close();
  }
}

/** Bars for the videos running now; ended ones get their outcome. */
async function updateVideos(
  opts: WatchOptions,
  board: ProgressBoard,
  bars: Map<string, ProgressBar>,
): Promise<void> {
  const running = new Set<string>();
  for await (const s of opts.client.getAllInstances({
    instanceIdPrefix: `${opts.batchId}/`,
    statuses: [OrchestrationStatus.RUNNING, OrchestrationStatus.PENDING],
    fetchInputsAndOutputs: true,
  })) {
    if (s.name !== "transcribeVideo") continue;
    running.add(s.instanceId);
    let bar = bars.get(s.instanceId);
    if (!bar) {
      const input = parseJson(s.serializedInput) as VideoInput | undefined;
      bar = board.add(input?.source.title ?? s.instanceId);
      bars.set(s.instanceId, bar);
    }
    const v = parseJson(s.serializedCustomStatus) as VideoStatus | undefined;
    if (v) {
      const retry = v.attempt > 1 ? `attempt ${v.attempt}` : "";
      bar.update(v.phase, v.progress, retry);
    }
  }
  for (const [id, bar] of bars) {
    if (running.has(id)) continue;
    bars.delete(id);
    const s = await opts.client.getOrchestrationState(id, true);
    const r = parseJson(s?.serializedOutput) as VideoResult | undefined;
    if (r?.status === "succeeded") bar.done(audio(r.audioSeconds));
    else bar.fail(r?.error ?? statusName(s?.runtimeStatus ?? 0));
  }
}

function updateTotal(bar: ProgressBar, state: OrchestrationState): void {
  const c = parseJson(state.serializedCustomStatus) as BatchStatus | undefined;
  if (!c || c.total === 0) return bar.update("starting");
  bar.update("running", (c.succeeded + c.failed) / c.total, countText(c));
}

function endTotal(bar: ProgressBar, state: OrchestrationState): void {
  const out = parseJson(state.serializedOutput) as BatchResult | undefined;
  if (state.runtimeStatus === OrchestrationStatus.COMPLETED && out) {
    if (out.failed === 0) bar.done(countText({ ...out, running: 0 }));
    else bar.fail(countText({ ...out, running: 0 }));
  } else {
    bar.fail(statusName(state.runtimeStatus));
  }
}

function countText(c: BatchStatus): string {
  const failed = c.failed > 0 ? `, ${c.failed} failed` : "";
  return `${c.succeeded + c.failed}/${c.total}${failed}`;
}

function audio(seconds: number | null): string {
  if (seconds === null) return "";
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")} of audio`;
}

/** The summary table of a batch's results, as lines of text. */
export function summaryLines(result: FullBatchResult, limit = 50): string[] {
  const rows = result.results
    .filter((r) => result.results.length <= limit || r.status === "failed")
    .map((r) => [
      r.title,
      r.status,
      r.language ?? "",
      r.audioSeconds === null
        ? ""
        : audio(r.audioSeconds).replace(" of audio", ""),
      r.status === "succeeded"
        ? (r.transcripts.txt ?? Object.values(r.transcripts)[0] ?? "")
        : `${r.errorCode ?? ""} ${r.error ?? ""}`.trim(),
    ]);
  const header = ["TITLE", "STATUS", "LANG", "AUDIO", "TRANSCRIPT / ERROR"];
  const widths = header.map((h, i) =>
    Math.min(40, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : cut(c, widths[i]!)))
      .join("  ")
      .trimEnd();
  const lines = rows.length > 0 ? [line(header), ...rows.map(line)] : [];
  const hidden = result.results.length - rows.length;
  if (hidden > 0) {
    lines.push(`(${hidden} succeeded videos not listed; --json lists all)`);
  }
  lines.push(
    `${result.succeeded} of ${result.total} succeeded, ${result.failed} failed`,
  );
  return lines;
}

function cut(text: string, width: number): string {
  return text.length <= width
    ? text.padEnd(width)
    : `${text.slice(0, width - 1)}…`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
