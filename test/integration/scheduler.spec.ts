import { Module, type INestApplicationContext } from '@nestjs/common';
import { IsString } from 'class-validator';
import { LeaderService } from '../../libs/bosun/src/leader/leader.service.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../../libs/bosun/src/runtime/events.js';
import { BosunSchedulesModule } from '../../libs/bosun/src/scheduler/scheduler.module.js';
import { SchedulerService } from '../../libs/bosun/src/scheduler/scheduler.service.js';
import { Scheduled } from '../../libs/bosun/src/scheduler/scheduled.decorator.js';
import { SchedulesService } from '../../libs/bosun/src/scheduler/schedules.service.js';
import { ScheduleValidationError } from '../../libs/bosun/src/scheduler/timetable.js';
import type { ScheduleDeclaration } from '../../libs/bosun/src/scheduler/schedule-definition.js';
import { BossService } from '../../libs/bosun/src/boss/boss.service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { waitFor } from '../support/wait.js';

class Ping {
  @IsString() note!: string;
}
const ticks = defineQueue('ticks', { payload: Ping, priority: 3 });
const other = defineQueue('other');
const queuedQueue = defineQueue('queued', { payload: Ping });

@Scheduled({ name: 'from-decorator', every: '1h', queue: 'other' })
class HousekeepingProvider {}

let db: TestDatabase;
const apps: INestApplicationContext[] = [];

async function scheduler(schedules: ScheduleDeclaration[], extraImports: any[] = [], instanceId = 'it-scheduler') {
  @Module({ providers: [HousekeepingProvider], imports: extraImports })
  class Feature {}
  const { app, lines } = await startBosun({ connectionString: db.url, role: 'scheduler', queues: [ticks, other, queuedQueue], schedules, leaseSeconds: 2, instanceId }, [Feature]);
  apps.push(app);
  logs.set(app, lines);
  return app;
}
const logs = new Map<INestApplicationContext, Array<Record<string, unknown>>>();

async function leading(app: INestApplicationContext) {
  const leader = app.get(LeaderService);
  await waitFor(() => leader.elector.isConfirmed() && app.get(SchedulerService).runner.currentTerm !== null, 'leadership');
  return leader;
}

const runs = async (schedule: string) =>
  (await db.pool.query(`SELECT due_at, outcome, reason, job_id, lag_ms, term, duration_ms FROM bosun.schedule_run WHERE schedule = $1 ORDER BY due_at`, [schedule])).rows;

beforeAll(async () => {
  db = await createTestDatabase('scheduler');
});

afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

afterAll(async () => {
  await db.drop();
});

