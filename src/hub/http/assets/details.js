// The lower sections of an instance page: the timeline of activities,
// timers and sub-orchestrations drawn as bars, the children table with
// their progress, and the paged history.

import { progressText } from "./list.js";
import {
  api,
  badge,
  cut,
  dataTable,
  errorBox,
  fmtDuration,
  h,
  instancePath,
  pageButton,
  pageUrl,
  parseJson,
  progressEl,
  renderIfChanged,
  timeEl,
} from "./lib.js";

const SHOWN_BARS = 300;

/** A section with a heading, its body and an error slot. */
function section(id, title, body, extra = null) {
  const error = h("div");
  const el = h(
    "section",
    { "aria-labelledby": `${id}-title`, class: id },
    h("h2", { id: `${id}-title` }, title),
    extra,
    error,
    body,
  );
  return { el, error };
}

/** The timeline section. */
export function timelineSection(id) {
  const body = h("div");
  const s = section("timeline", "Timeline", body);
  const refresh = async () => {
    try {
      const t = await api(instancePath(id, "timeline"));
      // Times move on while bars run: redraw only when the bars change.
      const key = {
        ...t,
        now: t.bars.some((b) => b.durationMs === null) ? t.now : null,
      };
      renderIfChanged(body, key, () => timelineView(t));
      s.error.replaceChildren();
    } catch (err) {
      s.error.replaceChildren(errorBox(err));
    }
  };
  return { section: s.el, refresh };
}

function timelineView(t) {
  if (t.bars.length === 0) {
    return h(
      "p",
      { class: "empty" },
      "No activities, timers or sub-orchestrations yet.",
    );
  }
  const origin = Date.parse(t.origin);
  const end = t.end ? Date.parse(t.end) : Date.parse(t.now);
  const bars = t.bars.slice(0, SHOWN_BARS);
  const span = Math.max(
    1,
    end - origin,
    ...bars.map((b) => b.offsetMs + (b.durationMs ?? 0)),
  );
  const items = bars.map((b) => {
    const duration = b.durationMs ?? Math.max(0, end - origin - b.offsetMs);
    const label = `${b.kind} ${b.name}: ${b.durationMs === null ? "running for " : ""}${fmtDuration(duration)}, ${b.outcome}`;
    return h(
      "li",
      { class: `bar-row ${b.kind} ${b.outcome}` },
      h("span", { class: "bar-name" }, cut(b.name, 40)),
      h(
        "span",
        { class: "track", "aria-hidden": "true" },
        h("span", {
          class: "bar",
          title: label,
          style: {
            left: `${(100 * b.offsetMs) / span}%`,
            width: `max(2px, ${(100 * duration) / span}%)`,
          },
        }),
      ),
      h("span", { class: "bar-duration" }, fmtDuration(duration)),
      h("span", { class: "visually-hidden" }, label),
    );
  });
  const more = t.total - bars.length;
  return h(
    "div",
    {},
    h(
      "p",
      { class: "muted" },
      `From ${new Date(origin).toLocaleTimeString()} over ${fmtDuration(span)}. `,
      more > 0 ? `The first ${bars.length} of ${t.total} are drawn.` : "",
    ),
    h(
      "p",
      { class: "legend muted", "aria-hidden": "true" },
      h("span", { class: "key activity" }, "activity"),
      h("span", { class: "key timer" }, "timer"),
      h("span", { class: "key suborchestration" }, "sub-orchestration"),
      h("span", { class: "key failed" }, "failed"),
      h("span", { class: "key pending" }, "running"),
    ),
    h("ol", { class: "timeline-bars", "aria-label": "Timeline bars" }, items),
  );
}

/** The children (sub-orchestrations) section, paged by cursor. */
export function childrenSection(id) {
  const body = h("div");
  const s = section("children", "Sub-orchestrations", body);
  const state = { cursors: [""] };
  const refresh = async () => {
    try {
      const cursor = state.cursors.at(-1);
      const page = await api(instancePath(id, "children"), {
        query: { cursor, limit: 50 },
      });
      renderIfChanged(body, page, () => childrenView(page, state, refresh));
      s.error.replaceChildren();
    } catch (err) {
      s.error.replaceChildren(errorBox(err));
    }
  };
  return { section: s.el, refresh };
}

