import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../../libs/bosun/src/config/config.js';
import { READY_PLUS_ACTIVE } from '../../libs/bosun/src/metrics/job.sql.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { EXAMPLE_QUEUES } from '../../libs/examples/src/jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { ROOT } from '../support/processes.js';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

/** The kubernetes-models (and KEDA models) class for each apiVersion/kind the manifests use. */
const MODELS: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

const kubectlVersion = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = !kubectlVersion.error && kubectlVersion.status === 0;
if (!haveKubectl) {
  process.stderr.write('[bosun tests] kubectl not found: the k8s/ render and schema tests are SKIPPED (install kubectl >= 1.27 with kustomize to run them)\n');
}

function render(overlay: string, dir = join('k8s', 'overlays', overlay)): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

async function validate(obj: K8sObject): Promise<void> {
  const module = MODELS[obj.apiVersion];
  if (!module) throw new Error(`${obj.kind}/${obj.metadata.name}: no schema known for apiVersion ${obj.apiVersion}`);
  const Model = (await import(module))[obj.kind];
  if (!Model) throw new Error(`${obj.kind}/${obj.metadata.name}: no schema for kind ${obj.kind} in ${module}`);
  // kustomize wraps long base64 Secret values over lines; the API server's base64 decoder skips newlines, the schema's does not.
  const data = obj.kind === 'Secret' && obj.data ? Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) : obj.data;
  try {
    new Model({ ...obj, ...(data ? { data } : {}) }).validate();
  } catch (error) {
    throw new Error(`${obj.kind}/${obj.metadata.name} does not validate: ${(error as Error).message}`, { cause: error });
  }
}

const find = (objs: K8sObject[], kind: string, name: string) => {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`rendered output has no ${kind}/${name}`);
  return found;
};
const podTemplates = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
const bosunApps = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' && /^bosun-(scheduler|worker)$/.test(o.metadata.name));
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The environment a bosun container would see: its ConfigMap, then its env literals (secrets stubbed). */
function containerEnv(objs: K8sObject[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    if (!cm) throw new Error(`envFrom names ConfigMap ${from.configMapRef?.name}, which is not rendered`);
    Object.assign(env, cm.data);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = 'postgres://from-secret@db:5432/bosun';
    else if (e.valueFrom?.fieldRef) env[e.name] = 'bosun-worker-5d8f7c9b6-x2x9q';
  }
  return env;
}

const describeK8s = haveKubectl ? describe : describe.skip;

