/**
 * The hub's gRPC server: TaskHubSidecarService on one port, task hubs chosen
 * by the `taskhub` metadata, optional bearer-token auth, clean shutdown.
 */
import { timingSafeEqual } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  Dispatcher,
  errorText,
  type DispatchObserver,
  type DispatchOptions,
} from "./dispatch/dispatcher.js";
import { HubError, invalidArgument } from "./errors.js";
import { HubService } from "./service.js";
import {
  Empty,
  encodeHistoryChunk,
  grpcPb,
  isTerminal,
  pb,
  Status,
} from "./protocol.js";
import type { Store } from "./store/store.js";
import { Logger, silentLogger } from "../logger.js";

/** Options of a hub server. */
export interface HubServerOptions {
  store: Store;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** When set, every call must carry `authorization: Bearer <token>`. */
  token?: string;
  logger?: Logger;
  dispatch?: Partial<DispatchOptions>;
  /** Told about dispatch and commits (the dashboard's metrics). */
  observer?: DispatchObserver;
}

/** Defaults of dispatch; see DispatchOptions. */
export const DEFAULT_DISPATCH: DispatchOptions = {
  maxOrchestrationsPerStream: 64,
  maxActivitiesPerStream: 1000,
  orchestrationLockMs: 2 * 60_000,
  activityLockMs: 10 * 60_000,
  healthPingMs: 10_000,
  maxWorkItemBytes: 4 * 1024 * 1024,
  pollMs: undefined,
  batching: { minHistory: 200, ratio: 2, maxHoldMs: 1000 },
};

const TASK_HUB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** True when `name` is a valid task hub name. */
export function isTaskHubName(name: string): boolean {
  return TASK_HUB_NAME.test(name);
}

/** Methods the hub does not serve yet, with the reason given to callers. */
const NOT_BUILT: Record<string, string> = {
  rewindInstance: "rewinding instances",
  restartInstance: "restarting instances",
  signalEntity: "durable entities",
  getEntity: "durable entities",
  queryEntities: "durable entities",
  cleanEntityStorage: "durable entities",
  completeEntityTask: "durable entities",
  abandonTaskEntityWorkItem: "durable entities",
  createTaskHub:
    "creating task hubs by call (task hubs are created on first use)",
  deleteTaskHub: "deleting task hubs by call",
  skipGracefulOrchestrationTerminations: "skipping graceful terminations",
};

/** One task hub's dispatch and client operations. */
export interface TaskHub {
  dispatcher: Dispatcher;
  service: HubService;
}

type Call =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>;

/** A running hub. */
export class HubServer {
  private readonly server = new grpc.Server({
    "grpc.keepalive_time_ms": 20_000,
    "grpc.keepalive_timeout_ms": 10_000,
  });
  private readonly hubs = new Map<string, TaskHub>();
  private readonly streams = new Set<
    grpc.ServerWritableStream<unknown, unknown>
  >();
  private readonly log: Logger;
  private readonly dispatch: DispatchOptions;
  private boundPort = 0;

