/**
 * The hub's metrics in the Prometheus text format (version 0.0.4): what
 * the dispatcher reports as it works (cheap counters, updated in place),
 * and gauges read when scraped (instances by status, work in flight).
 */
import type { DispatchObserver, WorkKind } from "../dispatch/dispatcher.js";
import type { HubServer } from "../server.js";
import { STATUS_NAMES } from "./params.js";

/** Upper bounds of the latency buckets, in seconds. */
const DISPATCH_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
  60,
];
const COMMIT_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

type Labels = Record<string, string>;

interface Series {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram with one series per task hub and work kind. Observing is on
 * the dispatch path: two map lookups and a short scan, no allocation.
 */
class Histogram {
  private readonly series = new Map<string, Map<WorkKind, Series>>();

  constructor(private readonly bounds: readonly number[]) {}

  observe(taskHub: string, kind: WorkKind, value: number): void {
    let byKind = this.series.get(taskHub);
    if (!byKind) {
      byKind = new Map<WorkKind, Series>();
      this.series.set(taskHub, byKind);
    }
    let s = byKind.get(kind);
    if (!s) {
      s = { counts: this.bounds.map(() => 0), sum: 0, count: 0 };
      byKind.set(kind, s);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  lines(name: string): string[] {
    const out: string[] = [];
    for (const [taskhub, byKind] of this.series) {
      for (const [kind, s] of byKind) {
        const labels = { taskhub, kind };
        let cumulative = 0;
        this.bounds.forEach((b, i) => {
          cumulative += s.counts[i]!;
          out.push(
            sample(`${name}_bucket`, { ...labels, le: String(b) }, cumulative),
          );
        });
        out.push(sample(`${name}_bucket`, { ...labels, le: "+Inf" }, s.count));
        out.push(sample(`${name}_sum`, labels, s.sum));
        out.push(sample(`${name}_count`, labels, s.count));
      }
    }
    return out;
  }
}

/** Collects dispatch metrics and renders every metric of a hub. */
export class HubMetrics implements DispatchObserver {
  private readonly dispatch = new Histogram(DISPATCH_BUCKETS);
  private readonly commits = new Histogram(COMMIT_BUCKETS);
  private readonly activities = new Map<
    string,
    { succeeded: number; failed: number }
  >();

  dispatched(taskHub: string, kind: WorkKind, waitMs: number): void {
    this.dispatch.observe(taskHub, kind, Math.max(0, waitMs) / 1000);
  }

  committed(taskHub: string, kind: WorkKind, ms: number): void {
    this.commits.observe(taskHub, kind, ms / 1000);
  }

  activitiesCompleted(
    taskHub: string,
    succeeded: number,
    failed: number,
  ): void {
    let c = this.activities.get(taskHub);
    if (!c) this.activities.set(taskHub, (c = { succeeded: 0, failed: 0 }));
    c.succeeded += succeeded;
    c.failed += failed;
  }

  /** The exposition text for `hub`: its task hubs opened in this process. */
  async render(hub: HubServer): Promise<string> {
    const names = hub.taskHubNames;
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family(
      "durascribe_instances",
      "gauge",
      "Orchestration instances in the store by runtime status.",
    );
    for (const name of names) {
      const counts = await hub
        .taskHub(name)
        .dispatcher.store.countInstances({});
      const by = new Map(counts.map((c) => [c.status, c.count]));
      for (const [value, status] of STATUS_NAMES) {
        out.push(
          sample(
            "durascribe_instances",
            { taskhub: name, status },
            by.get(value) ?? 0,
          ),
        );
      }
    }

    family(
      "durascribe_work_items_in_flight",
      "gauge",
      "Work items sent to workers and not yet completed.",
    );
    family(
      "durascribe_worker_streams",
      "gauge",
      "Connected GetWorkItems streams.",
    );
    for (const name of names) {
      const s = hub.taskHub(name).dispatcher.stats();
      out.push(
        sample(
          "durascribe_work_items_in_flight",
          { taskhub: name, kind: "orchestration" },
          s.orchestrations,
        ),
      );
      out.push(
        sample(
          "durascribe_work_items_in_flight",
          { taskhub: name, kind: "activity" },
          s.activities,
        ),
      );
      out.push(
        sample("durascribe_worker_streams", { taskhub: name }, s.streams),
      );
    }

    family(
      "durascribe_dispatch_latency_seconds",
      "histogram",
      "Time from work becoming visible to its work item being sent to a worker.",
    );
    out.push(...this.dispatch.lines("durascribe_dispatch_latency_seconds"));

    family(
      "durascribe_activities_completed_total",
      "counter",
      "Activity results recorded, by outcome.",
    );
    for (const [taskhub, c] of this.activities) {
      for (const outcome of ["succeeded", "failed"] as const) {
        out.push(
          sample(
            "durascribe_activities_completed_total",
            { taskhub, outcome },
            c[outcome],
          ),
        );
      }
    }

    family(
      "durascribe_store_commit_seconds",
      "histogram",
      "Duration of store commits of work item results.",
    );
    out.push(...this.commits.lines("durascribe_store_commit_seconds"));
    return out.join("\n") + "\n";
  }
}

/** One sample line with escaped label values. */
function sample(name: string, labels: Labels, value: number): string {
  const text = Object.entries(labels)
    .map(
      ([k, v]) =>
        `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");
  return `${name}${text ? `{${text}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}
