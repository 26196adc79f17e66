/**
 * The operator's actions: terminate, suspend, resume, raise an event and
 * purge. Each builds the same protocol request a gRPC client would send
 * and hands it to the task hub's HubService.
 */
import { isTerminal, pb, stringValue } from "../protocol.js";
import type { InstanceContext } from "./context.js";
import { optionalBool, optionalString, onlyFields } from "./params.js";
import { HttpError, badRequest, readJsonObject, sendJson } from "./respond.js";
import { statusText } from "./views.js";

/** The action names, as the last path segment of their POST. */
export const ACTIONS = [
  "terminate",
  "suspend",
  "resume",
  "events",
  "purge",
] as const;

/** An action name. */
export type Action = (typeof ACTIONS)[number];

const BODY_LIMIT = 1024 * 1024;

/** The route that runs `action`. */
export function actionRoute(
  action: Action,
): (c: InstanceContext) => Promise<void> {
  return async (c) => {
    const body = await readJsonObject(c.req, BODY_LIMIT);
    const result = await RUN[action](c, body);
    sendJson(c.res, action === "purge" ? 200 : 202, {
      instanceId: c.instance.instanceId,
      action,
      ...result,
    });
  };
}

type Body = Record<string, unknown>;

const RUN: Record<
  Action,
  (c: InstanceContext, body: Body) => Promise<Record<string, unknown>>
> = {
  async terminate(c, body) {
    onlyFields(body, ["reason", "recursive"]);
    const req = new pb.TerminateRequest();
    req.setInstanceid(c.instance.instanceId);
    const reason = optionalString(body, "reason");
    // The SDK sends the output JSON-encoded; so does the dashboard.
    if (reason !== undefined) {
      req.setOutput(stringValue(JSON.stringify(reason)));
    }
    req.setRecursive(optionalBool(body, "recursive"));
    await c.taskHub.service.terminate(req);
    return {};
  },

  async suspend(c, body) {
    onlyFields(body, ["reason"]);
    await c.taskHub.service.suspendResume(
      c.instance.instanceId,
      true,
      optionalString(body, "reason"),
    );
    return {};
  },

  async resume(c, body) {
    onlyFields(body, ["reason"]);
    await c.taskHub.service.suspendResume(
      c.instance.instanceId,
      false,
      optionalString(body, "reason"),
    );
    return {};
  },

  async events(c, body) {
    onlyFields(body, ["name", "data"]);
    const name = optionalString(body, "name", 256)?.trim();
    if (!name) throw badRequest("name is required: the event's name");
    const req = new pb.RaiseEventRequest();
    req.setInstanceid(c.instance.instanceId);
    req.setName(name);
    if (body.data !== undefined) {
      req.setInput(stringValue(JSON.stringify(body.data)));
    }
    await c.taskHub.service.raiseEvent(req);
    return { name };
  },

  async purge(c, body) {
    onlyFields(body, ["recursive"]);
    if (!isTerminal(c.instance.status)) {
      throw new HttpError(
        409,
        "failed_precondition",
        `instance "${c.instance.instanceId}" is ${statusText(c.instance.status).toLowerCase()}; only finished instances can be purged (terminate it first)`,
      );
    }
    const req = new pb.PurgeInstancesRequest();
    req.setInstanceid(c.instance.instanceId);
    req.setRecursive(optionalBool(body, "recursive"));
    return { deleted: await c.taskHub.service.purge(req) };
  },
};