  constructor(private readonly options: HubServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: "hub" });
    this.dispatch = {
      ...DEFAULT_DISPATCH,
      pollMs: options.store.pollMs,
      ...options.dispatch,
    };
    options.store.subscribe((name, at, instanceId) => {
      const hub = this.hubs.get(name);
      if (instanceId) hub?.dispatcher.waiters.notify(instanceId);
      hub?.dispatcher.wakeAt(at);
    });
    this.server.addService(serviceDefinition(), this.handlers());
  }

  /** The port the server listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** The host the server listens on. */
  get host(): string {
    return this.options.host ?? "127.0.0.1";
  }

  /** Binds and starts serving. */
  async start(): Promise<void> {
    const address = `${this.host}:${this.options.port ?? 8080}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        address,
        grpc.ServerCredentials.createInsecure(),
        (err, port) =>
          err
            ? reject(new Error(`cannot listen on ${address}: ${err.message}`))
            : resolve(port),
      ),
    );
    // Open the default task hub now, so due timers fire without a caller.
    this.taskHub("default");
  }

  /** Ends streams, stops serving and closes the store. */
  async stop(): Promise<void> {
    for (const hub of this.hubs.values()) await hub.dispatcher.close();
    for (const call of this.streams) call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), 2000);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.options.store.close();
  }

  /** The dispatcher of a task hub, for tests and metrics. */
  dispatcherOf(name: string): Dispatcher {
    return this.taskHub(name).dispatcher;
  }

  /** Names of the task hubs opened so far by this process. */
  get taskHubNames(): string[] {
    return [...this.hubs.keys()];
  }

  /** A task hub's operations (opened on first use), as gRPC calls get it. */
  taskHub(name: string): TaskHub {
    let hub = this.hubs.get(name);
    if (!hub) {
      const dispatcher = new Dispatcher(
        this.options.store.taskHub(name),
        this.dispatch,
        this.log.child({ taskhub: name }),
        this.options.observer,
      );
      hub = { dispatcher, service: new HubService(dispatcher) };
      this.hubs.set(name, hub);
      dispatcher.wake();
    }
    return hub;
  }

  /** Checks auth and resolves the task hub of a call. */
  private resolve(call: Call): TaskHub {
    const md = call.metadata;
    if (this.options.token !== undefined) {
      const header = String(md.get("authorization")[0] ?? "");
      const expected = `Bearer ${this.options.token}`;
      const ok =
        header.length === expected.length &&
        timingSafeEqual(Buffer.from(header), Buffer.from(expected));
      if (!ok) {
        throw new HubError(
          grpc.status.UNAUTHENTICATED,
          header
            ? "the bearer token is not valid for this hub"
            : "this hub requires `authorization: Bearer <token>` metadata",
        );
      }
    }
    const name = String(md.get("taskhub")[0] ?? "default");
    if (!TASK_HUB_NAME.test(name)) {
      throw invalidArgument(
        "taskhub metadata",
        `"${name}" is not a valid task hub name (letters, digits, _ and -, up to 64)`,
      );
    }
    return this.taskHub(name);
  }

  private unary<Req, Res>(
    fn: (
      hub: TaskHub,
      req: Req,
      call: grpc.ServerUnaryCall<Req, Res>,
    ) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      let hub: TaskHub;
      try {
        hub = this.resolve(call);
      } catch (err) {
        callback(toServiceError(err, this.log));
        return;
      }
      fn(hub, call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err, this.log)),
      );
    };
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const h: Record<string, unknown> = {
      hello: this.unary(() => Promise.resolve(new Empty())),
      startInstance: this.unary(
        async (hub, req: InstanceType<typeof pb.CreateInstanceRequest>) => {
          const res = new pb.CreateInstanceResponse();
          res.setInstanceid(await hub.service.startInstance(req));
          return res;
        },
      ),
      getInstance: this.unary(
        (hub, req: InstanceType<typeof pb.GetInstanceRequest>) =>
          hub.service.getInstance(
            req.getInstanceid(),
            req.getGetinputsandoutputs(),
          ),
      ),
      waitForInstanceStart: this.waitHandler(
        (i) => i.status !== Status.PENDING,
      ),
      waitForInstanceCompletion: this.waitHandler((i) => isTerminal(i.status)),
      raiseEvent: this.unary(
        async (hub, req: InstanceType<typeof pb.RaiseEventRequest>) => {
          await hub.service.raiseEvent(req);
          return new pb.RaiseEventResponse();
        },
      ),
      terminateInstance: this.unary(
        async (hub, req: InstanceType<typeof pb.TerminateRequest>) => {
          await hub.service.terminate(req);
          return new pb.TerminateResponse();
        },
      ),
      suspendInstance: this.unary(
        async (hub, req: InstanceType<typeof pb.SuspendRequest>) => {
          await hub.service.suspendResume(
            req.getInstanceid(),
            true,
            req.getReason()?.getValue(),
          );
          return new pb.SuspendResponse();
        },
      ),
      resumeInstance: this.unary(
        async (hub, req: InstanceType<typeof pb.ResumeRequest>) => {
          await hub.service.suspendResume(
            req.getInstanceid(),
            false,
            req.getReason()?.getValue(),
          );
          return new pb.ResumeResponse();
        },
      ),
      queryInstances: this.unary(
        (hub, req: InstanceType<typeof pb.QueryInstancesRequest>) =>
          hub.service.query(req.getQuery() ?? new pb.InstanceQuery()),
      ),
      listInstanceIds: this.unary(
        (hub, req: InstanceType<typeof pb.ListInstanceIdsRequest>) =>
          hub.service.listIds(req),
      ),
      purgeInstances: this.unary(
        async (hub, req: InstanceType<typeof pb.PurgeInstancesRequest>) => {
          const res = new pb.PurgeInstancesResponse();
          res.setDeletedinstancecount(await hub.service.purge(req));
          return res;
        },
      ),
      completeActivityTask: this.unary(
        async (hub, req: InstanceType<typeof pb.ActivityResponse>) => {
          await hub.dispatcher.completeActivity(req);
          return new pb.CompleteTaskResponse();
        },
      ),
      completeOrchestratorTask: this.unary(
        async (hub, req: InstanceType<typeof pb.OrchestratorResponse>) => {
          await hub.dispatcher.completeOrchestration(req);
          return new pb.CompleteTaskResponse();
        },
      ),
      abandonTaskActivityWorkItem: this.unary(
        async (
          hub,
          req: InstanceType<typeof pb.AbandonActivityTaskRequest>,
        ) => {
          await hub.dispatcher.abandon(req.getCompletiontoken());
          return new pb.AbandonActivityTaskResponse();
        },
      ),
      abandonTaskOrchestratorWorkItem: this.unary(
        async (
          hub,
          req: InstanceType<typeof pb.AbandonOrchestrationTaskRequest>,
        ) => {
          await hub.dispatcher.abandon(req.getCompletiontoken());
          return new pb.AbandonOrchestrationTaskResponse();
        },
      ),
      getWorkItems: (call: grpc.ServerWritableStream<unknown, Buffer>) =>
        this.workItems(call),
      streamInstanceHistory: (
        call: grpc.ServerWritableStream<
          InstanceType<typeof pb.StreamInstanceHistoryRequest>,
          Buffer
        >,
      ) => this.streamHistory(call),
    };
    for (const [method, what] of Object.entries(NOT_BUILT)) {
      h[method] = notBuilt(method, what);
    }
    for (const method of Object.keys(grpcPb.TaskHubSidecarServiceService)) {
      h[method] ??= notBuilt(method, "this call");
    }
    return h as grpc.UntypedServiceImplementation;
  }

  private waitHandler(
    done: (i: import("./store/store.js").InstanceRecord) => boolean,
  ): grpc.handleUnaryCall<InstanceType<typeof pb.GetInstanceRequest>, unknown> {
    return this.unary(
      (hub, req: InstanceType<typeof pb.GetInstanceRequest>, call) => {
        const abort = new AbortController();
        call.on("cancelled", () => abort.abort());
        return hub.service
          .waitFor(
            req.getInstanceid(),
            req.getGetinputsandoutputs(),
            done,
            abort.signal,
          )
          .finally(() => abort.abort());
      },
    );
  }

  private workItems(call: grpc.ServerWritableStream<unknown, Buffer>): void {
    let hub: TaskHub;
    try {
      hub = this.resolve(call);
    } catch (err) {
      call.destroy(toServiceError(err, this.log) as Error);
      return;
    }
    this.streams.add(call);
    const close = hub.dispatcher.addStream({
      write: (item) => call.write(item),
    });
    const end = (): void => {
      this.streams.delete(call);
      close();
    };
    call.on("cancelled", end);
    call.on("close", end);
    call.on("error", end);
    call.on("finish", end);
  }

  private streamHistory(
    call: grpc.ServerWritableStream<
      InstanceType<typeof pb.StreamInstanceHistoryRequest>,
      Buffer
    >,
  ): void {
    const run = async (): Promise<void> => {
      const hub = this.resolve(call);
      const events = await hub.service.history(call.request.getInstanceid());
      const CHUNK = 256;
      for (let i = 0; i < events.length || i === 0; i += CHUNK) {
        call.write(encodeHistoryChunk(events.slice(i, i + CHUNK)));
      }
      call.end();
    };
    run().catch((err: unknown) =>
      call.destroy(toServiceError(err, this.log) as Error),
    );
  }
}

function notBuilt(
  method: string,
  what: string,
): grpc.handleUnaryCall<unknown, unknown> {
  return (_call, callback) =>
    callback({
      code: grpc.status.UNIMPLEMENTED,
      details: `${method}: ${what} is not supported by this durascribe hub yet`,
    });
}

function toServiceError(err: unknown, log: Logger): Partial<grpc.ServiceError> {
  if (err instanceof HubError) return { code: err.code, details: err.message };
  log.error("internal error", { error: errorText(err) });
  return {
    code: grpc.status.INTERNAL,
    details: `internal error: ${errorText(err)}`,
  };
}

/** The generated service definition with byte pass-through for streams. */
function serviceDefinition(): grpc.ServiceDefinition {
  const base =
    grpcPb.TaskHubSidecarServiceService as unknown as grpc.ServiceDefinition;
  const passThrough = (b: Buffer): Buffer => b;
  return {
    ...base,
    getWorkItems: { ...base.getWorkItems!, responseSerialize: passThrough },
    streamInstanceHistory: {
      ...base.streamInstanceHistory!,
      responseSerialize: passThrough,
    },
  };
}
