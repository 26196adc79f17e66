// The transcript viewer: segments with their timestamps, a search that
// narrows them as you type, and downloads as txt, srt, vtt or json. The
// formats the job stored are downloaded as stored; any it did not store
// are rendered here from the JSON segments.

import {
  api,
  apiUrl,
  errorBox,
  fmtClock,
  h,
  instancePath,
  pageUrl,
  params,
} from "./lib.js";

const FORMATS = ["txt", "srt", "vtt", "json"];

/** Renders the viewer for `?id=` (and `?video=` for a batch). */
export async function transcriptPage(main) {
  const id = params.get("id");
  const video = params.get("video") ?? undefined;
  document.title = "Transcript · durascribe";
  const crumbs = h(
    "p",
    { class: "crumbs" },
    h("a", { href: pageUrl("/") }, "Instances"),
    " / ",
    id
      ? h("a", { href: pageUrl("/instance", { id }), class: "mono" }, id)
      : null,
    " / transcript",
  );
  main.append(crumbs);
  if (!id) {
    main.append(
      h("h1", {}, "Transcript"),
      h(
        "p",
        { class: "error", role: "alert" },
        "No instance id in the address (?id=...).",
      ),
    );
    return;
  }
  try {
    const info = await api(instancePath(id, "transcript"), {
      query: { video },
    });
    if (!info.formats.includes("json")) {
      main.append(
        h("h1", {}, info.title ?? "Transcript"),
        h(
          "p",
          {},
          "No JSON transcript is recorded for this video, so it cannot be shown here.",
        ),
        downloads(id, video, info, null),
      );
      return;
    }
    const transcript = await api(instancePath(id, "transcript"), {
      query: { video, format: "json" },
    });
    main.append(viewer(id, video, info, transcript));
  } catch (err) {
    main.append(h("h1", {}, "Transcript"), errorBox(err));
  }
}

function viewer(id, video, info, t) {
  const segments = Array.isArray(t.segments) ? t.segments : [];
  const count = h("p", {
    id: "match-count",
    class: "muted",
    "aria-live": "polite",
  });
  const list = h("ol", { class: "segments", "aria-label": "Segments" });
  const search = h("input", {
    id: "search",
    type: "search",
    autocomplete: "off",
    "aria-describedby": "match-count",
  });
  const items = segments.map((s) => {
    const text = h("span", { class: "seg-text" }, s.text.trim());
    const li = h(
      "li",
      { class: "segment" },
      h(
        "span",
        { class: "stamp" },
        h("time", {}, fmtClock(s.start, true)),
        " → ",
        h("time", {}, fmtClock(s.end, true)),
      ),
      " ",
      text,
    );
    return { li, text, raw: s.text.trim() };
  });
  list.append(...items.map((x) => x.li));
  const filter = () => {
    const q = search.value.trim().toLowerCase();
    let n = 0;
    for (const item of items) {
      const at = q ? item.raw.toLowerCase().indexOf(q) : 0;
      const hit = !q || at >= 0;
      item.li.hidden = !hit;
      if (!hit) continue;
      n++;
      item.text.replaceChildren(...(q ? highlight(item.raw, q) : [item.raw]));
    }
    count.textContent = q
      ? `${n} of ${items.length} segments match “${search.value.trim()}”`
      : `${items.length} segments`;
  };
  search.addEventListener("input", filter);
  filter();
  const facts = [
    ["Source", info.source ?? "—"],
    ["Language", t.language ?? info.language ?? "—"],
    ["Model", t.model ?? "—"],
    ["Audio", fmtClock(t.audioSeconds ?? info.audioSeconds)],
  ];
  return h(
    "article",
    { class: "transcript" },
    h("h1", {}, info.title ?? "Transcript"),
    h(
      "dl",
      { class: "facts" },
      facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
    ),
    downloads(id, video, info, t),
    h(
      "div",
      { class: "field search" },
      h("label", { for: "search" }, "Search the transcript"),
      search,
    ),
    count,
    list,
  );
}

function highlight(raw, q) {
  const out = [];
  const lower = raw.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(q); at >= 0; at = lower.indexOf(q, from)) {
    out.push(raw.slice(from, at), h("mark", {}, raw.slice(at, at + q.length)));
    from = at + q.length;
  }
  out.push(raw.slice(from));
  return out;
}

function downloads(id, video, info, t) {
  const base =
    (info.title ?? "transcript")
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 80) || "transcript";
  const links = FORMATS.map((f) => {
    if (info.formats.includes(f)) {
      return h(
        "a",
        {
          class: "button secondary",
          href: apiUrl(instancePath(id, "transcript"), {
            video,
            format: f,
            download: 1,
          }),
          download: `${base}.${f}`,
        },
        `Download ${f}`,
      );
    }
    if (!t) return null;
    const blob = new Blob([render(f, t)], { type: "text/plain" });
    return h(
      "a",
      {
        class: "button secondary",
        href: URL.createObjectURL(blob),
        download: `${base}.${f}`,
      },
      `Download ${f}`,
    );
  });
  return h("nav", { class: "downloads", "aria-label": "Downloads" }, links);
}

function stamp(seconds, comma) {
  const ms = Math.round(Math.max(0, seconds) * 1000);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  const text = `${p(Math.floor(ms / 3600000))}:${p(Math.floor(ms / 60000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
  return comma ? text.replace(".", ",") : text;
}

function render(format, t) {
  const segs = (t.segments ?? []).filter((s) => s.text.trim());
  if (format === "json") return JSON.stringify(t, null, 2);
  if (format === "txt") return segs.map((s) => s.text.trim()).join("\n") + "\n";
  if (format === "srt") {
    return segs
      .map(
        (s, i) =>
          `${i + 1}\n${stamp(s.start, true)} --> ${stamp(s.end, true)}\n${s.text.trim()}\n`,
      )
      .join("\n");
  }
  return `WEBVTT\n\n${segs.map((s) => `${stamp(s.start, false)} --> ${stamp(s.end, false)}\n${s.text.trim()}\n`).join("\n")}`;
}
