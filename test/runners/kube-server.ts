/**
 * A stand-in for the Kubernetes API server's batch/v1 Jobs and core/v1
 * Pods endpoints, on 127.0.0.1. No cluster runs here; this answers with
 * the real API's shapes (Job objects with metadata and status, PodList,
 * `Status` objects for errors such as AlreadyExists and NotFound) and
 * keeps every request for the test to assert on.
 */
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";

import { recordingListener, type RecordedRequest } from "./recording.js";

/** A request the server received. */
export type KubeRequest = RecordedRequest<any>;

/** What the test makes a Job's pod report. */
export interface FakeJobState {
  status: Record<string, unknown>;
  /** The job container's exit code, once it has terminated. */
  exitCode?: number;
}

/** The fake API server. */
export interface KubeServer {
  url: string;
  requests: KubeRequest[];
  /** Jobs as created, by name. */
  jobs: Map<string, any>;
  /** Sets what a Job reports. */
  set(name: string, state: FakeJobState): void;
  close(): Promise<void>;
}

/** The bearer token the fake server accepts. */
export const KUBE_TOKEN = "test-kube-token";

function statusObject(code: number, reason: string, message: string) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
}

/** Starts the server; `close` stops it. */
export async function startKubeServer(): Promise<KubeServer> {
  const requests: KubeRequest[] = [];
  const jobs = new Map<string, any>();
  const states = new Map<string, FakeJobState>();

  const handle = (
    req: IncomingMessage,
    res: ServerResponse,
    u: URL,
    body: any,
  ) => {
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== `Bearer ${KUBE_TOKEN}`) {
      return send(401, statusObject(401, "Unauthorized", "Unauthorized"));
    }
    const jobsPath = u.pathname.match(
      /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?(\/status)?$/,
    );
    if (jobsPath) {
      const [, ns, name, status] = jobsPath;
      if (req.method === "POST" && !name) {
        const jobName = body.metadata.name as string;
        if (jobs.has(jobName)) {
          return send(409, {
            ...statusObject(
              409,
              "AlreadyExists",
              `jobs.batch "${jobName}" already exists`,
            ),
            details: { name: jobName, group: "batch", kind: "jobs" },
          });
        }
        const created = {
          ...body,
          metadata: {
            ...body.metadata,
            namespace: ns,
            uid: randomUUID(),
            resourceVersion: "1",
            creationTimestamp: new Date().toISOString(),
            labels: {
              ...body.metadata.labels,
              "batch.kubernetes.io/job-name": jobName,
              "job-name": jobName,
            },
          },
          status: {},
        };
        jobs.set(jobName, created);
        return send(201, created);
      }
      const job = name ? jobs.get(name) : undefined;
      if (!job) {
        return send(404, {
          ...statusObject(404, "NotFound", `jobs.batch "${name}" not found`),
          details: { name, group: "batch", kind: "jobs" },
        });
      }
      if (req.method === "GET" && status) {
        return send(200, { ...job, status: states.get(name!)?.status ?? {} });
      }
      if (req.method === "DELETE") {
        jobs.delete(name!);
        return send(200, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: {
            name,
            group: "batch",
            kind: "jobs",
            uid: job.metadata.uid,
          },
        });
      }
    }
    const pods = u.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/);
    if (pods && req.method === "GET") {
      const selector = u.searchParams.get("labelSelector") ?? "";
      const jobName = selector.replace(/^batch\.kubernetes\.io\/job-name=/, "");
      const job = jobs.get(jobName);
      const state = states.get(jobName);
      const items = job
        ? [
            {
              apiVersion: "v1",
              kind: "Pod",
              metadata: {
                name: `${jobName}-x7k2p`,
                namespace: pods[1],
                creationTimestamp: job.metadata.creationTimestamp,
                labels: { "batch.kubernetes.io/job-name": jobName },
              },
              status: {
                phase:
                  state?.exitCode === undefined
                    ? "Running"
                    : state.exitCode === 0
                      ? "Succeeded"
                      : "Failed",
                containerStatuses: job.spec.template.spec.containers.map(
                  (c: any) => ({
                    name: c.name,
                    image: c.image,
                    ready: false,
                    restartCount: 0,
                    state:
                      state?.exitCode === undefined
                        ? { running: { startedAt: new Date().toISOString() } }
                        : {
                            terminated: {
                              exitCode: state.exitCode,
                              reason:
                                state.exitCode === 0 ? "Completed" : "Error",
                            },
                          },
                  }),
                ),
              },
            },
          ]
        : [];
      return send(200, {
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: "7" },
        items,
      });
    }
    send(
      404,
      statusObject(
        404,
        "NotFound",
        `the server could not find the requested resource (${u.pathname})`,
      ),
    );
  };

  const server = http.createServer(
    recordingListener(requests, "http://127.0.0.1", handle),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    jobs,
    set: (name, state) => void states.set(name, state),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