describe('scheduler (one leader in process, real Postgres)', () => {
  it('syncs code schedules, fires an every-second schedule exactly once per instant, with the job in the same transaction', async () => {
    const app = await scheduler([{ name: 'every-second', every: '1s', queue: 'ticks', data: { note: 'hi' }, misfire: 'all', catchUpSeconds: 60 }]);
    const fired: Array<{ schedule: string; lagMs: number }> = [];
    app.get(BosunEvents).on('schedule.fired', (e) => fired.push(e));
    await leading(app);
    const rows = await waitFor(async () => {
      const r = await runs('every-second');
      return r.length >= 3 ? r : null;
    }, 'three fires');
    const seconds = rows.map((r) => new Date(r.due_at).getTime());
    expect(seconds.every((t) => t % 1000 === 0)).toBe(true);
    expect(seconds.slice(1).map((t, i) => t - seconds[i]!)).toEqual(seconds.slice(1).map(() => 1000));
    expect(rows.every((r) => r.outcome === 'enqueued' || r.outcome === 'completed' || r.outcome === 'active')).toBe(true);
    const { rows: jobs } = await db.pool.query(`SELECT id, data, priority FROM pgboss.job WHERE name = 'ticks' AND id = ANY($1::uuid[])`, [rows.map((r) => r.job_id)]);
    expect(jobs).toHaveLength(rows.length);
    expect(jobs[0]).toMatchObject({ data: { note: 'hi' }, priority: 3 });
    expect(fired.filter((f) => f.schedule === 'every-second').length).toBeGreaterThanOrEqual(3);
    const service = app.get(SchedulesService);
    const info = await service.get('every-second');
    expect(info.source).toBe('code');
    expect(info.lastRunAt).not.toBeNull();
    expect(info.nextRunAt!.getTime()).toBeGreaterThan(info.lastRunAt!.getTime());
    expect((await service.get('from-decorator')).queue).toBe('other');
  });

  it('the ledger follows the job: completed with its duration', async () => {
    const app = await scheduler([{ name: 'settled', every: '1s', queue: 'other' }]);
    await leading(app);
    const boss = app.get(BossService).boss;
    const first = await waitFor(async () => (await runs('settled'))[0], 'a fire');
    const [job] = await waitFor(async () => {
      const jobs = await boss.fetch('other', { batchSize: 1 });
      return jobs.find((j) => j.id === first.job_id) ? jobs : null;
    }, 'fetch the fired job');
    await boss.complete('other', job!.id);
    const done = await waitFor(async () => (await runs('settled')).find((r) => r.job_id === first.job_id && r.outcome === 'completed'), 'ledger completed');
    expect(done.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('a runtime schedule is created, picked up by NOTIFY, paused (the pause survives a re-sync), resumed and removed', async () => {
    const app = await scheduler([{ name: 'code-one', every: '1h', queue: 'other' }]);
    await leading(app);
    const service = app.get(SchedulesService);
    const runner = app.get(SchedulerService).runner;
    await service.create({ name: 'runtime-one', every: '1s', queue: 'other', misfire: 'skip' });
    await waitFor(() => runner.snapshot().some((s) => s.name === 'runtime-one'), 'leader picks the new schedule up');
    await waitFor(async () => (await runs('runtime-one')).length > 0, 'runtime schedule fires');
    await service.pause('code-one');
    await waitFor(() => !runner.snapshot().some((s) => s.name === 'code-one'), 'paused schedule leaves the timers');
    // a deploy: the leader re-syncs the same declarations
    await app.get(SchedulerService).startLeading(app.get(SchedulerService).runner.currentTerm!);
    expect((await service.get('code-one')).paused).toBe(true);
    await service.resume('code-one');
    expect((await service.get('code-one')).paused).toBe(false);
    await service.pause('runtime-one');
    const count = (await runs('runtime-one')).length;
    await service.remove('runtime-one');
    expect(await service.find('runtime-one')).toBeNull();
    expect(count).toBeGreaterThan(0);
    await expect(service.remove('code-one')).rejects.toThrow(/declared in code/);
  });

  it('a schedule removed from code is deactivated at the next sync; declared again, it comes back', async () => {
    const first = await scheduler([{ name: 'short-lived', every: '1h', queue: 'other' }]);
    await leading(first);
    expect((await first.get(SchedulesService).get('short-lived')).active).toBe(true);
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    const second = await scheduler([]);
    await leading(second);
    const info = await second.get(SchedulesService).get('short-lived');
    expect(info.active).toBe(false);
    expect(info.nextRunAt).toBeNull();
  });

  it('refuses bad schedules at run time, naming the field', async () => {
    const app = await scheduler([]);
    const service = app.get(SchedulesService);
    const field = async (decl: any) => {
      const error = await service.create(decl).catch((e) => e);
      expect(error).toBeInstanceOf(ScheduleValidationError);
      return (error as ScheduleValidationError).field;
    };
    expect(await field({ name: 'x', cron: '99 * * * *', queue: 'other' })).toBe('cron');
    expect(await field({ name: 'x', cron: '* * * * *', tz: 'Nowhere/Special', queue: 'other' })).toBe('tz');
    expect(await field({ name: 'x', cron: '* * * * *', queue: 'no-such-queue' })).toBe('queue');
    expect(await field({ name: 'x', every: '5m', queue: 'ticks', data: { note: 42 } })).toBe('data.note');
    await service.create({ name: 'dup', every: '5m', queue: 'other' });
    expect(await field({ name: 'dup', every: '5m', queue: 'other' })).toBe('name');
  });

  it('refuses to start with a code schedule on an unknown queue', async () => {
    await expect(scheduler([{ name: 'typo', every: '1m', queue: 'tikcs' }])).rejects.toThrow(/schedule typo: queue "tikcs" does not exist/);
    await expect(scheduler([{ name: 'bad-data', every: '1m', queue: 'ticks', data: { note: 7 } }])).rejects.toThrow(/schedule bad-data: data.note/);
  });

  it('misfire policies after downtime: skip, latest and all within the catch-up window', async () => {
    const app = await scheduler([
      { name: 'mf-skip', every: '5s', queue: 'other', misfire: 'skip', misfireGraceSeconds: 1, enabled: false },
      { name: 'mf-latest', every: '5s', queue: 'other', misfire: 'latest', misfireGraceSeconds: 0, enabled: false },
      { name: 'mf-all', every: '5s', queue: 'other', misfire: 'all', catchUpSeconds: 22, misfireGraceSeconds: 1, enabled: false },
    ]);
    await leading(app);
    // Downtime: nothing was handled for the last 41 s (8 instants missed), then the schedules run again.
    const { rows: [{ at }] } = await db.pool.query(
      `UPDATE bosun.schedule SET fired_through = now() - interval '41 seconds', paused = false WHERE name LIKE 'mf-%' RETURNING now() AS at`,
    );
    await db.pool.query(`SELECT pg_notify('bosun_schedule', 'changed')`);
    const catchUpAt = new Date(at).getTime();
    const missed = async (name: string) => {
      const r = await waitFor(async () => {
        const rows = await runs(name);
        return rows.filter((x) => new Date(x.due_at).getTime() <= catchUpAt).length >= 8 ? rows : null;
      }, `${name} catch-up`);
      return r.filter((x) => new Date(x.due_at).getTime() <= catchUpAt).map((x) => ({ ...x, ago: catchUpAt - new Date(x.due_at).getTime() }));
    };
    const skip = await missed('mf-skip');
    expect(skip.filter((r) => r.ago > 1000).every((r) => r.outcome === 'skipped' && r.reason === 'misfire' && r.job_id === null)).toBe(true);
    const latest = await missed('mf-latest');
    expect(latest.filter((r) => r.outcome !== 'skipped')).toEqual([latest.at(-1)]);
    expect(latest.slice(0, -1).every((r) => r.reason === 'misfire')).toBe(true);
    const all = await missed('mf-all');
    expect(all.filter((r) => r.ago > 23_000).every((r) => r.outcome === 'skipped' && r.reason === 'misfire')).toBe(true);
    const inWindow = all.filter((r) => r.ago < 21_000);
    expect(inWindow.length).toBeGreaterThanOrEqual(4);
    expect(inWindow.every((r) => r.outcome !== 'skipped' && r.job_id !== null)).toBe(true);
  });

  it('overlap skip records skipped runs while the previous job waits; overlap queue holds them until it ends', async () => {
    const app = await scheduler([
      { name: 'ov-skip', every: '1s', queue: 'other', overlap: 'skip' },
      { name: 'ov-queue', every: '1s', queue: 'queued', data: { note: 'q' }, overlap: 'queue' },
    ]);
    await leading(app);
    const skipRows = await waitFor(async () => {
      const r = await runs('ov-skip');
      return r.length >= 3 ? r : null;
    }, 'three ov-skip instants');
    expect(skipRows[0].outcome).toBe('enqueued');
    expect(skipRows.slice(1).every((r) => r.outcome === 'skipped' && r.reason === 'overlap')).toBe(true);
    const queued = await waitFor(async () => {
      const r = await runs('ov-queue');
      return r.length >= 3 ? r : null;
    }, 'three ov-queue instants');
    expect(queued[0].outcome).toBe('enqueued');
    expect(queued.slice(1).every((r) => r.outcome === 'waiting')).toBe(true);
    const boss = app.get(BossService).boss;
    const [job] = await waitFor(() => boss.fetch('queued', { batchSize: 1 }).then((j) => (j.length ? j : null)), 'first ov-queue job');
    expect(job!.id).toBe(queued[0].job_id);
    await boss.complete('queued', job!.id);
    const released = await waitFor(async () => {
      const r = await runs('ov-queue');
      return r[1]?.outcome === 'enqueued' ? r : null;
    }, 'the next waiting run gets its job');
    expect(released[1].job_id).not.toBeNull();
    expect(released[0].outcome).toBe('completed');
  });

  it('a deposed leader fires nothing: once the term moves on, no row is written with the old term', async () => {
    const app = await scheduler([{ name: 'fenced', every: '1s', queue: 'other' }]);
    const leader = await leading(app);
    const term = leader.elector.status.term!;
    await waitFor(async () => (await runs('fenced')).length > 0, 'a fire');
    // Another process took a newer term (as a new leader would).
    const { rows: [bumped] } = await db.pool.query(`UPDATE bosun.leader SET term = term + 1 RETURNING now() AS at`);
    await waitFor(() => leader.elector.status.term !== term, 'old term given up');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM bosun.schedule_run WHERE schedule = 'fenced' AND term = $1 AND fired_at > $2`, [term, bumped.at]);
    expect(rows[0].n).toBe(0);
  });

  it('two schedulers: one leads; when it stops, the other takes over and every instant stays exactly once', async () => {
    const decl = [{ name: 'handover', every: '1s', queue: 'other', misfire: 'all' as const, catchUpSeconds: 60 }];
    const a = await scheduler(decl, [], 'a');
    const b = await scheduler(decl, [], 'b');
    const first = await waitFor(() => [a, b].find((x) => x.get(LeaderService).elector.isConfirmed()), 'a leader');
    const second = first === a ? b : a;
    // pg-boss maintenance runs on the leader only: count supervise() passes per process from here on.
    const supervised = new Map<INestApplicationContext, number>([[a, 0], [b, 0]]);
    for (const app of [a, b]) {
      const boss = app.get(BossService).boss;
      const original = boss.supervise.bind(boss);
      boss.supervise = (...args: Parameters<typeof original>) => {
        supervised.set(app, supervised.get(app)! + 1);
        return original(...args);
      };
    }
    const changes: Array<{ isLeader: boolean; reason: string }> = [];
    first.get(BosunEvents).on('leader.changed', (e) => changes.push(e));
    second.get(BosunEvents).on('leader.changed', (e) => changes.push(e));
    const status = await second.get(LeaderService).status();
    expect(status.self.isLeader).toBe(false);
    expect(status.cluster).toMatchObject({ holder: first.get(LeaderService).instanceId, held: true, term: first.get(LeaderService).elector.status.term });
    await waitFor(async () => (await runs('handover')).length >= 2, 'fires by the first leader');
    await first.get(LeaderService).stop();
    await waitFor(() => second.get(LeaderService).elector.isConfirmed(), 'the other takes over');
    const termB = second.get(LeaderService).elector.status.term!;
    await waitFor(() => changes.length >= 2, 'leader.changed events');
    expect(supervised.get(second)).toBeGreaterThanOrEqual(1);
    expect(supervised.get(first)).toBe(0);
    expect(changes.map((c) => [c.isLeader, c.reason])).toEqual([[false, 'resigned'], [true, 'elected']]);
    expect((await second.get(LeaderService).status()).self).toMatchObject({ isLeader: true, confirmed: true, term: termB });
    const rows = await waitFor(async () => {
      const r = await runs('handover');
      return r.filter((x) => Number(x.term) === termB).length >= 2 ? r : null;
    }, 'fires by the second leader');
    const times = rows.map((r) => new Date(r.due_at).getTime());
    expect(new Set(times).size).toBe(times.length);
    expect(times.slice(1).every((t, i) => t - times[i]! === 1000)).toBe(true);
    expect(rows.every((r) => r.outcome !== 'skipped')).toBe(true);
  });
});

describe('BosunSchedulesModule.forFeature', () => {
  it('adds a feature module\'s schedules to the declarations', async () => {
    const app = await scheduler([], [BosunSchedulesModule.forFeature([{ name: 'feature-schedule', daily: { at: '02:00' }, tz: 'Europe/London', queue: 'other' }])]);
    expect(app.get(SchedulerService).declarations.map((d) => d.name).sort()).toEqual(['feature-schedule', 'from-decorator']);
  });
});

describe('a schedule that cannot fire', () => {
  it('does not hold the others back, and is retried', async () => {
    const app = await scheduler([
      { name: 'healthy', every: '1s', queue: 'other' },
      { name: 'doomed', every: '1s', queue: 'ticks', data: { note: 'x' } },
    ]);
    await leading(app);
    await waitFor(async () => (await runs('doomed')).length > 0, 'doomed fires while its queue exists');
    // The queue disappears under the schedule (deleted by hand): its fires fail from now on.
    await app.get(BossService).boss.deleteQueue('ticks');
    const { rows: [{ at }] } = await db.pool.query(`SELECT now() AS at`);
    await waitFor(async () => (await runs('healthy')).filter((r) => new Date(r.due_at) > new Date(at)).length >= 3, 'healthy keeps firing');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM bosun.schedule_run WHERE schedule = 'doomed' AND fired_at > $1::timestamptz + interval '1 second'`, [at]);
    expect(rows[0].n).toBe(0);
    // parked and retried, each time with its name in the log
    await waitFor(() => logs.get(app)!.filter((l) => l.msg === 'schedule could not fire; retrying' && JSON.stringify(l).includes('doomed')).length >= 2, 'retries');
  });
});
