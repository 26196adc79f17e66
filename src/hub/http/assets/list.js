// The instance list: live counts by status, filters (a plain GET form, so
// every filtered view has its own address), and a paged table.

import {
  api,
  badge,
  cut,
  dataTable,
  errorBox,
  every,
  h,
  pageUrl,
  params,
  parseJson,
  renderIfChanged,
  settings,
  statusLabel,
  taskHub,
  timeEl,
} from "./lib.js";

const STATUSES = [
  "PENDING",
  "RUNNING",
  "SUSPENDED",
  "COMPLETED",
  "FAILED",
  "TERMINATED",
  "CANCELED",
  "CONTINUED_AS_NEW",
];

// The page's own parameters, as the filter form submits them.
function readFilters() {
  return {
    status: params.get("status") ?? "",
    name: params.get("name") ?? "",
    prefix: params.get("prefix") ?? "",
    createdFrom: params.get("createdFrom") ?? "",
    createdTo: params.get("createdTo") ?? "",
    topLevel: params.get("topLevel") === "1",
    cursor: params.get("cursor") ?? "",
  };
}

// datetime-local gives local time without a zone; the API wants one.
function isoOf(local, field) {
  if (!local) return undefined;
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) {
    throw new Error(`${field} is not a date and time`);
  }
  return d.toISOString();
}

function apiFilters(f) {
  return {
    name: f.name,
    prefix: f.prefix,
    createdFrom: isoOf(f.createdFrom, "Created from"),
    createdTo: isoOf(f.createdTo, "Created to"),
    topLevel: f.topLevel ? "true" : undefined,
  };
}

/** Renders the list page into `main`. */
export function listPage(main) {
  document.title = "Instances · durascribe";
  const f = readFilters();
  const counts = h("nav", {
    class: "counts",
    "aria-label": "Instances by status",
  });
  const results = h("div", { class: "results" });
  const error = h("div");
  main.append(
    h("h1", {}, "Instances"),
    counts,
    filterForm(f),
    error,
    h(
      "section",
      { "aria-labelledby": "results-title" },
      h(
        "h2",
        { id: "results-title", class: "visually-hidden" },
        "Matching instances",
      ),
      results,
    ),
  );
  every(
    settings.refreshMs,
    async () => {
      const filters = apiFilters(f);
      const [c, list] = await Promise.all([
        api("/counts", { query: filters }),
        api("/instances", {
          query: { ...filters, status: f.status, cursor: f.cursor, limit: 50 },
        }),
      ]);
      renderIfChanged(counts, c, () => countsView(c, f));
      renderIfChanged(results, list, () => tableView(list, f));
    },
    (err) => error.replaceChildren(errorBox(err)),
  );
}

function linkWith(f, changes) {
  const next = { ...f, cursor: "", ...changes };
  return pageUrl("/", {
    status: next.status,
    name: next.name,
    prefix: next.prefix,
    createdFrom: next.createdFrom,
    createdTo: next.createdTo,
    topLevel: next.topLevel ? "1" : "",
    cursor: next.cursor,
  });
}

function countsView(c, f) {
  const item = (status, label, n) =>
    h(
      "li",
      {},
      h(
        "a",
        {
          href: linkWith(f, { status }),
          "aria-current": f.status === status ? "page" : undefined,
          "data-key": `count-${status || "all"}`,
          class: `count status-${(status || "all").toLowerCase()}`,
        },
        h("span", { class: "count-label" }, label),
        " ",
        h(
          "span",
          { class: "count-value", "data-status": status || "ALL" },
          n.toLocaleString(),
        ),
      ),
    );
  const shown = STATUSES.filter(
    (s) => c.counts[s] > 0 || ["RUNNING", "COMPLETED", "FAILED"].includes(s),
  );
  return h(
    "ul",
    {},
    item("", "All", c.total),
    shown.map((s) => item(s, statusLabel(s), c.counts[s] ?? 0)),
  );
}

function field(id, label, control) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function filterForm(f) {
  const status = h(
    "select",
    { id: "f-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) =>
      h("option", { value: s, selected: f.status === s }, statusLabel(s)),
    ),
  );
  return h(
    "form",
    {
      class: "filters",
      method: "get",
      action: "/",
      role: "search",
      "aria-label": "Filter instances",
    },
    taskHub
      ? h("input", { type: "hidden", name: "taskhub", value: taskHub })
      : null,
    field("f-status", "Status", status),
    field(
      "f-name",
      "Orchestration name",
      h("input", {
        id: "f-name",
        name: "name",
        value: f.name,
        placeholder: "transcribeBatch",
        autocomplete: "off",
      }),
    ),
    field(
      "f-prefix",
      "Instance id starts with",
      h("input", {
        id: "f-prefix",
        name: "prefix",
        value: f.prefix,
        autocomplete: "off",
      }),
    ),
    field(
      "f-from",
      "Created from",
      h("input", {
        id: "f-from",
        name: "createdFrom",
        type: "datetime-local",
        step: 1,
        value: f.createdFrom,
      }),
    ),
    field(
      "f-to",
      "Created to",
      h("input", {
        id: "f-to",
        name: "createdTo",
        type: "datetime-local",
        step: 1,
        value: f.createdTo,
      }),
    ),
    h(
      "div",
      { class: "field check" },
      h("input", {
        id: "f-top",
        name: "topLevel",
        type: "checkbox",
        value: "1",
        checked: f.topLevel,
      }),
      h("label", { for: "f-top" }, "Top-level only"),
    ),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit" }, "Apply filters"),
      h("a", { href: pageUrl("/"), class: "button secondary" }, "Clear"),
    ),
  );
}

/** A short progress text from a custom status of the workflow's shapes. */
export function progressText(customStatus) {
  const v = parseJson(customStatus);
  if (v && typeof v === "object") {
    if (typeof v.total === "number") {
      const done = (v.succeeded ?? 0) + (v.failed ?? 0);
      return `${done} of ${v.total} done${v.failed ? `, ${v.failed} failed` : ""}`;
    }
    if (typeof v.phase === "string") {
      const pct =
        typeof v.progress === "number"
          ? ` ${Math.round(v.progress * 100)}%`
          : "";
      return `${v.phase}${pct}${v.attempt > 1 ? ` (attempt ${v.attempt})` : ""}`;
    }
  }
  return cut(customStatus ?? "", 60);
}

function tableView(list, f) {
  if (list.instances.length === 0) {
    return h("p", { class: "empty" }, "No instances match these filters.");
  }
  const rows = list.instances.map((i) =>
    h(
      "tr",
      {},
      h(
        "th",
        { scope: "row" },
        h(
          "a",
          {
            href: pageUrl("/instance", { id: i.instanceId }),
            "data-key": `i-${i.instanceId}`,
            class: "mono",
          },
          i.instanceId,
        ),
      ),
      h("td", {}, i.name),
      h("td", {}, badge(i.status)),
      h("td", {}, timeEl(i.createdAt)),
      h("td", {}, timeEl(i.completedAt)),
      h("td", {}, progressText(i.customStatus)),
    ),
  );
  const paging = h(
    "nav",
    { class: "paging", "aria-label": "Pages" },
    f.cursor ? h("a", { href: linkWith(f, {}) }, "First page") : null,
    list.nextCursor
      ? h(
          "a",
          { href: linkWith(f, { cursor: list.nextCursor }), rel: "next" },
          "Next page",
        )
      : null,
  );
  return h(
    "div",
    {},
    dataTable(
      "instances",
      "Instances, newest first",
      ["Instance ID", "Name", "Status", "Created", "Completed", "Progress"],
      rows,
    ),
    paging,
  );
}
