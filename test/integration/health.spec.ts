import { BossService } from '../../libs/bosun/src/boss/boss.service.js';
import { migrate } from '../../libs/bosun/src/db/migrate.js';
import { LeadershipState } from '../../libs/bosun/src/health/leadership.js';
import { ServedQueues } from '../../libs/bosun/src/health/served-queues.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../../libs/bosun/src/runtime/events.js';
import { Lifecycle } from '../../libs/bosun/src/runtime/lifecycle.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { get, startHttpBosun, type HttpBosun } from '../support/http.js';
import { waitFor } from '../support/wait.js';

class Ping {}
const pingQueue = defineQueue('ops.ping', { payload: Ping });
const otherQueue = defineQueue('ops.other', { payload: Ping });
const withDeadLetter = defineQueue('ops.dl-source', { payload: Ping, deadLetter: 'ops.dl' });

describe('health probes (in-process HTTP)', () => {
  let db: TestDatabase;
  const apps: HttpBosun[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('health');
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db.drop();
  });

  it('starting: live 200, startup and ready 503 naming `bosun migrate`; then all 200 once migrated, without a restart', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'worker', migrate: false, queues: [pingQueue] });
    apps.push(app);
    expect((await get(`${app.url}/health/live`)).status).toBe(200);
    const startup = await waitFor(async () => {
      const r = await get(`${app.url}/health/startup`);
      return String(r.body?.error?.schema?.message).includes('bosun migrate') ? r : undefined;
    }, 'startup probe to explain why');
    expect(startup.status).toBe(503);
    expect(startup.body.error.schema.message).toContain('run `bosun migrate`');
    const ready = await get(`${app.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.error.pgBoss.status).toBe('down');

    await migrate(db.url);
    await waitFor(async () => (await get(`${app.url}/health/startup`)).status === 200, 'startup 200 after migrate', 20_000);
    const readyNow = await get(`${app.url}/health/ready`);
    expect(readyNow.status).toBe(200);
    expect(readyNow.body.details).toMatchObject({ lifecycle: { status: 'up' }, pgBoss: { status: 'up' }, database: { status: 'up' }, backlog: { status: 'up' } });
    const live = await get(`${app.url}/health/live`);
    expect(live.body.details.eventLoop).toMatchObject({ status: 'up', delayMaxMs: expect.any(Number) });
    expect(live.body.details).not.toHaveProperty('database');
  });

  it('a worker whose served queue has an old ready job is degraded (200), and only for the queues it serves', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [pingQueue, otherQueue], readyMaxJobAgeSeconds: 60 });
    apps.push(app);
    await app.app.get(BossService).whenStarted();
    const boss = app.app.get(BossService).boss;
    const oldId = await boss.send('ops.other', {});
    await db.pool.query(`UPDATE pgboss.job SET start_after = now() - interval '10 minutes', created_on = now() - interval '10 minutes' WHERE id = $1`, [oldId]);

    app.app.get(ServedQueues).set(['ops.ping']);
    const notMine = await get(`${app.url}/health/ready`);
    expect(notMine.status).toBe(200);
    expect(notMine.body.details.backlog).toMatchObject({ status: 'up', oldestReadySeconds: 0, thresholdSeconds: 60 });

    app.app.get(ServedQueues).set(['ops.ping', 'ops.other']);
    const degraded = await get(`${app.url}/health/ready`);
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.details.backlog.status).toBe('degraded');
    expect(degraded.body.details.backlog.oldestReadySeconds).toBeGreaterThanOrEqual(599);
    expect(degraded.body.details.backlog.message).toMatch(/oldest ready job has waited \d+ s \(threshold 60 s\)/);

    // A deferred job (start_after ahead) is not ready, however old: it does not count.
    await db.pool.query(`UPDATE pgboss.job SET start_after = now() + interval '1 hour' WHERE id = $1`, [oldId]);
    expect((await get(`${app.url}/health/ready`)).body.details.backlog.status).toBe('up');
  });

  it('by default a worker serves its declared queues narrowed by BOSUN_QUEUES, never dead-letter queues it was not given', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [pingQueue, otherQueue, withDeadLetter], readyMaxJobAgeSeconds: 60 });
    apps.push(app);
    await app.app.get(BossService).whenStarted();
    expect(app.app.get(ServedQueues).list()).toEqual(['ops.dl-source', 'ops.other', 'ops.ping']);
    const dead = await app.app.get(BossService).boss.send('ops.dl', {});
    await db.pool.query(`UPDATE pgboss.job SET start_after = now() - interval '1 day' WHERE id = $1`, [dead]);
    const ready = await get(`${app.url}/health/ready`);
    expect(ready.body.details.backlog).toMatchObject({ status: 'up', queues: 3 });

    const filtered = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [pingQueue, otherQueue, withDeadLetter], queueFilter: ['ops.ping', 'ops.dl'] });
    apps.push(filtered);
    await filtered.app.get(BossService).whenStarted();
    expect(filtered.app.get(ServedQueues).list()).toEqual(['ops.dl', 'ops.ping']);
    const scheduler = await startHttpBosun({ connectionString: db.url, role: 'scheduler', queues: [pingQueue] });
    apps.push(scheduler);
    expect(scheduler.app.get(ServedQueues).list()).toEqual([]);
  });

  it('a scheduler standby is ready, with leadership as a detail from events or a plugged-in provider', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'scheduler' });
    apps.push(app);
    await app.app.get(BossService).whenStarted();
    const first = await get(`${app.url}/health/ready`);
    expect(first.status).toBe(200);
    expect(first.body.details.leadership).toMatchObject({ status: 'up', isLeader: false });
    expect(first.body.details).not.toHaveProperty('backlog');

    const events = app.app.get(BosunEvents);
    events.emit('leader.changed', { isLeader: true, term: 7, instanceId: 'sched-a', reason: 'won' });
    expect((await get(`${app.url}/health/ready`)).body.details.leadership).toMatchObject({ isLeader: true, term: 7, leaderId: 'sched-a' });
    events.emit('leader.changed', { isLeader: false, term: 7, instanceId: 'sched-a', reason: 'lost' });
    const standby = await get(`${app.url}/health/ready`);
    expect(standby.status).toBe(200);
    expect(standby.body.details.leadership).toMatchObject({ isLeader: false, term: 7 });

    app.app.get(LeadershipState).useProvider(() => ({ isLeader: false, term: 9, leaderId: 'sched-b', since: new Date('2026-01-02T03:04:05Z') }));
    expect((await get(`${app.url}/health/ready`)).body.details.leadership).toEqual({
      status: 'up', isLeader: false, term: 9, leaderId: 'sched-b', since: '2026-01-02T03:04:05.000Z',
    });
  });

  it('draining: ready turns 503 at once while in-flight work drains; live stays 200', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [pingQueue] });
    apps.push(app);
    await app.app.get(BossService).whenStarted();
    expect((await get(`${app.url}/health/ready`)).status).toBe(200);

    let release!: () => void;
    let draining!: () => void;
    const entered = new Promise<void>((r) => (draining = r));
    const lifecycle = app.app.get(Lifecycle);
    lifecycle.register({ drain: () => new Promise<void>((r) => { release = r; draining(); }) });
    const drained = lifecycle.drain(30);
    await entered;

    const ready = await get(`${app.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.error.lifecycle).toMatchObject({ status: 'down', message: 'draining', phase: 'draining' });
    expect((await get(`${app.url}/health/live`)).status).toBe(200);
    release();
    await drained;
    expect((await get(`${app.url}/health/ready`)).status).toBe(503);
  });
});
