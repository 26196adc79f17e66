/**
 * Rendering a transcript to the formats a user can ask for: plain text,
 * SubRip (srt), WebVTT (vtt) and JSON.
 */
import { ConfigError } from "../errors.js";

/** One word of a segment, with its own timing, when whisper gives them. */
export interface TranscriptWord {
  /** Start, in seconds from the start of the media. */
  start: number;
  /** End, in seconds from the start of the media. */
  end: number;
  /** The word as recognised, possibly with leading space or punctuation. */
  text: string;
  /** Model confidence between 0 and 1, when known. */
  probability?: number;
}

/** One stretch of speech, usually a sentence or part of one. */
export interface TranscriptSegment {
  /** Start, in seconds from the start of the media. */
  start: number;
  /** End, in seconds from the start of the media. */
  end: number;
  /** The recognised text; may carry surrounding whitespace. */
  text: string;
  /** Word-level timings, only when word timestamps were requested. */
  words?: TranscriptWord[];
}

/** The result of transcribing one media file. All times are in seconds. */
export interface Transcript {
  /** Segments in time order. */
  segments: TranscriptSegment[];
  /** Language code, as given or as detected (for example `en`). */
  language: string;
  /** Name of the Whisper model used (for example `large-v3`). */
  model: string;
  /** Length of the decoded audio. */
  audioSeconds: number;
  /** Wall-clock time the transcription took. */
  processingSeconds: number;
}

/** Every format durascribe can render, in the order they are documented. */
export const FORMATS = ["txt", "srt", "vtt", "json"] as const;

/** A format name: `txt`, `srt`, `vtt` or `json`. */
export type Format = (typeof FORMATS)[number];

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  txt: "text/plain; charset=utf-8",
  srt: "application/x-subrip; charset=utf-8",
  vtt: "text/vtt; charset=utf-8",
  json: "application/json; charset=utf-8",
};

/** The MIME content type to store a rendered `format` with. */
export function contentTypeFor(format: Format): string {
  return CONTENT_TYPES[format];
}

/** True when `name` is one of {@link FORMATS}. */
export function isFormat(name: string): name is Format {
  return (FORMATS as readonly string[]).includes(name);
}

/**
 * Parses a comma-separated list of formats such as `"srt, vtt"`. Names are
 * trimmed and lower-cased; duplicates are dropped, keeping first-seen order.
 *
 * @param setting Name of the setting the list came from, used in messages.
 * @throws ConfigError naming the bad format and the allowed ones, or when
 *   the list is empty.
 */
export function parseFormats(
  csv: string,
  setting = "DURASCRIBE_FORMATS",
): Format[] {
  const names = csv
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (names.length === 0) {
    throw new ConfigError(
      `no format given in ${setting}; allowed: ${FORMATS.join(", ")}`,
      "E_CONFIG_FORMATS",
    );
  }

  const formats: Format[] = [];
  for (const name of names) {
    if (!isFormat(name)) {
      throw new ConfigError(
        `unknown format "${name}" in ${setting}; allowed: ${FORMATS.join(", ")}`,
        "E_CONFIG_FORMATS",
      );
    }
    if (!formats.includes(name)) formats.push(name);
  }
  return formats;
}

/**
 * Renders `transcript` as `format`. Text formats end with a newline unless
 * empty; segments whose text is blank are left out of txt, srt and vtt.
 */
export function renderFormat(format: Format, transcript: Transcript): string {
  switch (format) {
    case "txt":
      return renderTxt(transcript);
    case "srt":
      return renderSrt(transcript);
    case "vtt":
      return renderVtt(transcript);
    case "json":
      return renderJson(transcript);
  }
}

/**
 * Formats `seconds` as `HH:MM:SS<sep>mmm`. Rounds to whole milliseconds
 * before splitting, so 59.9996 s gives `00:01:00,000`, never `1000` ms.
 * Hours are at least two digits and grow past 99 rather than wrapping.
 * Negative and non-finite times clamp to zero.
 */
export function formatTimestamp(seconds: number, separator: "," | "."): string {
  const total = Number.isFinite(seconds)
    ? Math.max(0, Math.round(seconds * 1000))
    : 0;
  const ms = total % 1000;
  const s = Math.floor(total / 1000) % 60;
  const m = Math.floor(total / 60_000) % 60;
  const h = Math.floor(total / 3_600_000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${separator}${pad(ms, 3)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** One line of text: line breaks and the runs of space around them collapse. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** Text that cannot end a cue early or be read as a timing line. */
function cueText(text: string): string {
  return oneLine(text).replaceAll("-->", "->");
}

/** WebVTT cue text: `&` and `<` would start an escape or a tag. */
function vttText(text: string): string {
  return cueText(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;");
}

interface Cue {
  start: number;
  end: number;
  text: string;
}

/** Cues with non-blank text; an end before its start is raised to it. */
function cues(transcript: Transcript, clean: (text: string) => string): Cue[] {
  return transcript.segments
    .map((seg) => ({
      start: seg.start,
      end: Math.max(seg.start, seg.end),
      text: clean(seg.text),
    }))
    .filter((cue) => cue.text !== "");
}

function renderTxt(transcript: Transcript): string {
  return transcript.segments
    .map((seg) => oneLine(seg.text))
    .filter((line) => line !== "")
    .map((line) => `${line}\n`)
    .join("");
}

function renderSrt(transcript: Transcript): string {
  return cues(transcript, cueText)
    .map((cue, i) => {
      const start = formatTimestamp(cue.start, ",");
      const end = formatTimestamp(cue.end, ",");
      return `${i + 1}\n${start} --> ${end}\n${cue.text}\n`;
    })
    .join("\n");
}

function renderVtt(transcript: Transcript): string {
  const body = cues(transcript, vttText).map((cue) => {
    const start = formatTimestamp(cue.start, ".");
    const end = formatTimestamp(cue.end, ".");
    return `\n${start} --> ${end}\n${cue.text}\n`;
  });
  return `WEBVTT\n${body.join("")}`;
}

function renderJson(transcript: Transcript): string {
  // Copy field by field so the document's shape never depends on extra
  // properties a caller's object happens to carry.
  const doc = {
    segments: transcript.segments.map(jsonSegment),
    language: transcript.language,
    model: transcript.model,
    audioSeconds: transcript.audioSeconds,
    processingSeconds: transcript.processingSeconds,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function jsonSegment(seg: TranscriptSegment): TranscriptSegment {
  const out: TranscriptSegment = {
    start: seg.start,
    end: seg.end,
    text: seg.text,
  };
  if (seg.words !== undefined) out.words = seg.words.map(jsonWord);
  return out;
}

function jsonWord(word: TranscriptWord): TranscriptWord {
  const out: TranscriptWord = {
    start: word.start,
    end: word.end,
    text: word.text,
  };
  if (word.probability !== undefined) out.probability = word.probability;
  return out;
}