function childProgress(customStatus) {
  const v = parseJson(customStatus);
  if (v && typeof v.total === "number" && v.total > 0) {
    return [
      progressEl(((v.succeeded ?? 0) + (v.failed ?? 0)) / v.total, "Progress"),
      " ",
      progressText(customStatus),
    ];
  }
  if (v && typeof v.progress === "number") {
    return [
      progressEl(v.progress, "Progress"),
      " ",
      progressText(customStatus),
    ];
  }
  return progressText(customStatus);
}

function childrenView(page, state, refresh) {
  if (page.instances.length === 0 && state.cursors.length === 1) {
    return h("p", { class: "empty" }, "None.");
  }
  const move = (change) => () => {
    change();
    void refresh();
  };
  return h(
    "div",
    {},
    dataTable(
      undefined,
      "Sub-orchestrations of this instance",
      ["Instance ID", "Name", "Status", "Progress", "Updated"],
      page.instances.map((c) =>
        h(
          "tr",
          {},
          h(
            "th",
            { scope: "row" },
            h(
              "a",
              {
                href: pageUrl("/instance", { id: c.instanceId }),
                class: "mono",
                "data-key": `c-${c.instanceId}`,
              },
              c.instanceId,
            ),
          ),
          h("td", {}, c.name),
          h("td", {}, badge(c.status)),
          h("td", {}, childProgress(c.customStatus)),
          h("td", {}, timeEl(c.updatedAt)),
        ),
      ),
    ),
    h(
      "nav",
      { class: "paging", "aria-label": "Sub-orchestration pages" },
      pageButton(
        state.cursors.length > 1,
        "c-first",
        "First",
        move(() => (state.cursors = [""])),
      ),
      pageButton(
        Boolean(page.nextCursor),
        "c-next",
        "Next",
        move(() => state.cursors.push(page.nextCursor)),
      ),
    ),
  );
}

/** The history section, paged by offset. */
export function historySection(id) {
  const body = h("div");
  const s = section("history", "History", body);
  const state = { offset: 0, limit: 50 };
  const refresh = async () => {
    try {
      const page = await api(instancePath(id, "history"), { query: state });
      renderIfChanged(body, page, () => historyView(page, state, refresh));
      s.error.replaceChildren();
    } catch (err) {
      s.error.replaceChildren(errorBox(err));
    }
  };
  return { section: s.el, refresh };
}

function eventDetails(e) {
  const parts = [];
  if (e.name) parts.push(e.name);
  if (e.instanceId) parts.push(e.instanceId);
  if (e.taskScheduledId !== undefined) parts.push(`for #${e.taskScheduledId}`);
  if (e.timerId !== undefined) parts.push(`timer #${e.timerId}`);
  if (e.fireAt) parts.push(`fires ${new Date(e.fireAt).toLocaleTimeString()}`);
  if (e.status) parts.push(e.status);
  if (e.reason) parts.push(`reason ${cut(e.reason, 60)}`);
  if (e.failure) {
    parts.push(`${e.failure.errorType}: ${cut(e.failure.errorMessage, 120)}`);
  }
  if (e.input) parts.push(`input ${cut(e.input, 60)}`);
  if (e.result) parts.push(`result ${cut(e.result, 60)}`);
  return parts.join(" · ");
}

function historyView(page, state, refresh) {
  const go = (offset) => () => {
    state.offset = offset;
    void refresh();
  };
  return h(
    "div",
    {},
    dataTable(
      "events",
      `History events ${page.offset + 1}–${page.offset + page.events.length}`,
      ["#", "Event id", "Time", "Type", "Details"],
      page.events.map((e, i) =>
        h(
          "tr",
          { class: `event ${e.type}` },
          h("td", {}, page.offset + i + 1),
          h("td", {}, e.eventId),
          h("td", {}, timeEl(e.timestamp)),
          h("td", {}, e.type),
          h("td", {}, eventDetails(e)),
        ),
      ),
    ),
    h(
      "nav",
      { class: "paging", "aria-label": "History pages" },
      pageButton(
        page.offset > 0,
        "h-prev",
        "Earlier events",
        go(Math.max(0, page.offset - state.limit)),
      ),
      pageButton(
        page.nextOffset !== null,
        "h-next",
        "Later events",
        go(page.nextOffset),
      ),
    ),
  );
}
