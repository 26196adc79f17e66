/**
 * The dashboard's pages in real headless Chromium (Debian's, driven by
 * playwright-core) against a real hub. Screenshots are kept under
 * test-artifacts/dashboard/.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  OrchestrationStatus,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import type { BrowserContext, Page } from "playwright-core";
import { tempDir } from "../helpers.js";
import {
  launchBrowser,
  screenshot,
  startDashboardHub,
  type DashboardHub,
} from "./support.js";
import {
  sampleTranscript,
  transcribeBatch,
  writeTranscripts,
  type FakeVideo,
} from "./workflow.js";

async function* echo(_: OrchestrationContext, input: unknown): any {
  return input;
}

async function* waiter(ctx: OrchestrationContext): any {
  return yield ctx.waitForExternalEvent("go");
}

async function* big(): any {
  return {
    items: Array.from({ length: 5000 }, (_, i) => i),
    text: "word ".repeat(400),
  };
}

async function* failing(): any {
  throw new Error("this orchestration fails on purpose");
}

let d: DashboardHub;
let browser: { context: BrowserContext; close(): Promise<void> };
let dir: { dir: string; cleanup: () => void };
let transcripts: Record<string, string>;

before(async () => {
  dir = tempDir();
  d = await startDashboardHub({
    refreshMs: 500,
    register: (w) => {
      w.addOrchestrator(echo);
      w.addOrchestrator(waiter);
      w.addOrchestrator(failing);
      w.addOrchestrator(big);
    },
  });
  transcripts = await writeTranscripts(
    dir.dir,
    "keynote",
    sampleTranscript([
      "Welcome to the keynote.",
      "Durable batches are calm.",
      "Thank you for listening.",
    ]),
  );
  browser = await launchBrowser();
});

after(async () => {
  await browser.close();
  await d.stop();
  dir.cleanup();
});

async function open(path: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(d.url + path);
  return page;
}

async function run(orchestrator: any, input: unknown, id: string) {
  await d.client.scheduleNewOrchestration(orchestrator, input, id);
  return d.client.waitForOrchestrationCompletion(id, false, 30);
}

function video(i: number): FakeVideo {
  return {
    id: `talk-${i}`,
    source: `https://example.test/talk-${i}.mp4`,
    title: `Talk number ${i}`,
    outcome: i === 1 ? "failed" : "succeeded",
    transcripts: i === 1 ? undefined : transcripts,
    audioSeconds: 95 + i,
    language: "en",
    error: i === 1 ? "the server answered 404" : undefined,
    errorCode: i === 1 ? "E_FETCH_STATUS" : undefined,
  };
}

async function finishVideo(batch: string, i: number): Promise<void> {
  await d.client.raiseOrchestrationEvent(`${batch}/v/${i}`, "finish", null);
  await d.client.waitForOrchestrationCompletion(`${batch}/v/${i}`, false, 30);
}

test("the list shows instances with live counts by status", async () => {
  await run(echo, 1, "list-a");
  await run(echo, 2, "list-b");
  await run(failing, undefined, "list-c");
  const page = await open("/");
  await page.getByRole("link", { name: "list-a", exact: true }).waitFor();
  await page.getByRole("link", { name: "list-c", exact: true }).waitFor();
  const completed = page.locator('.count-value[data-status="COMPLETED"]');
  assert.ok(Number(await completed.textContent()) >= 2);

  // A new instance appears without reloading.
  await run(echo, 3, "list-late");
  await page.getByRole("link", { name: "list-late", exact: true }).waitFor();
  await screenshot(page, "list");
  await page.close();
});

test("filters narrow the list", async () => {
  const page = await open("/");
  await page.getByLabel("Status", { exact: true }).selectOption("FAILED");
  await page.getByLabel("Instance id starts with").fill("list-");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/status=FAILED/);
  await page.getByRole("link", { name: "list-c", exact: true }).waitFor();
  const ids = await page
    .locator("table.instances tbody th a")
    .allTextContents();
  assert.deepEqual(ids, ["list-c"]);

  await page.getByLabel("Orchestration name").fill("echo");
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/name=echo/);
  await page.getByRole("link", { name: "list-b", exact: true }).waitFor();
  const echoes = await page
    .locator("table.instances tbody th a")
    .allTextContents();
  assert.deepEqual(echoes.sort(), ["list-a", "list-b", "list-late"]);
  await screenshot(page, "list-filtered");
  await page.close();
});

test("a running batch's progress advances on its page", async () => {
  const videos = [0, 1, 2].map(video);
  await d.client.scheduleNewOrchestration(
    transcribeBatch,
    { videos },
    "batch-live",
  );
  await d.client.waitForOrchestrationStart("batch-live", false, 30);
  const page = await open("/instance?id=batch-live");
  const done = page.locator(".batch-summary .done");
  await page.getByText("0 of 3 done", { exact: true }).waitFor();
  const bar = page.getByRole("progressbar", { name: "Batch progress" });
  assert.equal(await bar.getAttribute("aria-valuenow"), "0");

  await finishVideo("batch-live", 0);
  await page.getByText("1 of 3 done", { exact: true }).waitFor();
  assert.equal(await bar.getAttribute("aria-valuenow"), "1");
  await page
    .getByRole("row", { name: /Talk number 0/ })
    .getByText("succeeded")
    .waitFor();

  await finishVideo("batch-live", 1);
  await page.getByText("2 of 3 done", { exact: true }).waitFor();
  const failedRow = page.getByRole("row", { name: /Talk number 1/ });
  await failedRow
    .getByText("E_FETCH_STATUS: the server answered 404")
    .waitFor();
  await screenshot(page, "batch-running");

  await finishVideo("batch-live", 2);
  await page.getByText("3 of 3 done", { exact: true }).waitFor();
  assert.match((await done.textContent()) ?? "", /3 of 3 done/);
  await page.getByText("Completed").first().waitFor();
  const links = page
    .getByRole("row", { name: /Talk number 2/ })
    .getByRole("link");
  assert.deepEqual(await links.allTextContents(), [
    "View",
    "txt",
    "srt",
    "vtt",
    "json",
  ]);
  await screenshot(page, "batch-done");
  await page.close();
});

test("terminate from the page terminates the instance", async () => {
  await d.client.scheduleNewOrchestration(waiter, undefined, "stop-me");
  await d.client.waitForOrchestrationStart("stop-me", false, 30);
  const page = await open("/instance?id=stop-me");
  await page.getByRole("button", { name: "Terminate" }).click();
  const dialog = page.getByRole("dialog", { name: "Terminate instance" });
  await dialog
    .getByLabel("Reason (optional)")
    .fill("stopped from the dashboard");
  await dialog.getByRole("button", { name: "Terminate" }).click();

  const s = await d.client.waitForOrchestrationCompletion("stop-me", true, 30);
  assert.equal(s?.runtimeStatus, OrchestrationStatus.TERMINATED);
  assert.equal(JSON.parse(s.serializedOutput!), "stopped from the dashboard");
  await page.locator("dl.facts .badge", { hasText: "Terminated" }).waitFor();
  await page.getByRole("button", { name: "Purge" }).waitFor();
  await screenshot(page, "terminated");
  await page.close();
});

test("suspend, resume and raise an event from the page", async () => {
  await d.client.scheduleNewOrchestration(waiter, undefined, "steer-me");
  await d.client.waitForOrchestrationStart("steer-me", false, 30);
  const page = await open("/instance?id=steer-me");
  const badge = page.locator("dl.facts .badge");

  await page.getByRole("button", { name: "Suspend" }).click();
  await page
    .getByRole("dialog", { name: "Suspend instance" })
    .getByRole("button", { name: "Suspend" })
    .click();
  await badge.getByText("Suspended").waitFor();

  await page.getByRole("button", { name: "Resume" }).click();
  await page
    .getByRole("dialog", { name: "Resume instance" })
    .getByRole("button", { name: "Resume" })
    .click();
  await badge.getByText("Running").waitFor();

  await page.getByRole("button", { name: "Raise event" }).click();
  const dialog = page.getByRole("dialog", { name: "Raise an event" });
  await dialog.getByLabel("Event name").fill("go");
  await dialog.getByLabel("Data as JSON (optional)").fill("{not json");
  await dialog.getByRole("button", { name: "Raise event" }).click();
  await dialog
    .getByRole("alert")
    .getByText(/not valid JSON/)
    .waitFor();
  await dialog.getByLabel("Data as JSON (optional)").fill('{"approved": true}');
  await dialog.getByRole("button", { name: "Raise event" }).click();
  const s = await d.client.waitForOrchestrationCompletion("steer-me", true, 30);
  assert.deepEqual(JSON.parse(s!.serializedOutput!), { approved: true });
  await badge.getByText("Completed").waitFor();
  await page.close();
});

test("the transcript viewer shows segment text, finds words and downloads formats", async () => {
  await d.client.scheduleNewOrchestration(
    transcribeBatch,
    { videos: [video(0)] },
    "one-talk",
  );
  await d.client.waitForOrchestrationStart("one-talk", false, 30);
  await finishVideo("one-talk", 0);
  const page = await open("/transcript?id=one-talk%2Fv%2F0");
  await page.getByRole("heading", { name: "Talk number 0" }).waitFor();
  const segments = page
    .getByRole("list", { name: "Segments" })
    .getByRole("listitem");
  assert.equal(await segments.count(), 3);
  await page.getByText("Durable batches are calm.").waitFor();
  assert.match(
    (await segments.first().textContent()) ?? "",
    /0:00\.000 → 0:01\.000\s+Welcome to the keynote\./,
  );

  await page.getByLabel("Search the transcript").fill("CALM");
  await page.getByText("1 of 3 segments match").waitFor();
  assert.equal(await page.locator("li.segment:visible").count(), 1);
  assert.equal(await page.locator("li.segment mark").textContent(), "calm");
  await screenshot(page, "transcript");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download srt" }).click(),
  ]);
  const srt = readFileSync(await download.path(), "utf8");
  assert.match(
    srt,
    /^1\n00:00:00,000 --> 00:00:01,000\nWelcome to the keynote\.\n/,
  );
  await page.close();
});

test("every control is labelled and the keyboard reaches and opens an instance", async () => {
  await run(echo, "keys", "key-target");
  const page = await open("/?prefix=key-");
  await page.getByRole("link", { name: "key-target", exact: true }).waitFor();
  const unlabelled = await page
    .locator("input:not([type=hidden]), select, textarea, button")
    .evaluateAll((els) =>
      els
        .filter((e) => {
          const c = e as any;
          const named =
            (c.labels?.length ?? 0) > 0 ||
            c.getAttribute("aria-label") ||
            (c.tagName === "BUTTON" && c.textContent!.trim());
          return !named;
        })
        .map((e) => e.outerHTML),
    );
  assert.deepEqual(unlabelled, []);
  for (const label of [
    "Status",
    "Orchestration name",
    "Instance id starts with",
    "Created from",
    "Created to",
    "Top-level only",
  ]) {
    assert.equal(
      await page.getByLabel(label, { exact: true }).count(),
      1,
      label,
    );
  }

  await page.keyboard.press("Tab");
  assert.equal(
    await page.evaluate(
      () => (globalThis as any).document.activeElement?.textContent,
    ),
    "Skip to content",
  );
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(
      () =>
        (globalThis as any).document.activeElement?.textContent ===
        "key-target",
    );
  }
  assert.ok(reached, "Tab never reached the instance link");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/instance\?id=key-target/);
  await page.getByRole("heading", { name: "key-target" }).waitFor();

  // A dialog opens from the keyboard and Escape closes it.
  const purge = page.getByRole("button", { name: "Purge" });
  await purge.focus();
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "Purge instance" }).waitFor();
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  await screenshot(page, "instance");
  await page.close();
});

test("large payloads are folded and cut short until asked for", async () => {
  await run(big, undefined, "big-output");
  const page = await open("/instance?id=big-output");
  const output = page.getByRole("region", { name: "Output", exact: true });
  const items = output.locator("summary", { hasText: "[ 5000 items ]" });
  await items.waitFor();
  assert.equal(
    await output.locator("details").nth(1).getAttribute("open"),
    null,
  );
  const more = output.getByRole("button", {
    name: "show all 2,000 characters",
  });
  await more.waitFor();
  assert.ok(((await output.textContent()) ?? "").length < 1000);

  await items.click();
  await output.getByRole("button", { name: "show 100 more of 4,900" }).click();
  await output
    .getByRole("button", { name: "show 100 more of 4,800" })
    .waitFor();
  await more.click();
  await output.getByText(`"${"word ".repeat(400)}"`).waitFor();
  await screenshot(page, "large-output");
  await page.close();
});
