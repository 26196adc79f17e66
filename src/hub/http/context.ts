/**
 * What the API's routes are handed: the request, the hub, and for routes
 * on one instance, its task hub and its record.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HubServer, TaskHub } from "../server.js";
import type { InstanceRecord } from "../store/store.js";
import type { Query } from "./params.js";
import type { LocationReader } from "./transcript.js";

/** What a route gets. */
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  hub: HubServer;
  /** Reads a transcript location recorded in an instance's output. */
  read: LocationReader;
  /** How often pages refresh, in milliseconds. */
  refreshMs: number;
  /** Whether the hub asks for a token (pages offer to sign out). */
  authRequired: boolean;
}

/** The task hub and instance a per-instance route works on. */
export interface InstanceContext extends ApiContext {
  q: Query;
  taskHub: TaskHub;
  instance: InstanceRecord;
}
