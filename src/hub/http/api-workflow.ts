/**
 * API routes for the transcription workflow's instances: the batch view of
 * a `transcribeBatch` and the transcripts a VideoResult records.
 */
import type { InstanceContext } from "./context.js";
import {
  BATCH_NAME,
  FORMATS,
  batchSummary,
  batchVideos,
  matches,
  type Outcome,
} from "./batch.js";
import { HttpError, badRequest, sendJson } from "./respond.js";
import {
  CONTENT_TYPES,
  downloadName,
  locationOf,
  transcriptInfo,
  videoResult,
} from "./transcript.js";
import { SECURITY_HEADERS } from "./respond.js";

const OUTCOMES: readonly Outcome[] = ["all", "succeeded", "failed", "running"];

/** GET /api/instances/:id/batch: progress and one page of videos. */
export async function batchRoute(c: InstanceContext): Promise<void> {
  const outcome = c.q.choice("outcome", OUTCOMES, "all");
  const offset = c.q.int("offset", 0, 10_000_000, 0);
  const limit = c.q.int("limit", 1, 1000, 100);
  if (c.instance.name !== BATCH_NAME) {
    throw badRequest(
      `instance "${c.instance.instanceId}" is a ${c.instance.name}, not a ${BATCH_NAME}`,
    );
  }
  const rows = await batchVideos(c.taskHub.dispatcher.store, c.instance);
  const counts = Object.fromEntries(
    OUTCOMES.map((o) => [o, rows.filter((r) => matches(r, o)).length]),
  );
  const selected = rows.filter((r) => matches(r, outcome));
  sendJson(c.res, 200, {
    summary: batchSummary(c.instance),
    outcomes: counts,
    outcome,
    offset,
    nextOffset: selected.length > offset + limit ? offset + limit : null,
    videos: selected.slice(offset, offset + limit),
  });
}

/**
 * GET /api/instances/:id/transcript: without `format`, what is recorded;
 * with it, that transcript's bytes, read from the recorded location.
 */
export async function transcriptRoute(c: InstanceContext): Promise<void> {
  const video = c.q.string("video", 1024);
  const format = c.q.string("format", 10);
  const download = c.q.bool("download");
  if (
    format !== undefined &&
    !(FORMATS as readonly string[]).includes(format)
  ) {
    throw badRequest(`format "${format}" is not one of ${FORMATS.join(", ")}`);
  }
  const result = videoResult(c.instance, video);
  if (format === undefined) {
    if (download) throw badRequest("download needs a format");
    sendJson(c.res, 200, transcriptInfo(result));
    return;
  }
  const f = format as (typeof FORMATS)[number];
  const location = locationOf(result, f);
  const body = await c.read(location);
  if (body === undefined) {
    throw new HttpError(
      404,
      "not_found",
      `the ${f} transcript recorded for this video is no longer at its location`,
    );
  }
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "content-type": CONTENT_TYPES[f],
    "content-length": String(body.length),
    "cache-control": "no-store",
  };
  if (download) {
    headers["content-disposition"] =
      `attachment; filename="${downloadName(location, f)}"`;
  }
  c.res.writeHead(200, headers);
  c.res.end(body);
}
