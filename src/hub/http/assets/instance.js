// An instance page: status and timing, the operator's actions, failure,
// the batch view for a transcribeBatch, payloads as folded JSON, and the
// timeline, children and history sections. It refreshes live until the
// instance has ended.

import { actionsBar } from "./actions.js";
import { batchSection } from "./batch.js";
import { childrenSection, historySection, timelineSection } from "./details.js";
import { payloadView } from "./json-view.js";
import {
  ApiError,
  api,
  badge,
  errorBox,
  every,
  fmtDuration,
  h,
  instancePath,
  isTerminal,
  pageUrl,
  params,
  parseJson,
  renderIfChanged,
  settings,
  timeEl,
} from "./lib.js";

/** Renders the page of the instance named by `?id=` into `main`. */
export function instancePage(main) {
  const id = params.get("id");
  if (!id) {
    main.append(
      h("h1", {}, "Instance"),
      h(
        "p",
        { class: "error", role: "alert" },
        "No instance id in the address (?id=...).",
      ),
    );
    return;
  }
  document.title = `${id} · durascribe`;
  const header = h("div");
  const actions = h("div");
  const failure = h("div");
  const transcript = h("div");
  const payloads = h("div");
  const error = h("div");
  const timeline = timelineSection(id);
  const children = childrenSection(id);
  const history = historySection(id);
  let batch;
  main.append(
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: pageUrl("/") }, "Instances"),
      " / ",
    ),
    h("h1", { class: "mono" }, id),
    error,
    header,
    actions,
    failure,
    transcript,
    h("div", { class: "batch-slot" }),
    payloads,
    timeline.section,
    children.section,
    history.section,
  );

  let endedTicks = 0;
  const tick = async () => {
    let inst;
    try {
      inst = await api(instancePath(id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        error.replaceChildren(
          h("p", { class: "error", role: "alert" }, err.message),
        );
        return false;
      }
      throw err;
    }
    document.title = `${inst.name} ${id} · durascribe`;
    // A running instance's duration grows: redraw it on every round.
    const clock = isTerminal(inst.status) ? 0 : Date.now();
    renderIfChanged(header, [inst, clock], () => headerView(inst));
    renderIfChanged(actions, inst.status, () =>
      actionsBar(inst, () => void tick()),
    );
    renderIfChanged(failure, inst.failure, () => failureView(inst.failure));
    renderIfChanged(transcript, inst.output, () => transcriptLink(inst));
    renderIfChanged(
      payloads,
      [inst.input, inst.output, inst.customStatus],
      () => payloadsView(inst),
    );
    if (inst.name === "transcribeBatch") {
      if (!batch) {
        batch = batchSection(id);
        main.querySelector(".batch-slot").replaceChildren(batch.section);
      }
      await batch.refresh();
    }
    await Promise.all([
      timeline.refresh(),
      children.refresh(),
      history.refresh(),
    ]);
    // One more round after the end, then the page stays as it is.
    endedTicks = isTerminal(inst.status) ? endedTicks + 1 : 0;
    return endedTicks < 2;
  };
  every(settings.refreshMs, tick, (err) =>
    error.replaceChildren(errorBox(err)),
  );
}

function headerView(i) {
  const end = i.completedAt ? Date.parse(i.completedAt) : Date.now();
  const rows = [
    ["Status", badge(i.status)],
    ["Name", i.name + (i.version ? ` (version ${i.version})` : "")],
    ["Created", timeEl(i.createdAt)],
    ["Last updated", timeEl(i.updatedAt)],
    ["Completed", timeEl(i.completedAt)],
    [
      "Duration",
      `${fmtDuration(end - Date.parse(i.createdAt))}${i.completedAt ? "" : " so far"}`,
    ],
    ["Execution", h("span", { class: "mono" }, i.executionId)],
    i.parentInstanceId
      ? [
          "Parent",
          h(
            "a",
            {
              href: pageUrl("/instance", { id: i.parentInstanceId }),
              class: "mono",
            },
            i.parentInstanceId,
          ),
        ]
      : null,
    i.scheduledStartAt ? ["Scheduled start", timeEl(i.scheduledStartAt)] : null,
    i.tags
      ? [
          "Tags",
          Object.entries(i.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(", "),
        ]
      : null,
  ].filter(Boolean);
  return h(
    "dl",
    { class: "facts" },
    rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
  );
}

function failureView(f) {
  if (!f) return "";
  const chain = [];
  for (let x = f; x; x = x.innerFailure) chain.push(x);
  return h(
    "section",
    { class: "failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title" }, "Failure"),
    chain.map((x) =>
      h(
        "div",
        {},
        h("p", {}, h("strong", {}, x.errorType), ": ", x.errorMessage),
        x.stackTrace
          ? h(
              "details",
              {},
              h("summary", {}, "Stack trace"),
              h("pre", {}, x.stackTrace),
            )
          : null,
      ),
    ),
  );
}

function transcriptLink(i) {
  const out = parseJson(i.output);
  if (!out || typeof out.transcripts !== "object" || out.transcripts === null) {
    return "";
  }
  return h(
    "p",
    { class: "transcript-link" },
    out.status === "failed"
      ? h(
          "span",
          { class: "error-text" },
          `Video failed: ${out.error ?? "unknown error"}. `,
        )
      : null,
    out.transcripts.json
      ? h(
          "a",
          {
            href: pageUrl("/transcript", { id: i.instanceId }),
            class: "button",
          },
          "View transcript",
        )
      : null,
  );
}

function payloadsView(i) {
  const block = (id, title, text) =>
    h(
      "section",
      { class: "payload", "aria-labelledby": `${id}-title` },
      h("h2", { id: `${id}-title` }, title),
      payloadView(text),
    );
  return h(
    "div",
    { class: "payloads" },
    block("input", "Input", i.input),
    block("output", "Output", i.output),
    block("custom", "Custom status", i.customStatus),
  );
}
