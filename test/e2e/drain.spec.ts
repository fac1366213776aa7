import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { migrate } from '../../libs/bosun/src/db/migrate.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { get } from '../support/http.js';
import { startBosun } from '../support/nest.js';
import { alive, NODE, ROOT, spawnScript, waitForStatus } from '../support/processes.js';
import { simQueue } from '../../bench/sim/sim-queue.js';
import { sample } from '../support/promtool.js';
import { waitFor } from '../support/wait.js';

const JOBS = 5;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
class Payload {}
/** A queue no processor serves, so only the fixture's stand-in handlers take its jobs. */
const fixtureQueue = defineQueue('ops.drain-fixture', { payload: Payload });

describe('SIGTERM with jobs in flight (worker app process)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('ops_drain');
    await migrate(db.url);
  });
  afterAll(async () => db.drop());

  it('ready turns 503 at once while in-flight jobs drain; they finish, with job context in the logs, and the process exits 0', async () => {
    const client = await startBosun({ connectionString: db.url, queues: [fixtureQueue], migrate: false });
    const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => client.boss.boss.send('ops.drain-fixture', { n: i })));
    await client.app.close();

    const port = await freePort();
    const child = spawn(NODE, [join(ROOT, 'test', 'fixtures', 'draining-worker.mjs')], {
      env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), BOSUN_INSTANCE_ID: 'drainer', LOG_LEVEL: 'info', FIXTURE_JOBS: String(JOBS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(() => out.includes('fixture holding jobs'), 'the fixture to take its jobs', 30_000);
      await waitForStatus(`${base}/health/ready`, 200);
      expect(sample((await get(`${base}/metrics`)).text, 'bosun_jobs_in_flight', { queue: 'ops.drain-fixture' })).toBe(JOBS);

      child.kill('SIGTERM');
      await waitForStatus(`${base}/health/ready`, 503, 5_000);
      const ready = await get(`${base}/health/ready`);
      expect(ready.body.error.lifecycle).toMatchObject({ status: 'down', message: 'draining' });
      expect((await get(`${base}/health/live`)).status).toBe(200);
      expect(alive(child.pid!)).toBe(true);
      const active = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1) AND state = 'active'`, [ids]);
      expect(active.rows[0].n).toBe(JOBS); // still in flight while unready

      child.kill('SIGUSR2'); // let the stand-in handlers finish
      expect(await exited).toEqual({ code: 0, signal: null });
      const states = await db.pool.query(`SELECT state::text, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1) GROUP BY 1`, [ids]);
      expect(states.rows).toEqual([{ state: 'completed', n: JOBS }]);

      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const finished = lines.filter((l) => l.msg === 'finished in drain');
      expect(finished.map((l) => l.jobId).sort()).toEqual([...ids].sort());
      for (const l of finished) expect(l).toMatchObject({ level: 'info', instance: 'drainer', queue: 'ops.drain-fixture', attempt: 1, time: expect.any(String) });
      expect(lines.find((l) => l.msg === 'shutting down: draining')).toMatchObject({ signal: 'SIGTERM' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('with the real worker runtime under load: in-flight gauge from its runners, ready 503 at once on SIGTERM, in-flight jobs finish, the rest stay queued, exit 0', async () => {
    const client = await startBosun({ connectionString: db.url, queues: [simQueue], migrate: false });
    // 5 slots (the sim processor's concurrency) and 4 s jobs: 5 in flight, 15 waiting when SIGTERM comes.
    const ids = (await client.boss.boss.insert('sim', Array.from({ length: 20 }, (_, i) => ({ data: { label: `load-${i}`, ms: 4000 } })), { returnId: true })) as string[];
    await client.app.close();
    const w = spawnScript('bench/sim/main.js', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: 'ops-sim', BOSUN_DRAIN_TIMEOUT_SECONDS: '30' });
    try {
      await waitForStatus(`${w.url}/health/ready`, 200);
      await waitFor(async () => sample((await get(`${w.url}/metrics`)).text, 'bosun_jobs_in_flight', { queue: 'sim' }) === 5, 'five sim jobs in flight');

      w.child.kill('SIGTERM');
      await waitForStatus(`${w.url}/health/ready`, 503, 3_000);
      expect(alive(w.child.pid!)).toBe(true);
      expect((await get(`${w.url}/health/live`)).status).toBe(200);

      expect(await w.exited).toEqual({ code: 0, signal: null });
      const states = await db.pool.query(`SELECT state::text, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1) GROUP BY 1 ORDER BY 1`, [ids]);
      expect(states.rows).toEqual([{ state: 'completed', n: 5 }, { state: 'created', n: 15 }]);
    } finally {
      await w.stop('SIGKILL');
    }
  });
});
