// The operator's actions on an instance, each confirmed in a modal
// <dialog> (which keeps focus inside it and returns it on close).

import { api, announce, h, instancePath, isTerminal, pageUrl } from "./lib.js";

let dialogs = 0;

/**
 * Opens a dialog with `fields` and runs `confirm(values)` when confirmed.
 * Errors are shown inside the dialog, which stays open.
 */
function openDialog({ title, text, fields, confirmLabel, danger, confirm }) {
  const n = ++dialogs;
  const titleId = `dlg-title-${n}`;
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const inputs = {};
  const rows = fields.map((f) => {
    const id = `dlg-${n}-${f.name}`;
    const control =
      f.type === "textarea"
        ? h("textarea", {
            id,
            name: f.name,
            rows: 4,
            placeholder: f.placeholder,
          })
        : h("input", {
            id,
            name: f.name,
            type: f.type ?? "text",
            required: f.required,
            checked: f.checked,
            placeholder: f.placeholder,
            autocomplete: "off",
          });
    inputs[f.name] = control;
    return f.type === "checkbox"
      ? h(
          "div",
          { class: "field check" },
          control,
          h("label", { for: id }, f.label),
        )
      : h("div", { class: "field" }, h("label", { for: id }, f.label), control);
  });
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const ok = h(
    "button",
    { type: "submit", class: danger ? "danger" : "" },
    confirmLabel,
  );
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { id: titleId }, title),
    text ? h("p", {}, text) : null,
    rows,
    error,
    h("div", { class: "buttons" }, cancel, ok),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId }, form);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ok.disabled = true;
    try {
      const values = Object.fromEntries(
        Object.entries(inputs).map(([k, el]) => [
          k,
          el.type === "checkbox" ? el.checked : el.value,
        ]),
      );
      await confirm(values);
      dialog.close();
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    } finally {
      ok.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

function post(id, action, body) {
  return api(instancePath(id, action), { method: "POST", body });
}

const live = (s) => !isTerminal(s);

// Each action: its button, when it applies, and its dialog. `run` posts
// and returns what to announce.
const ACTIONS = [
  {
    label: "Terminate",
    cls: "danger",
    when: live,
    dialog: (id) => ({
      title: "Terminate instance",
      text: `Stops ${id} for good. It ends as Terminated.`,
      fields: [
        { name: "reason", label: "Reason (optional)" },
        {
          name: "recursive",
          label: "Also terminate its sub-orchestrations",
          type: "checkbox",
          checked: true,
        },
      ],
      danger: true,
    }),
    run: async (id, v) => {
      await post(id, "terminate", {
        reason: v.reason || undefined,
        recursive: v.recursive,
      });
      return `Termination of ${id} requested.`;
    },
  },
  {
    label: "Suspend",
    cls: "secondary",
    when: (s) => s === "RUNNING" || s === "PENDING",
    dialog: () => ({
      title: "Suspend instance",
      text: "It stops taking new work until resumed.",
      fields: [{ name: "reason", label: "Reason (optional)" }],
    }),
    run: async (id, v) => {
      await post(id, "suspend", { reason: v.reason || undefined });
      return `Suspension of ${id} requested.`;
    },
  },
  {
    label: "Resume",
    cls: "secondary",
    when: (s) => s === "SUSPENDED",
    dialog: () => ({
      title: "Resume instance",
      fields: [{ name: "reason", label: "Reason (optional)" }],
    }),
    run: async (id, v) => {
      await post(id, "resume", { reason: v.reason || undefined });
      return `Resumption of ${id} requested.`;
    },
  },
  {
    label: "Raise event",
    cls: "secondary",
    when: live,
    dialog: () => ({
      title: "Raise an event",
      fields: [
        { name: "name", label: "Event name", required: true },
        {
          name: "data",
          label: "Data as JSON (optional)",
          type: "textarea",
          placeholder: '{"approved": true}',
        },
      ],
    }),
    run: async (id, v) => {
      await post(id, "events", { name: v.name, data: parseData(v.data) });
      return `Event ${v.name} raised on ${id}.`;
    },
  },
  {
    label: "Purge",
    cls: "danger",
    when: isTerminal,
    dialog: (id) => ({
      title: "Purge instance",
      text: `Deletes ${id} and its history from the store. This cannot be undone.`,
      fields: [
        {
          name: "recursive",
          label: "Also purge its sub-orchestrations",
          type: "checkbox",
          checked: true,
        },
      ],
      danger: true,
    }),
    run: async (id, v) => {
      const r = await post(id, "purge", { recursive: v.recursive });
      location.assign(pageUrl("/", { purged: `${r.deleted}` }));
      return `Purged ${r.deleted} instance(s).`;
    },
  },
];

function parseData(text) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`The data is not valid JSON: ${err.message}`);
  }
}

/** The action buttons that fit an instance's status. */
export function actionsBar(inst, refresh) {
  const id = inst.instanceId;
  const buttons = ACTIONS.filter((a) => a.when(inst.status)).map((a) =>
    h(
      "button",
      {
        type: "button",
        class: a.cls,
        "data-key": `action-${a.label}`,
        onclick: () =>
          openDialog({
            ...a.dialog(id),
            confirmLabel: a.label,
            confirm: async (values) => {
              announce(await a.run(id, values));
              refresh();
            },
          }),
      },
      a.label,
    ),
  );
  return h(
    "div",
    { class: "actions", role: "group", "aria-label": "Actions" },
    buttons,
  );
}