describeK8s('k8s/ (kustomize overlays dev and prod)', () => {
  const rendered: Record<string, K8sObject[]> = {};
  beforeAll(() => {
    for (const overlay of ['dev', 'prod']) rendered[overlay] = render(overlay);
  });

  it.each(['dev', 'prod'])('%s: every rendered object validates against the Kubernetes and KEDA schemas', async (overlay) => {
    const objs = rendered[overlay]!;
    expect(objs.length).toBeGreaterThan(8);
    for (const obj of objs) await validate(obj);
    // The validator itself catches a broken object (so a pass above means something).
    const broken = structuredClone(find(objs, 'Deployment', 'bosun-scheduler'));
    broken.spec.replicas = 'two';
    await expect(validate(broken)).rejects.toThrow('spec/replicas must be integer');
    if (overlay === 'prod') {
      const so = structuredClone(find(objs, 'ScaledObject', 'bosun-worker'));
      delete so.spec.triggers[0].type;
      await expect(validate(so)).rejects.toThrow('spec/triggers/0 must have required property type');
    }
  });

  it.each(['dev', 'prod'])('%s: scheduler has 2 replicas, never-unavailable rollouts, topology spread, a PDB and a Service', (overlay) => {
    const objs = rendered[overlay]!;
    const scheduler = find(objs, 'Deployment', 'bosun-scheduler');
    expect(scheduler.spec.replicas).toBe(2);
    expect(scheduler.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    const spread = scheduler.spec.template.spec.topologySpreadConstraints;
    expect(spread.map((c: any) => c.topologyKey)).toContain('kubernetes.io/hostname');
    for (const c of spread) expect(matches(c.labelSelector.matchLabels, scheduler.spec.template.metadata.labels)).toBe(true);
    if (overlay === 'prod') expect(spread[0].whenUnsatisfiable).toBe('DoNotSchedule');

    const pdb = find(objs, 'PodDisruptionBudget', 'bosun-scheduler');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(matches(pdb.spec.selector.matchLabels, scheduler.spec.template.metadata.labels)).toBe(true);
    const svc = find(objs, 'Service', 'bosun-scheduler');
    expect(matches(svc.spec.selector, scheduler.spec.template.metadata.labels)).toBe(true);
    expect(scheduler.spec.template.spec.containers[0].ports.map((p: any) => p.name)).toContain(svc.spec.ports[0].targetPort);
  });

  it.each(['dev', 'prod'])('%s: every pod runs restricted: non-root, read-only root with /tmp emptyDir, drop ALL, seccomp, requests and limits', (overlay) => {
    for (const obj of podTemplates(rendered[overlay]!)) {
      const pod = obj.spec.template.spec;
      const where = `${obj.kind}/${obj.metadata.name}`;
      expect({ where, ctx: pod.securityContext }).toMatchObject({ where, ctx: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect({ where, automount: pod.automountServiceAccountToken }).toEqual({ where, automount: false });
      for (const c of pod.containers) {
        expect({ where, sc: c.securityContext }).toMatchObject({
          where, sc: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
        });
        for (const kind of ['requests', 'limits']) expect({ where, kind, r: c.resources[kind] }).toMatchObject({ where, kind, r: { cpu: expect.anything(), memory: expect.anything() } });
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        expect({ where, tmp: !!tmp }).toEqual({ where, tmp: true });
        expect(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      }
    }
  });

  it.each(['dev', 'prod'])('%s: probes map to the three endpoints; the grace period outlasts preStop plus the drain timeout', (overlay) => {
    const objs = rendered[overlay]!;
    for (const app of bosunApps(objs)) {
      const c = app.spec.template.spec.containers[0];
      const env = containerEnv(objs, c);
      const config = loadConfig(env, { requireDatabaseUrl: true }); // the app's own validation accepts the manifest's settings
      const http = c.ports.find((p: any) => p.name === 'http');
      expect(http.containerPort).toBe(config.port);
      expect([c.startupProbe.httpGet, c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
        { path: '/health/startup', port: 'http' },
        { path: '/health/live', port: 'http' },
        { path: '/health/ready', port: 'http' },
      ]);
      const preStopSeconds = Number(c.lifecycle.preStop.exec.command.at(-1));
      expect(c.lifecycle.preStop.exec.command[0]).toBe('sleep');
      expect(app.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + config.drainTimeoutSeconds);
      const entry = c.command.at(-1);
      expect(existsSync(join(ROOT, entry))).toBe(true); // dist/apps/<app>/main.js, built by npm test
      expect(entry).toBe(`dist/apps/${app.metadata.name.replace('bosun-', '')}/main.js`);
    }
    const job = find(objs, 'Job', 'bosun-migrate');
    const migrate = job.spec.template.spec.containers[0];
    expect(migrate.command).toEqual(['node', 'bin/bosun.js', 'migrate']);
    expect(existsSync(join(ROOT, 'bin', 'bosun.js'))).toBe(true);
    expect(loadConfig(containerEnv(objs, migrate), { requireDatabaseUrl: true }).databaseUrl).toBeDefined();
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it.each(['dev', 'prod'])('%s: a NetworkPolicy covers every bosun pod, letting in HTTP and out DNS and Postgres only', (overlay) => {
    const objs = rendered[overlay]!;
    const policy = find(objs, 'NetworkPolicy', 'bosun');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const obj of podTemplates(objs).filter((o) => o.metadata.name !== 'bosun-postgres')) {
      expect({ pod: obj.metadata.name, covered: matches(policy.spec.podSelector.matchLabels, obj.spec.template.metadata.labels) }).toEqual({ pod: obj.metadata.name, covered: true });
    }
    expect(policy.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([3000]);
    expect(policy.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([53, 53, 5432]);
  });

  it('prod: workers scale with KEDA on their queues (auth from the Secret), and nothing else scales them', () => {
    const objs = rendered.prod!;
    const worker = find(objs, 'Deployment', 'bosun-worker');
    expect(worker.spec.replicas).toBeUndefined();
    const so = find(objs, 'ScaledObject', 'bosun-worker');
    expect(so.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
    expect(so.spec.fallback).toMatchObject({ failureThreshold: expect.any(Number), replicas: expect.any(Number) });
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe('postgresql');
    expect(Number(trigger.metadata.targetQueryValue)).toBeGreaterThan(0);
    const auth = find(objs, 'TriggerAuthentication', trigger.authenticationRef.name);
    const workerDbRef = worker.spec.template.spec.containers[0].env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef;
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'connection', name: workerDbRef.name, key: workerDbRef.key }]);
    // The query counts exactly the queues the workers serve.
    const served = containerEnv(objs, worker.spec.template.spec.containers[0]).BOSUN_QUEUES!.split(',');
    expect(queuesInQuery(trigger.metadata.query).sort()).toEqual([...served].sort());
    expect(objs.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('monitoring (Prometheus Operator): PodMonitor scrapes the app pods; alert rules pass promtool and use real metric names', async () => {
    const objs = render('monitoring', join('k8s', 'monitoring'));
    for (const obj of objs) await validate(obj);
    const podMonitor = find(objs, 'PodMonitor', 'bosun');
    for (const app of bosunApps(rendered.prod!)) {
      expect(matches(podMonitor.spec.selector.matchLabels, app.spec.template.metadata.labels)).toBe(true);
      const ports = app.spec.template.spec.containers[0].ports.map((p: any) => p.name);
      expect(ports).toContain(podMonitor.spec.podMetricsEndpoints[0].port);
    }
    expect(podMonitor.spec.podMetricsEndpoints[0].path).toBe('/metrics');

    const rule = find(objs, 'PrometheusRule', 'bosun');
    const declared = new Set([...readFileSync(join(ROOT, 'libs/bosun/src/metrics/metrics.service.ts'), 'utf8').matchAll(/\$\{METRIC_PREFIX\}(\w+)`/g)].map((m) => `bosun_${m[1]}`));
    const used = rule.spec.groups.flatMap((g: any) => g.rules.flatMap((r: any) => [...String(r.expr).matchAll(/bosun_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((n: string) => !declared.has(n))).toEqual([]);
    const file = join(tmpdir(), `bosun-rules-${process.pid}.yaml`);
    writeFileSync(file, stringify({ groups: rule.spec.groups }));
    const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    if (check.error) {
      if (process.env.CI) throw new Error('promtool is missing: install the Debian package `prometheus` (apt-get install -y prometheus); .ci/run does this');
      process.stderr.write('[bosun tests] promtool not found: alert rules not checked\n');
    } else {
      expect({ status: check.status, out: check.stderr }).toEqual({ status: 0, out: '' });
      const rules = rule.spec.groups.reduce((n: number, g: any) => n + g.rules.length, 0);
      expect(check.stdout).toContain(`SUCCESS: ${rules} rules found`);
    }
  });

  it('dev: workers scale on CPU with an HPA (no KEDA)', () => {
    const objs = rendered.dev!;
    const hpa = find(objs, 'HorizontalPodAutoscaler', 'bosun-worker');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'bosun-worker' });
    expect(hpa.spec.metrics[0]).toMatchObject({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } });
    expect(objs.filter((o) => o.apiVersion.startsWith('keda.sh'))).toEqual([]);
    // The generated Secret is the one the pods read.
    const secret = objs.find((o) => o.kind === 'Secret')!;
    const ref = find(objs, 'Deployment', 'bosun-worker').spec.template.spec.containers[0].env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef;
    expect(ref.name).toBe(secret.metadata.name);
  });
});

function queuesInQuery(query: string): string[] {
  const list = /name IN \(([^)]*)\)/.exec(query)?.[1];
  if (!list) throw new Error(`no "name IN (...)" list in the KEDA query: ${query}`);
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

/** The prod trigger's query text, read from the manifest file itself (no kubectl needed for this part). */
function kedaQuery(): string {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'k8s', 'overlays', 'prod', 'worker-keda.yaml'), 'utf8')).map((d) => d.toJS());
  return docs.find((d) => d.kind === 'ScaledObject').spec.triggers[0].metadata.query;
}

describe('the KEDA trigger query on a real bosun database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('keda');
  });
  afterAll(async () => db.drop());

  it('counts ready + active jobs of the served queues: not deferred, blocked, finished, failed, or other queues', async () => {
    class Any {}
    const elsewhere = defineQueue('not-served', { payload: Any });
    const { app, boss } = await startBosun({ connectionString: db.url, queues: [...EXAMPLE_QUEUES, elsewhere] });
    try {
      const b = boss.boss;
      const ids = async (queue: string, n: number, options: object = {}) => Promise.all(Array.from({ length: n }, () => b.send(queue, { to: 'a@b.c', subject: 's' }, options)));
      await ids('email', 3); // ready
      await ids('payments.reminders', 2); // ready
      await ids('housekeeping', 2, { startAfter: 3600 }); // deferred: not counted
      await ids('not-served', 4); // another queue: not counted
      const blocked = await ids('housekeeping', 1);
      await db.pool.query('UPDATE pgboss.job SET blocked = true WHERE id = $1', [blocked[0]]); // waiting on a flow parent

      // payments.reminders: 2 fetched (active), then one of them fails with retries left -> retry, made ready again.
      await ids('payments.reminders', 3);
      const active = await b.fetch('payments.reminders', { batchSize: 2 });
      expect(active).toHaveLength(2);
      await b.fail('payments.reminders', active[0]!.id, new Error('try again'));
      await db.pool.query(`UPDATE pgboss.job SET start_after = now() - interval '1 second' WHERE id = $1 AND state = 'retry'`, [active[0]!.id]);
      // email: one completed and one failed for good (retries exhausted) are not work.
      const [done] = await b.fetch('email', { batchSize: 1 });
      await b.complete('email', done!.id);
      const [dead] = await b.fetch('email', { batchSize: 1 });
      await db.pool.query(`UPDATE pgboss.job SET retry_limit = retry_count WHERE id = $1`, [dead!.id]);
      await b.fail('email', dead!.id, new Error('gone'));

      const states = (await db.pool.query(`SELECT name, state::text, count(*)::int AS n FROM pgboss.job GROUP BY 1, 2 ORDER BY 1, 2`)).rows;
      expect(states).toEqual(expect.arrayContaining([
        { name: 'email', state: 'completed', n: 1 }, { name: 'email', state: 'failed', n: 1 },
        { name: 'payments.reminders', state: 'retry', n: 1 }, { name: 'payments.reminders', state: 'active', n: 1 },
      ]));

      // email: 1 ready left; payments.reminders: 3 ready + 1 retry (ready) + 1 active. Total work for the workers: 6.
      const { rows } = await db.pool.query(kedaQuery());
      expect(Number(rows[0].count)).toBe(6);
      // The library's own count (used by readiness and docs) agrees.
      const served = queuesInQuery(kedaQuery());
      expect((await db.pool.query(READY_PLUS_ACTIVE, [served])).rows[0].jobs).toBe(6);
    } finally {
      await app.close();
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage on node:24-slim, installs production dependencies only, and runs as non-root', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const froms = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f[1]).toBe('node:24-slim');
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER (1000|node)/m);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=deps .*node_modules/);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', 'dist']) expect(ignore).toContain(entry);
    // What the image copies exists in the repository.
    for (const m of runtime.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) /gm)) expect(existsSync(join(ROOT, m[1]!))).toBe(true);
  });
});
