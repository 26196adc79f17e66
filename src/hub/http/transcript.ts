/**
 * Transcripts for the viewer. Only a location recorded in an instance's
 * output (a VideoResult's `transcripts`) is ever read: the query names an
 * instance, a video and a format, never a path.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BlobAuth } from "../../storage/blob.js";
import { FileTranscriptStore } from "../../storage/file.js";
import { openTranscriptStore } from "../../storage/open.js";
import type { TranscriptStore } from "../../storage/store.js";
import type { InstanceRecord } from "../store/store.js";
import { FORMATS } from "./batch.js";
import { HttpError, badRequest, notFoundError } from "./respond.js";
import { parsePayload } from "./views.js";

/** Reads the bytes at a recorded location; undefined when it is gone. */
export type LocationReader = (location: string) => Promise<Buffer | undefined>;

/** A transcript format. */
export type TranscriptFormat = (typeof FORMATS)[number];

/** What the viewer learns about a video's transcripts. */
export interface TranscriptInfo {
  videoId: string | null;
  title: string | null;
  source: string | null;
  language: string | null;
  audioSeconds: number | null;
  /** Formats with a recorded location. */
  formats: TranscriptFormat[];
}

/** Content types the formats are served with. */
export const CONTENT_TYPES: Readonly<Record<TranscriptFormat, string>> = {
  txt: "text/plain; charset=utf-8",
  srt: "application/x-subrip; charset=utf-8",
  vtt: "text/vtt; charset=utf-8",
  json: "application/json; charset=utf-8",
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The VideoResult of an instance: its own output (a transcribeVideo), or
 * the entry `videoId` of its output's results (a transcribeBatch).
 */
export function videoResult(
  instance: InstanceRecord,
  videoId: string | undefined,
): Json {
  const output = parsePayload(instance.output);
  if (isObject(output) && isObject(output.transcripts)) return output;
  if (isObject(output) && Array.isArray(output.results)) {
    if (videoId === undefined) {
      throw badRequest(
        `instance "${instance.instanceId}" is a batch; say which video with the video parameter`,
      );
    }
    const found = output.results.find(
      (r): r is Json => isObject(r) && r.id === videoId,
    );
    if (found) return found;
    throw notFoundError(
      `batch "${instance.instanceId}" has no video "${videoId}" in its results`,
    );
  }
  if (isObject(output) && Array.isArray(output.parts)) {
    throw badRequest(
      `batch "${instance.instanceId}" ran in child batches, so its results are in its videos' instances; ask for the video's own instance (<child batch>/v/<i>), as the batch view links it`,
    );
  }
  throw notFoundError(
    `instance "${instance.instanceId}" has no transcript in its output${instance.output === null ? " (it has no output yet)" : ""}`,
  );
}

/** The viewer's summary of a VideoResult. */
export function transcriptInfo(result: Json): TranscriptInfo {
  const transcripts = isObject(result.transcripts) ? result.transcripts : {};
  const s = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    videoId: s(result.id),
    title: s(result.title),
    source: s(result.source),
    language: s(result.language),
    audioSeconds:
      typeof result.audioSeconds === "number" ? result.audioSeconds : null,
    formats: FORMATS.filter((f) => typeof transcripts[f] === "string"),
  };
}

/** The recorded location of one format, or 404. */
export function locationOf(result: Json, format: TranscriptFormat): string {
  const transcripts = isObject(result.transcripts) ? result.transcripts : {};
  const location = transcripts[format];
  if (typeof location !== "string" || location === "") {
    throw notFoundError(`no ${format} transcript is recorded for this video`);
  }
  return location;
}

/**
 * Reads local locations (absolute paths, file: URLs) through the file
 * store; any other kind goes to `remote`, when there is one.
 */
export function locationReader(remote?: LocationReader): LocationReader {
  return async (location) => {
    const local = localPath(location);
    if (local !== undefined) {
      const store = new FileTranscriptStore(path.dirname(local));
      return store.get(path.basename(local));
    }
    if (remote) return remote(location);
    throw new HttpError(
      501,
      "unimplemented",
      `this hub cannot read transcripts stored at ${schemeOf(location)} locations`,
    );
  };
}

/**
 * Reads Blob Storage locations (the blob URLs the blob store records)
 * through the blob store, authenticated by `auth`.
 */
export function blobReader(auth: BlobAuth): LocationReader {
  const stores = new Map<string, TranscriptStore>();
  return (location) => {
    const parts = blobParts(location);
    if (!parts) {
      throw new HttpError(
        501,
        "unimplemented",
        `this hub cannot read transcripts stored at ${schemeOf(location)} locations`,
      );
    }
    const key = `${parts.accountUrl} ${parts.container}`;
    let store = stores.get(key);
    if (!store) {
      store = openTranscriptStore(
        { kind: "blob", accountUrl: parts.accountUrl },
        parts.container,
        auth,
      );
      stores.set(key, store);
    }
    return store.get(parts.name);
  };
}

/**
 * Account, container and blob name of a blob URL. Azure's URLs name the
 * account in the host; an emulator's (an IP address or localhost) in the
 * first path segment.
 */
export function blobParts(
  location: string,
): { accountUrl: string; container: string; name: string } | undefined {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const segments = url.pathname.split("/").slice(1);
  const pathStyle =
    url.hostname === "localhost" ||
    /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ||
    url.hostname.startsWith("[");
  const account = pathStyle
    ? `${url.origin}/${segments.shift() ?? ""}`
    : url.origin;
  const [container, ...name] = segments;
  if (!container || name.length === 0 || name.some((n) => n === "")) {
    return undefined;
  }
  try {
    return {
      accountUrl: account,
      container: decodeURIComponent(container),
      name: name.map(decodeURIComponent).join("/"),
    };
  } catch {
    return undefined;
  }
}

function localPath(location: string): string | undefined {
  if (location.startsWith("file:")) return fileURLToPath(location);
  return path.isAbsolute(location) ? location : undefined;
}

function schemeOf(location: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.exec(location)?.[0] ?? "relative";
}

/** A safe download file name for a location. */
export function downloadName(location: string, format: string): string {
  const base = location.split(/[\\/]/).pop() ?? "";
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, "_");
  return clean.endsWith(`.${format}`) ? clean : `transcript.${format}`;
}
