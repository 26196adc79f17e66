/**
 * `durascribe job`: one job execution, configured by the environment only,
 * as a container job is. Its exit code tells the orchestration whether a
 * retry can help: 0 done, 2 bad configuration, 3 permanent media error,
 * 4 transient error (a stopped job is one), 1 anything unexpected.
 */
import { DurascribeError, exitCodeFor } from "../errors.js";
import { Logger } from "../logger.js";
import { openTranscriptStore } from "../storage/open.js";
import { WhisperEngines } from "../transcribe/engine.js";
import { runJob } from "../transcribe/job.js";
import { jobConfig } from "../transcribe/job-config.js";
import { setWhisperLogger } from "../transcribe/whisper.js";
import { parse } from "./args.js";
import { Stopper } from "./stopper.js";

/** Usage lines of the job command. */
export const JOB_USAGE = `  job     run one transcription job execution, configured by environment only:
          VIDEO_URL, STORAGE_ACCOUNT_URL (file:<folder> or https://<account>.blob.core.windows.net),
          STORAGE_CONTAINER_NAME, STORAGE_BLOB_NAME, AZURE_STORAGE_CONNECTION_STRING,
          DURASCRIBE_MODEL, DURASCRIBE_LANGUAGE, DURASCRIBE_FORMATS, DURASCRIBE_THREADS,
          DURASCRIBE_TRANSLATE, DURASCRIBE_WORD_TIMESTAMPS, DURASCRIBE_VAD,
          DURASCRIBE_MODELS_DIR, DURASCRIBE_MAX_BYTES, DURASCRIBE_LOG_LEVEL
          exit codes: 0 ok, 2 configuration, 3 permanent media error, 4 transient, 1 unexpected
`;

/** Runs `durascribe job`; it takes no arguments. */
export async function jobCommand(args: string[]): Promise<void> {
  parse(args, {});
  const config = jobConfig(process.env);
  const logger = new Logger(config.logLevel, { component: "job" });
  if (logger.enabled("debug")) setWhisperLogger(logger);
  const store = openTranscriptStore(config.storage, config.container, {
    connectionString: config.connectionString,
  });

  const stopper = new Stopper(
    logger,
    (signal) =>
      `the job execution was stopped by ${signal}; running it again may succeed`,
  );
  try {
    const result = await runJob(
      { source: config.source, base: config.base, store, settings: config },
      {
        engines: new WhisperEngines({ logger }),
        logger,
        signal: stopper.signal,
        onTempFolder: (folder) => (stopper.tempFolder = folder),
      },
    );
    console.log(result.manifestLocation);
  } catch (err) {
    // One line, whatever the error: its first line is the message.
    const message = err instanceof Error ? err.message : String(err);
    console.error(`durascribe: ${message.split("\n")[0]}`);
    process.exitCode = exitCodeFor(err);
    if (!(err instanceof DurascribeError)) logger.debug(String(err));
  } finally {
    stopper.dispose();
  }
}
