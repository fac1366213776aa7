import type { INestApplicationContext } from '@nestjs/common';
import { SchedulesService } from '../../libs/bosun/src/scheduler/schedules.service.js';
import { EXAMPLE_QUEUES } from '../../libs/examples/src/jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { alive, spawnApp, type AppProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * Three scheduler processes and a worker on one database, an every-second schedule for 60 s:
 * kill -9 the leader twice, SIGSTOP one longer than the lease, SIGTERM one. The ledger must hold every
 * due instant at most once, and exactly once apart from failover gaps handled per the misfire policy.
 */


const LEASE_SECONDS = 3;
const RUN_SECONDS = 60;

let db: TestDatabase;
let client: INestApplicationContext;
const procs = new Map<string, AppProcess>();
let nextId = 1;

function startScheduler(): AppProcess {
  const id = `sched-${nextId++}`;
  const p = spawnApp('scheduler', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: id, BOSUN_LEASE_SECONDS: String(LEASE_SECONDS) });
  procs.set(id, p);
  return p;
}

async function leader(): Promise<{ term: number; holder: string; since: Date }> {
  const { rows: [row] } = await db.pool.query(
    `SELECT term::int AS term, holder, since FROM bosun.leader WHERE EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 730211402 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`,
  );
  return row;
}

/** Waits for a leader other than `not` (and newer than term `after`) that is a live process. */
async function newLeader(after: number, what: string) {
  return waitFor(async () => {
    const l = await leader();
    return l && l.term > after && procs.get(l.holder) && alive(procs.get(l.holder)!.child.pid!) ? l : null;
  }, what, 20_000);
}

const dbNow = async () => new Date((await db.pool.query(`SELECT clock_timestamp() AS t`)).rows[0].t).getTime();

const rowsOf = async (schedule: string) =>
  (await db.pool.query(`SELECT extract(epoch FROM due_at)::float8 * 1000 AS due, outcome, reason, term::int AS term, extract(epoch FROM fired_at)::float8 * 1000 AS fired FROM bosun.schedule_run WHERE schedule = $1 ORDER BY due_at`, [schedule])).rows as Array<{ due: number; outcome: string; reason: string | null; term: number; fired: number }>;

beforeAll(async () => {
  db = await createTestDatabase('sched_e2e');
  ({ app: client } = await startBosun({ connectionString: db.url, role: 'client', migrate: true, queues: EXAMPLE_QUEUES }));
});

afterAll(async () => {
  for (const p of procs.values()) {
    if (alive(p.child.pid!)) p.child.kill('SIGCONT');
    await p.stop('SIGKILL');
  }
  await client?.close();
  await db?.drop();
});

it('fires every second exactly once across two kill -9s, a frozen leader and a graceful hand-over', async () => {
  startScheduler();
  startScheduler();
  startScheduler();
  const worker = spawnApp('worker', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: 'worker-1' });
  procs.set('worker-1', worker);
  let current = await newLeader(0, 'a first leader');

  const schedules = client.get(SchedulesService);
  // 'all': a gap is caught up (every instant enqueued); 'skip' (1 s grace): a gap longer than the grace is recorded as skipped.
  await schedules.create({ name: 'every-second', every: '1s', queue: 'housekeeping', data: { task: 'stats' }, misfire: 'all', catchUpSeconds: 60 });
  await schedules.create({ name: 'every-second-skip', every: '1s', queue: 'housekeeping', data: { task: 'stats' }, misfire: 'skip', misfireGraceSeconds: 1 });
  const startedAt = await dbNow();
  await waitFor(async () => (await rowsOf('every-second')).length >= 3, 'the schedule fires');

  // kill -9 the leader, twice (a replacement replica joins each time, as a Deployment would do).
  for (let i = 0; i < 2; i++) {
    await waitFor(async () => (await rowsOf('every-second')).some((r) => r.term === current.term && r.fired > startedAt + (i + 1) * 5000), `leader ${current.holder} fires for a while`);
    procs.get(current.holder)!.child.kill('SIGKILL');
    startScheduler();
    current = await newLeader(current.term, `a leader after kill -9 #${i + 1}`);
  }

  // Freeze the leader longer than the lease: another takes over; after SIGCONT the old one fires nothing more.
  await waitFor(async () => (await rowsOf('every-second')).some((r) => r.term === current.term), `leader ${current.holder} fires`);
  const frozen = procs.get(current.holder)!;
  const frozenTerm = current.term;
  frozen.child.kill('SIGSTOP');
  const stoppedAt = await dbNow();
  current = await newLeader(frozenTerm, 'a leader while the old one is frozen');
  await waitFor(async () => (await rowsOf('every-second')).some((r) => r.term === current.term), 'the new leader fires');
  frozen.child.kill('SIGCONT');
  const contAt = await dbNow();
  await waitFor(() => frozen.logs().some((l) => l.msg === 'lost leadership' || l.msg === 'leadership: this instance no longer leads'), 'the thawed leader notices it lost leadership');
  await waitFor(async () => (await rowsOf('every-second')).some((r) => r.term === current.term && r.fired > contAt + 2000), 'fires continue after SIGCONT');

  // Graceful SIGTERM of the leader: hand-over with no gap.
  const resigning = procs.get(current.holder)!;
  const resignTerm = current.term;
  const termAt = await dbNow();
  resigning.child.kill('SIGTERM');
  current = await newLeader(resignTerm, 'a leader after SIGTERM');
  expect((await resigning.exited).code).toBe(0);

  // Run on to 60 s of firing.
  await waitFor(async () => (await dbNow()) > startedAt + RUN_SECONDS * 1000, `${RUN_SECONDS} s of firing`, (RUN_SECONDS + 10) * 1000, 500);
  const endAt = (await dbNow()) - 2000;

  const all = (await rowsOf('every-second')).filter((r) => r.due <= endAt);
  const skip = (await rowsOf('every-second-skip')).filter((r) => r.due <= endAt);
  // At most once: the primary key. Exactly once: every second from the first instant to the end is there.
  for (const rows of [all, skip]) {
    const dues = rows.map((r) => r.due);
    expect(new Set(dues).size).toBe(dues.length);
    expect(dues.slice(1).every((d, i) => d - dues[i]! === 1000)).toBe(true);
    expect(dues.length).toBeGreaterThanOrEqual(RUN_SECONDS - 5);
  }
  // misfire 'all' within 60 s: nothing skipped, every instant has a job.
  expect(all.filter((r) => r.outcome === 'skipped')).toEqual([]);
  // misfire 'skip': skipped instants only in failover gaps (the frozen leader's gap is longer than the lease).
  const skipped = skip.filter((r) => r.outcome === 'skipped');
  expect(skipped.every((r) => r.reason === 'misfire')).toBe(true);
  expect(skipped.some((r) => r.due >= stoppedAt - 1000 && r.due <= contAt)).toBe(true);
  // The frozen leader wrote nothing after it was thawed.
  expect(all.concat(skip).filter((r) => r.term === frozenTerm && r.fired >= contAt)).toEqual([]);
  // Graceful hand-over: no instant around the SIGTERM was skipped.
  expect(skip.filter((r) => r.outcome === 'skipped' && r.due >= termAt - 1000 && r.due <= termAt + 3000)).toEqual([]);
  // Five leaders' terms appear in the ledger (first, after each kill, after the freeze, after the SIGTERM).
  expect(new Set(all.map((r) => r.term)).size).toBeGreaterThanOrEqual(5);
}, 120_000);
