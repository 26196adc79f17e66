import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import {
  flagPick,
  jobConfig,
  transcribeSettings,
  transcriptBase,
} from "../../src/transcribe/job-config.js";

const HOME = path.join(os.tmpdir(), "home-of-test");

function rejectsWith(env: Record<string, string>, pattern: RegExp): void {
  assert.throws(
    () =>
      jobConfig({ HOME, VIDEO_URL: "https://media.invalid/talk.mp4", ...env }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.exitCode === 2 &&
      pattern.test(err.message),
  );
}

void test("defaults follow the job contract", () => {
  const config = jobConfig({
    HOME,
    VIDEO_URL: "https://media.invalid/a/DEM520.mp4?sig=1",
  });

  assert.equal(config.source, "https://media.invalid/a/DEM520.mp4?sig=1");
  assert.deepEqual(config.storage, {
    kind: "file",
    folder: path.resolve("transcripts"),
  });
  assert.equal(config.container, "videos");
  assert.equal(config.base, "DEM520");
  assert.equal(config.model, "tiny.en");
  assert.equal(config.language, "auto");
  assert.deepEqual(config.formats, ["txt", "srt", "vtt", "json"]);
  assert.equal(
    config.modelsDir,
    path.join(HOME, ".cache", "durascribe", "models"),
  );
  assert.equal(config.translate, false);
  assert.equal(config.wordTimestamps, false);
  assert.equal(config.vad, false);
  assert.equal(config.maxBytes, 10 * 1024 ** 3);
  assert.ok(config.threads >= 1 && config.threads <= 8);
  assert.ok(Object.isFrozen(config));
});

void test("every variable is read", () => {
  const config = jobConfig({
    HOME,
    VIDEO_URL: "/data/talk.mp4",
    STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net/",
    STORAGE_CONTAINER_NAME: "build-2025",
    STORAGE_BLOB_NAME: "DEM520/transcript.srt",
    DURASCRIBE_MODEL: "/models/ggml-base.bin",
    DURASCRIBE_LANGUAGE: "DE",
    DURASCRIBE_FORMATS: "srt, json",
    DURASCRIBE_THREADS: "3",
    DURASCRIBE_MODELS_DIR: "/var/models",
    DURASCRIBE_TRANSLATE: "true",
    DURASCRIBE_WORD_TIMESTAMPS: "1",
    DURASCRIBE_VAD: "yes",
    DURASCRIBE_MAX_BYTES: "2GiB",
    AZURE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
  });

  assert.deepEqual(config.storage, {
    kind: "blob",
    accountUrl: "https://acct.blob.core.windows.net",
  });
  assert.equal(config.container, "build-2025");
  assert.equal(config.base, "DEM520/transcript");
  assert.equal(config.model, "/models/ggml-base.bin");
  assert.equal(config.language, "de");
  assert.deepEqual(config.formats, ["srt", "json"]);
  assert.equal(config.threads, 3);
  assert.equal(config.modelsDir, "/var/models");
  assert.equal(config.translate, true);
  assert.equal(config.wordTimestamps, true);
  assert.equal(config.vad, true);
  assert.equal(config.maxBytes, 2 * 1024 ** 3);
  assert.equal(config.connectionString, "UseDevelopmentStorage=true");
});

void test("a missing VIDEO_URL is a configuration error naming it", () => {
  assert.throws(
    () => jobConfig({ HOME }),
    (err: unknown) =>
      err instanceof ConfigError && /VIDEO_URL is not set/.test(err.message),
  );
  assert.throws(() => jobConfig({ HOME, VIDEO_URL: "  " }), ConfigError);
});

void test("bad values are configuration errors naming the variable and the value", () => {
  rejectsWith({ DURASCRIBE_THREADS: "0" }, /DURASCRIBE_THREADS "0"/);
  rejectsWith({ DURASCRIBE_THREADS: "two" }, /DURASCRIBE_THREADS "two"/);
  rejectsWith(
    { DURASCRIBE_FORMATS: "txt,pdf" },
    /unknown format "pdf" in DURASCRIBE_FORMATS/,
  );
  rejectsWith(
    { DURASCRIBE_LANGUAGE: "english!" },
    /DURASCRIBE_LANGUAGE "english!"/,
  );
  rejectsWith(
    { DURASCRIBE_VAD: "maybe" },
    /DURASCRIBE_VAD "maybe" is not true or false/,
  );
  rejectsWith({ DURASCRIBE_MAX_BYTES: "lots" }, /DURASCRIBE_MAX_BYTES "lots"/);
  rejectsWith({ DURASCRIBE_MAX_BYTES: "5 parsecs" }, /DURASCRIBE_MAX_BYTES/);
  rejectsWith(
    { STORAGE_ACCOUNT_URL: "ftp://host/x" },
    /STORAGE_ACCOUNT_URL "ftp:\/\/host\/x"/,
  );
  rejectsWith(
    { STORAGE_ACCOUNT_URL: "https://a.blob.core.windows.net/?sv=x" },
    /query/,
  );
  rejectsWith(
    { STORAGE_CONTAINER_NAME: "Videos_1" },
    /STORAGE_CONTAINER_NAME "Videos_1"/,
  );
  rejectsWith(
    { STORAGE_BLOB_NAME: "../escape.txt" },
    /STORAGE_BLOB_NAME "..\/escape.txt"/,
  );
  rejectsWith({ STORAGE_BLOB_NAME: "/abs/name" }, /STORAGE_BLOB_NAME/);
  rejectsWith({ DURASCRIBE_LOG_LEVEL: "loud" }, /DURASCRIBE_LOG_LEVEL "loud"/);
});

void test("sizes take decimal and binary units", () => {
  const size = (v: string) =>
    jobConfig({ HOME, VIDEO_URL: "x.mp4", DURASCRIBE_MAX_BYTES: v }).maxBytes;
  assert.equal(size("1048576"), 1048576);
  assert.equal(size("500MB"), 500e6);
  assert.equal(size("1.5 GiB"), 1.5 * 1024 ** 3);
  assert.equal(size("64k"), 65536);
});

void test("file: storage URLs take relative paths, absolute paths and file:// URLs", () => {
  const at = (v: string) =>
    jobConfig({ HOME, VIDEO_URL: "x.mp4", STORAGE_ACCOUNT_URL: v }).storage;
  assert.deepEqual(at("file:out/here"), {
    kind: "file",
    folder: path.resolve("out/here"),
  });
  assert.deepEqual(at("file:/srv/transcripts"), {
    kind: "file",
    folder: "/srv/transcripts",
  });
  assert.deepEqual(at("file:///srv/t%20x"), {
    kind: "file",
    folder: "/srv/t x",
  });
  assert.deepEqual(at("http://127.0.0.1:10000/devstoreaccount1"), {
    kind: "blob",
    accountUrl: "http://127.0.0.1:10000/devstoreaccount1",
  });
});

void test("the base name drops a transcript extension and keeps any other", () => {
  const src = "https://media.invalid/talk.mp4";
  assert.equal(transcriptBase("DEM520.txt", src), "DEM520");
  assert.equal(transcriptBase("DEM520.JSON", src), "DEM520");
  assert.equal(transcriptBase("a/b/DEM520.vtt", src), "a/b/DEM520");
  assert.equal(transcriptBase("DEM520", src), "DEM520");
  assert.equal(transcriptBase("DEM520.mp4", src), "DEM520.mp4");
});

void test("without STORAGE_BLOB_NAME the base is the media's name without extension", () => {
  assert.equal(
    transcriptBase(undefined, "https://h.invalid/v/My%20Talk.mp4?x=1#t"),
    "My Talk",
  );
  assert.equal(
    transcriptBase(undefined, "/data/2025/keynote.final.mkv"),
    "keynote.final",
  );
  assert.equal(transcriptBase(undefined, "file:///data/a%2Fb.mp4"), "a_b");
  assert.equal(transcriptBase(undefined, "C:\\videos\\talk.mp4"), "talk");
  assert.equal(transcriptBase(undefined, "https://h.invalid/"), "transcript");
});

void test("flags win over the environment and name themselves in errors", () => {
  const env = { HOME, DURASCRIBE_THREADS: "2", DURASCRIBE_MODEL: "base.en" };
  const settings = transcribeSettings(
    flagPick({ threads: "5", vad: true }, env),
    env,
  );

  assert.equal(settings.threads, 5);
  assert.equal(settings.model, "base.en");
  assert.equal(settings.vad, true);
  assert.throws(
    () => transcribeSettings(flagPick({ threads: "-1" }, env), env),
    (err: unknown) =>
      err instanceof ConfigError && /--threads "-1"/.test(err.message),
  );
});
