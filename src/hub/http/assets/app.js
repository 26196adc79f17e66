// The dashboard's entry point: one page shell, the view picked by path.

import { instancePage } from "./instance.js";
import { listPage } from "./list.js";
import { api, errorBox, h, pageUrl, params, settings } from "./lib.js";
import { transcriptPage } from "./transcript.js";

const VIEWS = {
  "/": listPage,
  "/instance": instancePage,
  "/transcript": transcriptPage,
};

async function start() {
  const main = document.getElementById("main");
  try {
    const info = await api("/info");
    settings.refreshMs = info.refreshMs;
    document.getElementById("taskhub").textContent = `task hub ${info.taskHub}`;
    if (info.authRequired) document.getElementById("signout").hidden = false;
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  if (params.get("purged") !== null) {
    main.append(
      h(
        "p",
        { class: "notice", role: "status" },
        `Purged ${params.get("purged")} instance(s).`,
      ),
    );
  }
  document.getElementById("home").href = pageUrl("/");
  const view = VIEWS[location.pathname];
  if (!view) {
    main.append(
      h("h1", {}, "Not found"),
      h("p", {}, h("a", { href: pageUrl("/") }, "Back to the instances")),
    );
    return;
  }
  await view(main);
}

start().catch((err) => document.getElementById("main").append(errorBox(err)));
