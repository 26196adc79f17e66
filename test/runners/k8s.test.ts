import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { KubeConfig, type V1Job } from "@kubernetes/client-node";

import { ConfigError } from "../../src/errors.js";
import { K8sRunner, KEY_ANNOTATION } from "../../src/runners/k8s.js";
import { KUBE_TOKEN, startKubeServer, type KubeServer } from "./kube-server.js";

let kube: KubeServer;

before(async () => {
  kube = await startKubeServer();
});

after(() => kube.close());

function template(): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { labels: { app: "durascribe" } },
    spec: {
      ttlSecondsAfterFinished: 3600,
      template: {
        spec: {
          containers: [
            {
              name: "job",
              image: "example.io/durascribe:1.0",
              env: [
                { name: "DURASCRIBE_MODEL", value: "base.en" },
                {
                  name: "AZURE_STORAGE_CONNECTION_STRING",
                  valueFrom: { secretKeyRef: { name: "storage", key: "cs" } },
                },
              ],
            },
          ],
        },
      },
    },
  };
}

function runner(opts: { deleteSucceeded?: boolean; token?: string } = {}) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server: kube.url, skipTLSVerify: true }],
    users: [{ name: "test", token: opts.token ?? KUBE_TOKEN }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return new K8sRunner({
    kubeConfig: kc,
    namespace: "transcribe",
    template: template(),
    deleteSucceeded: opts.deleteSucceeded,
  });
}

const env = {
  VIDEO_URL: "https://cdn.example/a.mp4",
  DURASCRIBE_MODEL: "tiny.en",
};

test("start creates a batch/v1 Job from the template with the spec's environment", async () => {
  const from = kube.requests.length;

  const name = await runner().start({ key: "batch/v/3#2", env });

  const post = kube.requests.slice(from).find((r) => r.method === "POST")!;
  assert.equal(post.path, "/apis/batch/v1/namespaces/transcribe/jobs");
  const job = post.body;
  assert.equal(job.kind, "Job");
  assert.equal(job.metadata.name, name);
  assert.match(name, /^durascribe-[a-z0-9-]+$/);
  assert.ok(name.length <= 63);
  assert.equal(job.metadata.annotations[KEY_ANNOTATION], "batch/v/3#2");
  assert.equal(job.metadata.labels.app, "durascribe");
  assert.equal(job.spec.backoffLimit, 0);
  assert.equal(job.spec.ttlSecondsAfterFinished, 3600);
  assert.equal(job.spec.template.spec.restartPolicy, "Never");
  const vars = job.spec.template.spec.containers[0].env;
  assert.deepEqual(vars, [
    {
      name: "AZURE_STORAGE_CONNECTION_STRING",
      valueFrom: { secretKeyRef: { name: "storage", key: "cs" } },
    },
    { name: "VIDEO_URL", value: env.VIDEO_URL },
    { name: "DURASCRIBE_MODEL", value: "tiny.en" },
  ]);
});

test("starting the same key twice keeps the one Job (AlreadyExists)", async () => {
  const r = runner();
  const a = await r.start({ key: "same#1", env });
  const b = await r.start({ key: "same#1", env });

  assert.equal(a, b);
  assert.equal(
    kube.requests.filter(
      (q) => q.method === "POST" && q.body.metadata.name === a,
    ).length,
    2,
  );
});

test("status follows the Job's conditions and reads the exit code from its pod", async () => {
  const r = runner();
  const name = await r.start({ key: "states#1", env });

  assert.deepEqual(await r.status(name), { state: "Processing" });
  kube.set(name, { status: { active: 1 } });
  assert.deepEqual(await r.status(name), { state: "Running" });
  kube.set(name, {
    status: {
      failed: 1,
      conditions: [
        {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
        },
      ],
    },
    exitCode: 3,
  });
  assert.deepEqual(await r.status(name), {
    state: "Failed",
    exitCode: 3,
    detail: "BackoffLimitExceeded: Job has reached the specified backoff limit",
  });
  const pods = kube.requests.filter((q) => q.path.endsWith("/pods")).at(-1)!;
  assert.equal(
    pods.query.get("labelSelector"),
    `batch.kubernetes.io/job-name=${name}`,
  );
});

test("a succeeded Job is deleted with its pods when the policy says so", async () => {
  const r = runner({ deleteSucceeded: true });
  const name = await r.start({ key: "done#1", env });
  kube.set(name, {
    status: {
      succeeded: 1,
      conditions: [{ type: "Complete", status: "True" }],
    },
    exitCode: 0,
  });

  assert.deepEqual(await r.status(name), { state: "Succeeded", exitCode: 0 });

  const del = kube.requests.find(
    (q) => q.method === "DELETE" && q.path.endsWith(`/jobs/${name}`),
  )!;
  assert.equal(del.query.get("propagationPolicy"), "Background");
  assert.ok(!kube.jobs.has(name));
});

test("a succeeded Job is kept when the policy does not say to delete it", async () => {
  const r = runner();
  const name = await r.start({ key: "kept#1", env });
  kube.set(name, {
    status: {
      succeeded: 1,
      conditions: [{ type: "Complete", status: "True" }],
    },
    exitCode: 0,
  });

  await r.status(name);

  assert.ok(kube.jobs.has(name));
});

test("stop deletes the Job, and a Job that is gone is Unknown", async () => {
  const r = runner();
  const name = await r.start({ key: "stop#1", env });

  await r.stop(name);

  assert.ok(!kube.jobs.has(name));
  assert.deepEqual(await r.status(name), { state: "Unknown" });
});

test("a refused token is a permanent configuration error", async () => {
  await assert.rejects(
    runner({ token: "wrong" }).start({ key: "x#1", env }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /HTTP 401/);
      return true;
    },
  );
});

test("a template without the named container is refused when the runner is made", () => {
  const kc = new KubeConfig();
  assert.throws(
    () =>
      new K8sRunner({
        kubeConfig: kc,
        namespace: "x",
        template: template(),
        container: "whisper",
      }),
    /no container named "whisper".*it has job/,
  );
});
