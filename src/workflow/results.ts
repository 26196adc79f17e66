/**
 * Reading a batch's results, whichever form its output has: the results
 * themselves (a batch that ran in one piece) or its parts, whose results
 * are the outputs of their `transcribeVideo` instances.
 */
import type { TaskHubGrpcClient } from "@microsoft/durabletask-js";

import type { ResolvedSource } from "../sources/types.js";
import { failedResult } from "./orchestrators/policy.js";
import type {
  BatchPart,
  BatchResult,
  FullBatchResult,
  VideoInput,
  VideoResult,
} from "./types.js";

/** Videos fetched per page when reading a part. */
const PAGE = 500;

/**
 * Every result of a batch whose output is `output`, in source order.
 * A video of a part with no result (purged, or not finished) gets a failed
 * entry that says so, so there is always one entry per source.
 */
export async function readBatchResults(
  client: TaskHubGrpcClient,
  output: BatchResult,
): Promise<FullBatchResult> {
  const { total, succeeded, failed } = output;
  if (output.results) {
    return { total, succeeded, failed, results: output.results };
  }
  const results: VideoResult[] = [];
  for (const part of output.parts ?? []) {
    results.push(...(part.results ?? (await partResults(client, part))));
  }
  return { total, succeeded, failed, results };
}

/** The results of one part, read from its videos' outputs. */
async function partResults(
  client: TaskHubGrpcClient,
  part: BatchPart,
): Promise<VideoResult[]> {
  const prefix = `${part.instanceId}/v/`;
  const found = new Array<VideoResult | undefined>(part.total);
  const inputs = new Array<VideoInput | undefined>(part.total);
  const pages = client
    .getAllInstances({
      instanceIdPrefix: prefix,
      fetchInputsAndOutputs: true,
      pageSize: PAGE,
    })
    .asPages();
  for await (const page of pages) {
    for (const state of page.values) {
      const rest = state.instanceId.slice(prefix.length);
      if (!/^\d+$/.test(rest)) continue;
      const i = Number(rest);
      if (i >= part.total) continue;
      const out = parse(state.serializedOutput) as VideoResult | undefined;
      if (out && typeof out.status === "string") found[i] = out;
      else inputs[i] = parse(state.serializedInput) as VideoInput | undefined;
    }
  }
  // Array.from visits the holes that map would skip.
  return Array.from(
    found,
    (r, i) => r ?? missing(`${prefix}${i}`, inputs[i]?.source ?? null),
  );
}

function missing(
  instanceId: string,
  source: ResolvedSource | null,
): VideoResult {
  return failedResult(
    source ?? {
      id: instanceId,
      source: instanceId,
      title: instanceId,
      base: instanceId,
      mediaUrl: null,
      error: null,
      errorCode: null,
    },
    `no result recorded: instance ${instanceId} has no VideoResult output (purged, or not finished)`,
    "E_NO_RESULT",
    0,
  );
}

function parse(text: string | undefined): unknown {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
