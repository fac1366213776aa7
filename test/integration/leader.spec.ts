import pg from 'pg';
import { migrate } from '../../libs/bosun/src/db/migrate.js';
import { LeaderElector, readLeaderStatus } from '../../libs/bosun/src/leader/leader-elector.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
const electors: LeaderElector[] = [];

beforeAll(async () => {
  db = await createTestDatabase('leader');
  await migrate(db.url);
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

afterAll(async () => {
  await db.drop();
});

function elector(id: string, leaseSeconds = 2, retryMs = 2_000) {
  const log: string[] = [];
  const e = new LeaderElector({
    connectionString: db.url,
    instanceId: id,
    leaseSeconds,
    retryMs,
    onElected: (term) => void log.push(`elected:${term}`),
    onDeposed: (term, reason) => void log.push(`deposed:${term}:${reason}`),
  });
  electors.push(e);
  return { e, log, id };
}

describe('leader election', () => {
  it('exactly one of three wins; the winner takes a new term recorded in bosun.leader', async () => {
    const before = await readLeaderStatus(db.pool);
    const all = [elector('a'), elector('b'), elector('c')];
    for (const { e } of all) e.start();
    const leader = await waitFor(() => all.find(({ e }) => e.isConfirmed()), 'a leader');
    // give the others several attempts: still one leader
    await waitFor(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'bosun-leader:%'`)).rows[0].n === 3, 'three lock connections');
    expect(all.filter(({ e }) => e.status.isLeader)).toHaveLength(1);
    const status = await readLeaderStatus(db.pool);
    expect(status.term).toBe(before.term + 1);
    expect(status.holder).toBe(leader.id);
    expect(status.held).toBe(true);
    expect(leader.log).toEqual([`elected:${status.term}`]);
  });

  it('a resigning leader wakes a standby by NOTIFY, long before its next retry', async () => {
    const a = elector('a', 2, 60_000);
    a.e.start();
    await waitFor(() => a.e.isConfirmed(), 'a leads');
    const b = elector('b', 2, 60_000); // retries only once a minute: only the NOTIFY can wake it in time
    b.e.start();
    await waitFor(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bosun-leader:b'`)).rows[0].n === 1, 'b connected');
    await waitFor(() => b.e.status.term === null, 'b standing by');
    const termA = a.e.status.term!;
    await a.e.stop();
    expect(a.log).toEqual([`elected:${termA}`, `deposed:${termA}:resigned`]);
    await waitFor(() => b.e.isConfirmed(), 'b takes over', 10_000);
    expect(b.e.status.term).toBe(termA + 1);
  });

  it('a leader whose session is killed stops confirming at once, and a standby takes over with a newer term', async () => {
    const a = elector('a', 2, 100);
    a.e.start();
    await waitFor(() => a.e.isConfirmed(), 'a leads');
    const termA = a.e.status.term!;
    const b = elector('b', 2, 100);
    b.e.start();
    await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bosun-leader:a'`);
    await waitFor(() => a.log.some((l) => l.startsWith(`deposed:${termA}:`)), 'a deposed');
    expect(a.e.isConfirmed()).toBe(false);
    const next = await waitFor(() => [a, b].find(({ e }) => e.isConfirmed()), 'a new leader');
    expect(next.e.status.term).toBeGreaterThan(termA);
  });

  it('the server ends a silent leader session after the lease (idle_session_timeout), freeing the lock', async () => {
    // A raw session with the lease settings holding the lock, then silent: what a frozen leader looks like to Postgres.
    const { leaseSessionSettings, LEADER_LOCK_KEY, TRY_LOCK } = await import('../../libs/bosun/src/leader/leader.sql.js');
    const frozen = new pg.Client({ connectionString: db.url, application_name: 'frozen-leader' });
    frozen.on('error', () => undefined);
    await frozen.connect();
    await frozen.query(leaseSessionSettings(2));
    expect((await frozen.query(TRY_LOCK, [LEADER_LOCK_KEY])).rows[0].locked).toBe(true);
    const b = elector('b', 2, 100);
    b.e.start();
    await waitFor(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'frozen-leader'`)).rows[0].n === 0, 'server to end the silent session', 10_000);
    await waitFor(() => b.e.isConfirmed(), 'b takes over', 5_000);
    await frozen.end().catch(() => undefined);
  });
});
