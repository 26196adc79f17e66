/**
 * What the user gave (a *source*) and what it becomes: an entry with a
 * stable id, then media the job can fetch. Plain JSON shapes: they travel
 * through orchestration inputs and activity results.
 */

/** The kinds of source. */
export type SourceKind = "session" | "url" | "file";

/**
 * One source after lists and folders are expanded: what it is, its stable
 * id and the base name of its transcripts, unique within the batch. An
 * entry that could not be expanded (a missing list file) carries the error.
 */
export interface SourceEntry {
  /** Stable: the same source gives the same id on every run. */
  id: string;
  kind: SourceKind;
  /** A session code, an absolute http(s) URL or an absolute path. */
  source: string;
  /** Base name of the transcripts, `<base>.<format>`. */
  base: string;
  error?: string;
  errorCode?: string;
}

/**
 * A source resolved to media, or the reason it cannot be: an unknown
 * session code, a session without video, a missing file.
 */
export interface ResolvedSource {
  id: string;
  source: string;
  title: string;
  base: string;
  /** What the job's VIDEO_URL gets; null when the source failed. */
  mediaUrl: string | null;
  error: string | null;
  errorCode: string | null;
}

/** File extensions counted as media when a folder is expanded. */
export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set([
  ".mp4",
  ".m4v",
  ".mov",
  ".mkv",
  ".webm",
  ".avi",
  ".wmv",
  ".mpg",
  ".mpeg",
  ".ts",
  ".3gp",
  ".flv",
  ".mp3",
  ".m4a",
  ".aac",
  ".wav",
  ".flac",
  ".ogg",
  ".oga",
  ".opus",
  ".wma",
]);
