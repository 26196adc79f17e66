/**
 * How workers and clients reach a task hub: the durascribe hub (or any
 * Durable Task sidecar) at an endpoint, or Azure Durable Task Scheduler
 * through its connection string. Either way every call carries metadata:
 * `taskhub`, `workerid` and, with a credential, `authorization: Bearer`.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";

import * as grpc from "@grpc/grpc-js";
import type { AccessToken, TokenCredential } from "@azure/identity";

import { ConfigError } from "../errors.js";
import type { HubTarget } from "./worker-config.js";

/** The token scope of Durable Task Scheduler. */
export const DTS_SCOPE = "https://durabletask.io/.default";

/** The authentication kinds a connection string may name. */
export type Authentication = "None" | "DefaultAzure" | "ManagedIdentity";

/** A parsed Durable Task Scheduler connection string. */
export interface ConnectionString {
  endpoint: string;
  taskHub: string;
  authentication: Authentication;
  /** A user-assigned managed identity's client id. */
  clientId?: string | undefined;
}

/**
 * Parses `Endpoint=...;Authentication=DefaultAzure|ManagedIdentity|None;
 * TaskHub=...` (keys in any case and order; `ClientID` optional).
 *
 * @throws ConfigError naming what is missing or wrong.
 */
export function parseConnectionString(text: string): ConnectionString {
  const fields = new Map<string, string>();
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw badString(`"${part.trim()}" is not Key=Value`);
    fields.set(
      part.slice(0, eq).trim().toLowerCase(),
      part.slice(eq + 1).trim(),
    );
  }
  const endpoint = fields.get("endpoint");
  if (!endpoint) throw badString("it has no Endpoint");
  checkEndpoint(
    endpoint,
    "Endpoint in DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
  );
  const taskHub = fields.get("taskhub");
  if (!taskHub) throw badString("it has no TaskHub");
  const auth = fields.get("authentication") ?? "DefaultAzure";
  const known: Authentication[] = ["None", "DefaultAzure", "ManagedIdentity"];
  const authentication = known.find(
    (k) => k.toLowerCase() === auth.toLowerCase(),
  );
  if (!authentication) {
    throw badString(
      `Authentication=${auth} is not supported; use ${known.join(", ")}`,
    );
  }
  return {
    endpoint,
    taskHub,
    authentication,
    clientId: fields.get("clientid"),
  };
}

function badString(why: string): ConfigError {
  return new ConfigError(
    `DURABLE_TASK_SCHEDULER_CONNECTION_STRING is not usable: ${why} (expected Endpoint=https://...;Authentication=DefaultAzure;TaskHub=<name>)`,
  );
}

/** Checks an http(s) endpoint URL; returns it parsed. */
export function checkEndpoint(endpoint: string, setting = "--endpoint"): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(
      `${setting} "${endpoint}" is not a URL; give one such as http://localhost:8080`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `${setting} "${endpoint}" must be http:// or https://`,
    );
  }
  return url;
}

/** What the SDK's worker and client constructors need. */
export interface HubConnection {
  /** `host:port`. */
  hostAddress: string;
  useTLS: boolean;
  taskHub: string;
  /** Per-call metadata for every gRPC call. */
  metadataGenerator: () => Promise<grpc.Metadata>;
}

/** Options of {@link hubConnection}. */
export interface ConnectionOptions {
  endpoint: string;
  taskHub: string;
  /** Where bearer tokens come from, for scope {@link DTS_SCOPE}. */
  credential?: TokenCredential | undefined;
  /** A fixed bearer token (a durascribe hub started with --token). */
  token?: string | undefined;
  /** @default `<hostname>,<pid>,<random>` */
  workerId?: string;
}

/** A connection to a task hub at an endpoint. */
export function hubConnection(opts: ConnectionOptions): HubConnection {
  const url = checkEndpoint(opts.endpoint);
  const useTLS = url.protocol === "https:";
  const port = url.port || (useTLS ? "443" : "80");
  const workerId =
    opts.workerId ?? `${os.hostname()},${process.pid},${randomUUID()}`;
  const bearer = opts.credential
    ? tokenSource(opts.credential)
    : opts.token !== undefined
      ? () => Promise.resolve(opts.token!)
      : undefined;
  return {
    hostAddress: `${url.hostname}:${port}`,
    useTLS,
    taskHub: opts.taskHub,
    metadataGenerator: async () => {
      const md = new grpc.Metadata();
      md.set("taskhub", opts.taskHub);
      md.set("workerid", workerId);
      if (bearer) md.set("authorization", `Bearer ${await bearer()}`);
      return md;
    },
  };
}

/** The connection a Durable Task Scheduler connection string describes. */
export function connectionFromString(
  text: string,
  credential?: TokenCredential,
): HubConnection {
  const cs = parseConnectionString(text);
  return hubConnection({
    endpoint: cs.endpoint,
    taskHub: cs.taskHub,
    credential: credential ?? credentialFor(cs),
  });
}

/**
 * The @azure/identity credential a connection string asks for. The
 * package is loaded on the first token, so commands that never need one
 * do not pay for it.
 */
export function credentialFor(
  cs: ConnectionString,
): TokenCredential | undefined {
  if (cs.authentication === "None") return undefined;
  let real: Promise<TokenCredential> | undefined;
  const load = async (): Promise<TokenCredential> => {
    const id = await import("@azure/identity");
    if (cs.authentication === "ManagedIdentity") {
      return cs.clientId
        ? new id.ManagedIdentityCredential({ clientId: cs.clientId })
        : new id.ManagedIdentityCredential();
    }
    return cs.clientId
      ? new id.DefaultAzureCredential({ managedIdentityClientId: cs.clientId })
      : new id.DefaultAzureCredential();
  };
  return {
    getToken: async (scopes, options) =>
      (await (real ??= load())).getToken(scopes, options),
  };
}

/** The connection a hub target (from the worker config) describes. */
export function openConnection(hub: HubTarget): HubConnection {
  return hub.kind === "dts"
    ? connectionFromString(hub.connectionString)
    : hubConnection({
        endpoint: hub.endpoint,
        taskHub: hub.taskHub,
        token: hub.token,
      });
}

/**
 * Tokens from `credential`, reused until five minutes before they expire,
 * with one request in flight at a time.
 */
function tokenSource(credential: TokenCredential): () => Promise<string> {
  let current: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  return async () => {
    if (current && current.expiresOnTimestamp - Date.now() > 5 * 60_000) {
      return current.token;
    }
    pending ??= credential
      .getToken(DTS_SCOPE)
      .then((t) => {
        if (!t) throw new Error(`no token for ${DTS_SCOPE}`);
        return t;
      })
      .finally(() => (pending = undefined));
    current = await pending;
    return current.token;
  };
}
