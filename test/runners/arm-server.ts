/**
 * A stand-in for Azure Resource Manager's Container Apps Jobs API, on
 * HTTPS at 127.0.0.1 with a certificate made for the test. Azure cannot be
 * reached from here; this answers with the real API's shapes: the `start`
 * long-running operation (202 with Azure-AsyncOperation and Location
 * headers, an operation status to poll, a result at the Location), job
 * executions with `properties.status`, ARM error bodies, and a required
 * `api-version`. Every request is kept for the test to assert on.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { recordingListener, type RecordedRequest } from "./recording.js";

/** A request the server received. */
export type ArmRequest = RecordedRequest;

/** The fake ARM server. */
export interface ArmServer {
  url: string;
  /** An agent that trusts the server's certificate. */
  agent: https.Agent;
  requests: ArmRequest[];
  /** Execution name to the status it reports (default Running). */
  statuses: Map<string, string>;
  /** Operation status polls answered InProgress before Succeeded. */
  inProgressPolls: number;
  close(): Promise<void>;
}

/** Names of the fake subscription's resources. */
export const ARM = {
  subscription: "6a0f1d7e-0000-4000-8000-00000000c0de",
  group: "rg-durascribe",
  job: "durascribe-job",
  token: "test-arm-token",
};

/** A self-signed certificate for 127.0.0.1, made with openssl. */
function certificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "durascribe-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    return {
      key: readFileSync(path.join(dir, "key.pem"), "utf8"),
      cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The job resource as `GET .../jobs/{job}` answers it. */
function jobResource(base: string) {
  return {
    id: `${base}/jobs/${ARM.job}`,
    name: ARM.job,
    type: "Microsoft.App/jobs",
    location: "East US",
    properties: {
      provisioningState: "Succeeded",
      environmentId: `/subscriptions/${ARM.subscription}/resourceGroups/${ARM.group}/providers/Microsoft.App/managedEnvironments/env`,
      workloadProfileName: "Consumption",
      configuration: {
        triggerType: "Manual",
        replicaTimeout: 21600,
        replicaRetryLimit: 0,
        manualTriggerConfig: { replicaCompletionCount: 1, parallelism: 1 },
      },
      template: {
        containers: [
          {
            image: "example.azurecr.io/durascribe:1.0",
            name: "durascribe",
            env: [
              {
                name: "STORAGE_ACCOUNT_URL",
                value: "https://acct.blob.core.windows.net",
              },
              { name: "DURASCRIBE_MODEL", value: "base.en" },
              { name: "AZURE_CLIENT_ID", secretRef: "client-id" },
            ],
            resources: { cpu: 2, memory: "4Gi" },
          },
        ],
      },
    },
  };
}

/** Starts the server; `close` stops it. */
export async function startArmServer(): Promise<ArmServer> {
  const { key, cert } = certificate();
  const requests: ArmRequest[] = [];
  const statuses = new Map<string, string>();
  const executions = new Map<string, { template: unknown; started: string }>();
  const operations = new Map<string, { polls: number; execution: string }>();
  let url = "";
  const state = { inProgressPolls: 1 };
  let counter = 0;

  const handle = (
    req: IncomingMessage,
    res: ServerResponse,
    u: URL,
    body: unknown,
  ) => {
    const send = (
      status: number,
      json?: unknown,
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "x-ms-request-id": `req-${requests.length}`,
        ...headers,
      });
      res.end(json === undefined ? "" : JSON.stringify(json));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error: { code, message } });
    if (req.headers.authorization !== `Bearer ${ARM.token}`) {
      return error(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing or invalid.",
      );
    }
    if (!u.searchParams.get("api-version")) {
      return error(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    const base = `/subscriptions/${ARM.subscription}/resourceGroups/${ARM.group}/providers/Microsoft.App`;
    const ops = `/subscriptions/${ARM.subscription}/providers/Microsoft.App/locations/eastus`;
    const apiVersion = u.searchParams.get("api-version")!;
    const p = u.pathname;
    const execution = (name: string) => ({
      id: `${base}/jobs/${ARM.job}/executions/${name}`,
      name,
      type: "Microsoft.App/jobs/executions",
      properties: {
        status: statuses.get(name) ?? "Running",
        startTime: executions.get(name)!.started,
        template: executions.get(name)!.template,
      },
    });

    if (req.method === "GET" && p === `${base}/jobs/${ARM.job}`) {
      return send(200, jobResource(base));
    }
    if (req.method === "POST" && p === `${base}/jobs/${ARM.job}/start`) {
      const name = `${ARM.job}-${(++counter).toString(36).padStart(7, "x")}`;
      executions.set(name, {
        template: body,
        started: new Date().toISOString(),
      });
      const op = `op-${counter}`;
      operations.set(op, { polls: 0, execution: name });
      return send(
        202,
        { id: `${base}/jobs/${ARM.job}/executions/${name}`, name },
        {
          "azure-asyncoperation": `${url}${ops}/containerappsjobOperationStatuses/${op}?api-version=${apiVersion}&azureAsyncOperation=true`,
          location: `${url}${ops}/containerappsjobOperationResults/${op}?api-version=${apiVersion}`,
          "retry-after": "0",
        },
      );
    }
    const status = p.match(/\/containerappsjobOperationStatuses\/([^/]+)$/);
    if (req.method === "GET" && status && operations.has(status[1]!)) {
      const o = operations.get(status[1]!)!;
      const done = ++o.polls > state.inProgressPolls;
      return send(200, {
        id: p,
        name: status[1],
        status: done ? "Succeeded" : "InProgress",
        startTime: new Date().toISOString(),
      });
    }
    const result = p.match(/\/containerappsjobOperationResults\/([^/]+)$/);
    if (req.method === "GET" && result && operations.has(result[1]!)) {
      const o = operations.get(result[1]!)!;
      return send(200, {
        id: `${base}/jobs/${ARM.job}/executions/${o.execution}`,
        name: o.execution,
      });
    }
    if (req.method === "GET" && p === `${base}/jobs/${ARM.job}/executions`) {
      return send(200, {
        value: [...executions.keys()].reverse().map(execution),
      });
    }
    const one = p.match(
      new RegExp(`^${base}/jobs/${ARM.job}/executions/([^/]+)(/stop)?$`),
    );
    if (one && executions.has(one[1]!)) {
      if (req.method === "GET" && !one[2]) return send(200, execution(one[1]!));
      if (req.method === "POST" && one[2]) {
        statuses.set(one[1]!, "Stopped");
        return send(202, undefined, {
          location: `${url}${ops}/containerappsjobOperationResults/stop-${one[1]}?api-version=${apiVersion}`,
        });
      }
    }
    if (
      req.method === "GET" &&
      /\/containerappsjobOperationResults\/stop-/.test(p)
    ) {
      return send(200, {});
    }
    return error(
      404,
      "ResourceNotFound",
      `The Resource '${p}' under resource group '${ARM.group}' was not found.`,
    );
  };

  const server = https.createServer(
    { key, cert },
    recordingListener(requests, "https://127.0.0.1", handle),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: cert });
  return {
    url,
    agent,
    requests,
    statuses,
    get inProgressPolls() {
      return state.inProgressPolls;
    },
    set inProgressPolls(n: number) {
      state.inProgressPolls = n;
    },
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A credential that hands out the test token and records the scopes asked. */
export function testCredential(token = ARM.token) {
  const scopes: string[][] = [];
  return {
    scopes,
    getToken: async (s: string | string[]) => {
      scopes.push(Array.isArray(s) ? s : [s]);
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}
