// Payloads as readable JSON: objects and arrays fold (native <details>,
// so keyboards and screen readers work), large ones open lazily and show
// their items a page at a time, long strings are cut with a "show all".

import { h } from "./lib.js";

const MAX_STRING = 240;
const PAGE = 100;

/** A payload string as folded JSON (or as text when it is not JSON). */
export function payloadView(text) {
  if (text === null || text === undefined || text === "") {
    return h("p", { class: "muted" }, text === "" ? "Empty" : "None");
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return h("div", { class: "json" }, stringNode(text, false));
  }
  return h("div", { class: "json" }, valueNode(value, 0));
}

function valueNode(value, depth) {
  if (value === null) return h("span", { class: "j-null" }, "null");
  if (Array.isArray(value) || typeof value === "object") {
    return containerNode(value, depth);
  }
  if (typeof value === "string") return stringNode(value, true);
  return h("span", { class: `j-${typeof value}` }, String(value));
}

function stringNode(text, quoted) {
  const q = quoted ? '"' : "";
  if (text.length <= MAX_STRING) {
    return h("span", { class: "j-string" }, `${q}${text}${q}`);
  }
  const span = h(
    "span",
    { class: "j-string" },
    `${q}${text.slice(0, MAX_STRING)}…`,
  );
  const button = h(
    "button",
    {
      type: "button",
      class: "link",
      onclick: () => {
        span.textContent = `${q}${text}${q}`;
        button.remove();
      },
    },
    `show all ${text.length.toLocaleString()} characters`,
  );
  return h("span", {}, span, " ", button);
}

function containerNode(value, depth) {
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) {
    return h("span", { class: "j-empty" }, isArray ? "[]" : "{}");
  }
  const label = isArray
    ? `[ ${entries.length} item${entries.length === 1 ? "" : "s"} ]`
    : `{ ${entries.length} key${entries.length === 1 ? "" : "s"} }`;
  const list = h("ul", { class: "j-list" });
  const details = h("details", {}, h("summary", {}, label), list);
  let shown = 0;
  const fill = () => {
    const end = Math.min(entries.length, shown + PAGE);
    for (; shown < end; shown++) {
      const [key, v] = entries[shown];
      list.append(
        h(
          "li",
          {},
          h(
            "span",
            { class: "j-key" },
            isArray ? `${key}: ` : `${JSON.stringify(key)}: `,
          ),
          valueNode(v, depth + 1),
        ),
      );
    }
    if (shown < entries.length) {
      const rest = entries.length - shown;
      const more = h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            more.parentElement.remove();
            fill();
          },
        },
        `show ${Math.min(rest, PAGE)} more of ${rest.toLocaleString()}`,
      );
      list.append(h("li", {}, more));
    }
  };
  // Small values near the top open at once; big ones fill when opened.
  if (depth < 2 && entries.length <= 20) {
    details.open = true;
    fill();
  } else {
    details.addEventListener(
      "toggle",
      () => shown === 0 && details.open && fill(),
    );
  }
  return details;
}
