import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/db.js';
import { get } from '../support/http.js';
import { alive, NODE, ROOT, spawnApp, waitForStatus, type AppProcess } from '../support/processes.js';
import { promtoolCheck, sample } from '../support/promtool.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

/**
 * Real scheduler and worker processes whose database connection goes through a proxy the test cuts and
 * restores: probes in each state, metrics through promtool, JSON logs at LOG_LEVEL, and no restart needed.
 */
describe('operations: all apps through start-up, a database outage and shutdown', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let url: string;
  const procs: AppProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('ops_e2e');
    const admin = new URL(adminUrl());
    proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    const u = new URL(db.url);
    u.host = `127.0.0.1:${proxy.port}`;
    url = u.toString();
  });
  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await proxy.close();
    await db.drop();
  });

  it('starting, ready, database down then back, metrics, logs, SIGTERM', async () => {
    const scheduler = spawnApp('scheduler', { DATABASE_URL: url, BOSUN_INSTANCE_ID: 'ops-sched', BOSUN_QUEUE_METRICS: 'always', BOSUN_QUEUE_METRICS_INTERVAL_SECONDS: '1' });
    const scheduler2 = spawnApp('scheduler', { DATABASE_URL: url, BOSUN_INSTANCE_ID: 'ops-sched-2', BOSUN_QUEUE_METRICS: 'off' });
    const worker = spawnApp('worker', { DATABASE_URL: url, BOSUN_INSTANCE_ID: 'ops-worker', LOG_LEVEL: 'warn' });
    procs.push(scheduler, scheduler2, worker);
    const apps = [scheduler, scheduler2, worker];

    // Starting (schema not migrated): alive, not started, and the startup probe says what to do.
    for (const p of apps) {
      await waitForStatus(`${p.url}/health/live`, 200);
      const startup = await waitFor(async () => {
        const r = await get(`${p.url}/health/startup`);
        return String(r.body?.error?.schema?.message).includes('bosun migrate') ? r : undefined;
      }, `${p.url} startup probe to explain`);
      expect(startup.status).toBe(503);
      expect(startup.body.error.schema.message).toMatch(/database schema is behind: .*run `bosun migrate`/);
      expect((await get(`${p.url}/health/ready`)).status).toBe(503);
    }

    // The migration Job's command; the apps start without a restart.
    // (async: the proxy lives in this process, so a synchronous child would deadlock on it)
    const migrated = await promisify(execFile)(NODE, [join(ROOT, 'bin', 'bosun.js'), 'migrate'], { env: { ...process.env, DATABASE_URL: url } });
    expect(migrated.stdout).toMatch(/bosun schema at version \d+/);
    for (const p of apps) {
      await waitForStatus(`${p.url}/health/startup`, 200);
      await waitForStatus(`${p.url}/health/ready`, 200);
    }
    // Two schedulers: at most one leads, and the standby is ready too, with leadership as a detail.
    const leadership = await Promise.all([scheduler, scheduler2].map(async (p) => (await get(`${p.url}/health/ready`)).body.details.leadership));
    for (const l of leadership) expect(l).toMatchObject({ status: 'up', isLeader: expect.any(Boolean) });
    expect(leadership.filter((l) => l.isLeader).length).toBeLessThanOrEqual(1);
    expect(leadership.some((l) => l.isLeader === false)).toBe(true);

    // Metrics of apps apps pass promtool; the scheduler publishes queue gauges (BOSUN_QUEUE_METRICS=always).
    const schedulerMetrics = await waitFor(async () => {
      const t = (await get(`${scheduler.url}/metrics`)).text;
      return sample(t, 'bosun_queue_jobs', { queue: 'email', state: 'ready' }) !== undefined ? t : undefined;
    }, 'scheduler queue gauges');
    const workerMetrics = (await get(`${worker.url}/metrics`)).text;
    expect(sample(schedulerMetrics, 'bosun_info', { role: 'scheduler', instance: 'ops-sched' })).toBe(1);
    expect(sample(workerMetrics, 'bosun_info', { role: 'worker', instance: 'ops-worker' })).toBe(1);
    expect(sample(workerMetrics, 'bosun_queue_jobs', { queue: 'email', state: 'ready' })).toBeUndefined(); // only the publisher
    for (const text of [schedulerMetrics, workerMetrics]) {
      const lint = promtoolCheck(text);
      if (lint.ran) expect({ code: lint.code, output: lint.output }).toEqual({ code: 0, output: '' });
    }

    // Database down: apps stay alive and live, and go unready.
    const pids = apps.map((p) => p.child.pid!);
    await proxy.cut();
    for (const p of apps) {
      const down = await waitFor(async () => {
        const r = await get(`${p.url}/health/ready`);
        return r.status === 503 ? r : undefined;
      }, `${p.url} unready while the database is down`);
      expect(down.body.error.database.status).toBe('down');
      expect((await get(`${p.url}/health/live`)).status).toBe(200);
      expect((await get(`${p.url}/health/startup`)).status).toBe(200); // started once: the startup probe never restarts it
    }
    expect((await get(`${scheduler.url}/metrics`)).status).toBe(200);

    // Database back: ready again, same processes.
    await proxy.restore();
    for (const p of apps) await waitForStatus(`${p.url}/health/ready`, 200, 30_000);
    expect(apps.map((p) => p.child.pid)).toEqual(pids);
    expect(pids.every(alive)).toBe(true);

    // SIGTERM: clean exit 0.
    const exits = await Promise.all(apps.map((p) => p.stop('SIGTERM')));
    expect(exits).toEqual(apps.map(() => ({ code: 0, signal: null })));

    // Logs: JSON lines with level, time and instance; the worker at LOG_LEVEL=warn wrote no info or debug line.
    const workerLogs = worker.logs();
    expect(workerLogs.length).toBeGreaterThan(0);
    for (const line of workerLogs) expect(line).toMatchObject({ level: expect.stringMatching(/^(warn|error|fatal)$/), time: expect.any(String), instance: 'ops-worker' });
    expect(workerLogs.some((l) => String(l.msg).includes('not starting yet: database schema is behind'))).toBe(true);
    const schedulerLogs = scheduler.logs();
    expect(schedulerLogs.some((l) => l.level === 'info' && l.msg === 'bosun started' && l.instance === 'ops-sched')).toBe(true);
  });
});
