// The batch view of a transcribeBatch instance: a progress bar of
// succeeded, failed and running videos, and a table of the videos with
// links to each transcript format.

import {
  api,
  apiUrl,
  badge,
  dataTable,
  errorBox,
  fmtClock,
  h,
  instancePath,
  pageButton,
  pageUrl,
  renderIfChanged,
} from "./lib.js";

const FORMATS = ["txt", "srt", "vtt", "json"];
const PAGE = 50;

/** The batch section of an instance page; `refresh()` re-reads it. */
export function batchSection(batchId) {
  const state = { outcome: "all", offset: 0 };
  const bar = h("div", { class: "batch-progress" });
  const table = h("div");
  const error = h("div");
  const outcome = h(
    "select",
    { id: "batch-outcome" },
    ["all", "failed", "succeeded", "running"].map((o) =>
      h(
        "option",
        { value: o },
        o === "all" ? "All videos" : `${o[0].toUpperCase()}${o.slice(1)}`,
      ),
    ),
  );
  const section = h(
    "section",
    { class: "batch", "aria-labelledby": "batch-title" },
    h("h2", { id: "batch-title" }, "Batch"),
    bar,
    h(
      "div",
      { class: "field inline" },
      h("label", { for: "batch-outcome" }, "Show"),
      outcome,
    ),
    error,
    table,
  );
  const refresh = async () => {
    try {
      const b = await api(instancePath(batchId, "batch"), {
        query: { outcome: state.outcome, offset: state.offset, limit: PAGE },
      });
      renderIfChanged(bar, b.summary, () => progressView(b.summary));
      renderIfChanged(table, b, () => videosView(b, batchId, state, refresh));
      error.replaceChildren();
    } catch (err) {
      error.replaceChildren(errorBox(err));
    }
  };
  outcome.addEventListener("change", () => {
    state.outcome = outcome.value;
    state.offset = 0;
    void refresh();
  });
  return { section, refresh };
}

/** The progress bar: one coloured segment per outcome. */
export function progressView(s) {
  const done = s.succeeded + s.failed;
  const total = Math.max(s.total, done + s.running);
  const pct = (n) => (total ? `${(100 * n) / total}%` : "0%");
  const text = `${done} of ${s.total} done: ${s.succeeded} succeeded, ${s.failed} failed, ${s.running} running`;
  return h(
    "div",
    {},
    h(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-label": "Batch progress",
        "aria-valuemin": 0,
        "aria-valuemax": total,
        "aria-valuenow": done,
        "aria-valuetext": text,
      },
      h("span", { class: "seg succeeded", style: { width: pct(s.succeeded) } }),
      h("span", { class: "seg failed", style: { width: pct(s.failed) } }),
      h("span", { class: "seg running", style: { width: pct(s.running) } }),
    ),
    h(
      "p",
      { class: "batch-summary" },
      h("strong", { class: "done" }, `${done} of ${s.total} done`),
      " · ",
      h("span", { class: "n-succeeded" }, `${s.succeeded} succeeded`),
      " · ",
      h("span", { class: "n-failed" }, `${s.failed} failed`),
      " · ",
      h("span", { class: "n-running" }, `${s.running} running`),
    ),
  );
}

function statusCell(v) {
  if (v.status === "succeeded" || v.status === "failed") {
    return badge(v.status, v.status);
  }
  const pct =
    typeof v.progress === "number" ? ` ${Math.round(v.progress * 100)}%` : "";
  return h(
    "span",
    {},
    badge("running", `${v.status}${pct}`),
    v.attempt > 1 ? ` attempt ${v.attempt}` : "",
  );
}

function transcriptLinks(v, batchId) {
  if (v.formats.length === 0) return "—";
  // A finished batch lists results; a running one its video instances.
  const owner = v.instanceId ?? batchId;
  const video = v.instanceId ? undefined : v.videoId;
  const label = v.title;
  return h(
    "span",
    { class: "links" },
    v.formats.includes("json")
      ? h(
          "a",
          {
            href: pageUrl("/transcript", { id: owner, video }),
            "aria-label": `View transcript of ${label}`,
          },
          "View",
        )
      : null,
    FORMATS.filter((f) => v.formats.includes(f)).map((f) => [
      " ",
      h(
        "a",
        {
          href: apiUrl(instancePath(owner, "transcript"), {
            format: f,
            video,
            download: 1,
          }),
          download: "",
          "aria-label": `Download ${f} of ${label}`,
        },
        f,
      ),
    ]),
  );
}

function videosView(b, batchId, state, refresh) {
  if (b.videos.length === 0) {
    return h(
      "p",
      { class: "empty" },
      state.outcome === "all"
        ? "No videos yet."
        : `No ${state.outcome} videos.`,
    );
  }
  const rows = b.videos.map((v, i) =>
    h(
      "tr",
      { class: `video ${v.status}` },
      h("td", {}, state.offset + i + 1),
      h(
        "th",
        { scope: "row" },
        v.instanceId
          ? h(
              "a",
              {
                href: pageUrl("/instance", { id: v.instanceId }),
                "data-key": `v-${v.instanceId}`,
              },
              v.title,
            )
          : v.title,
      ),
      h("td", {}, statusCell(v)),
      h("td", {}, fmtClock(v.audioSeconds)),
      h("td", {}, v.language ?? "—"),
      h(
        "td",
        { class: "error-text" },
        v.error ? `${v.errorCode ? `${v.errorCode}: ` : ""}${v.error}` : "",
      ),
      h("td", {}, transcriptLinks(v, batchId)),
    ),
  );
  const go = (offset) => () => {
    state.offset = offset;
    void refresh();
  };
  return h(
    "div",
    {},
    dataTable(
      "videos",
      `Videos (${b.outcomes[state.outcome]} ${state.outcome === "all" ? "in all" : state.outcome})`,
      ["#", "Title", "Status", "Audio", "Language", "Error", "Transcript"],
      rows,
    ),
    h(
      "nav",
      { class: "paging", "aria-label": "Video pages" },
      pageButton(
        state.offset > 0,
        "v-prev",
        "Previous videos",
        go(Math.max(0, state.offset - PAGE)),
      ),
      pageButton(
        b.nextOffset !== null,
        "v-next",
        "Next videos",
        go(b.nextOffset),
      ),
    ),
  );
}
