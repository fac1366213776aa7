import { simQueue, type SimJob } from '../../bench/sim/sim-queue.js';
import type { QueueClient } from '../../libs/bosun/src/queues/queue-client.js';
import { BosunClient } from '../../libs/bosun/src/queues/queue-client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { alive, spawnScript, type AppProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/** Real worker processes (bench/sim/main.js: the sim queue, concurrency 5, heartbeat 10 s) against real Postgres. */
describe('worker processes', () => {
  let db: TestDatabase;
  let client: Awaited<ReturnType<typeof startBosun>>;
  let sim: QueueClient<SimJob>;
  const processes: AppProcess[] = [];

  function startWorker(instance: string, env: Record<string, string> = {}): AppProcess {
    const p = spawnScript('bench/sim/main.js', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: instance, ...env });
    processes.push(p);
    return p;
  }
  const serving = (p: AppProcess) => waitFor(() => p.logs().some((l) => l.msg === 'worker runtime started'), 'the worker to serve its queues', 30_000);

  async function states(ids: string[]): Promise<Record<string, number>> {
    const { rows } = await db.pool.query(`SELECT state, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) GROUP BY state`, [ids]);
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
  async function outputs(ids: string[]) {
    const { rows } = await db.pool.query(`SELECT id, output FROM pgboss.job WHERE id = ANY($1::uuid[])`, [ids]);
    return rows as Array<{ id: string; output: { instance: string; attempt: number } }>;
  }

  beforeAll(async () => {
    db = await createTestDatabase('worker_e2e');
    client = await startBosun({ connectionString: db.url, queues: [simQueue] });
    sim = client.app.get(BosunClient).queue(simQueue);
  });
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await client?.app.close();
    await db?.drop();
  });

  it('kill -9 mid-job: the jobs complete on another worker once their heartbeat lapses, none lost', async () => {
    const a = startWorker('worker-a');
    await serving(a);
    const ids = (await sim.sendMany(Array.from({ length: 5 }, (_, i) => ({ data: { label: `stall-${i}`, ms: 10, stallFirstAttempt: true } })))) as string[];
    await waitFor(async () => (await states(ids)).active === 5, 'worker-a to hold all five jobs');
    const b = startWorker('worker-b');
    await serving(b);
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    await waitFor(async () => (await states(ids)).completed === 5, 'the five jobs to complete on worker-b', 45_000, 200);
    expect(await states(ids)).toEqual({ completed: 5 });
    for (const o of await outputs(ids)) expect(o.output).toEqual({ instance: 'worker-b', attempt: 2 });
    const { rows } = await db.pool.query(`SELECT kind, attempt, instance FROM bosun.job_error WHERE job_id = ANY($1::uuid[])`, [ids]);
    expect(rows).toHaveLength(5);
    for (const r of rows) expect(r).toEqual({ kind: 'heartbeat-lapsed', attempt: 1, instance: null });
    b.child.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM with jobs in flight: stops fetching, lets them finish, exits 0; none lost or left active', async () => {
    const w = startWorker('worker-drain', { BOSUN_DRAIN_TIMEOUT_SECONDS: '20' });
    await serving(w);
    const inFlight = (await sim.sendMany(Array.from({ length: 5 }, (_, i) => ({ data: { label: `drain-${i}`, ms: 1500 } })))) as string[];
    await waitFor(async () => (await states(inFlight)).active === 5, 'five jobs in flight');
    w.child.kill('SIGTERM');
    await waitFor(() => w.logs().some((l) => l.msg === 'draining: stopped fetching, waiting for in-flight jobs'), 'the drain to begin');
    // Sent during the drain: a draining worker must not take them.
    const late = (await sim.sendMany([{ data: { label: 'late-1', ms: 0 } }, { data: { label: 'late-2', ms: 0 } }])) as string[];
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(await states(inFlight)).toEqual({ completed: 5 });
    expect(await states(late)).toEqual({ created: 2 });
    expect(w.logs().find((l) => l.msg === 'drained: every in-flight job finished')).toBeDefined();
    // Someone else's work now: a second worker takes the late ones.
    const next = startWorker('worker-next');
    await waitFor(async () => (await states(late)).completed === 2, 'the late jobs to complete on the next worker');
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM past the drain timeout: aborts, releases the jobs for retry without spending one, exits 0; they complete elsewhere', async () => {
    const w = startWorker('worker-short', { BOSUN_DRAIN_TIMEOUT_SECONDS: '1' });
    await serving(w);
    const ids = (await sim.sendMany(Array.from({ length: 3 }, (_, i) => ({ data: { label: `long-${i}`, ms: 0, stallFirstAttempt: true } })))) as string[];
    await waitFor(async () => (await states(ids)).active === 3, 'three long jobs in flight');
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(alive(w.child.pid!)).toBe(false);
    const { rows } = await db.pool.query(`SELECT state, retry_limit FROM pgboss.job WHERE id = ANY($1::uuid[])`, [ids]);
    expect(rows).toEqual(Array(3).fill({ state: 'retry', retry_limit: 4 }));
    const next = startWorker('worker-after');
    await waitFor(async () => (await states(ids)).completed === 3, 'the released jobs to complete on the next worker');
    for (const o of await outputs(ids)) expect(o.output).toEqual({ instance: 'worker-after', attempt: 2 });
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
  });
});
