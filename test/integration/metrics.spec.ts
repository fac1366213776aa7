import { BossService } from '../../libs/bosun/src/boss/boss.service.js';
import { QueueMetricsPublisher } from '../../libs/bosun/src/metrics/queue-metrics.publisher.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../../libs/bosun/src/runtime/events.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { get, startHttpBosun, type HttpBosun } from '../support/http.js';
import { promtoolCheck, sample } from '../support/promtool.js';
import { waitFor } from '../support/wait.js';

class Work {}
const workQueue = defineQueue('ops.work', { payload: Work, retryLimit: 0 });
const idleQueue = defineQueue('ops.idle', { payload: Work });

describe('Prometheus metrics at /metrics', () => {
  let db: TestDatabase;
  const apps: HttpBosun[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('metrics');
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db.drop();
  });

  it('turns job observations, schedule and leadership events into bosun_ series, and passes promtool', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'scheduler', migrate: true, instanceId: 'm-1', queues: [workQueue] });
    apps.push(app);
    await app.app.get(BossService).whenStarted();
    const events = app.app.get(BosunEvents);

    // The worker reports jobs straight to the metrics' observer (no event object per job).
    const jobs = events.jobObserverFor('ops.work')!;
    jobs.started(3);
    jobs.started();
    jobs.started();
    let text = (await get(`${app.url}/metrics`)).text;
    expect(sample(text, 'bosun_jobs_in_flight', { queue: 'ops.work' })).toBe(3);

    jobs.finished('completed', 40, true);
    jobs.finished('retry', 2_000, true);
    // A finish never started here (a refused payload, a rescued job) counts as processed but leaves in-flight alone.
    jobs.finished('dead-lettered', 0, false);
    events.emit('leader.changed', { isLeader: true, term: 4, instanceId: 'm-1', reason: 'won' });
    events.emit('schedule.fired', { schedule: 'digest', queue: 'ops.work', dueAt: new Date(), lagMs: 12, outcome: 'enqueued' });
    events.emit('schedule.fired', { schedule: 'digest', queue: 'ops.work', dueAt: new Date(), lagMs: 700, outcome: 'enqueued' });
    events.emit('schedule.run', { schedule: 'digest', outcome: 'completed' });
    events.emit('schedule.run', { schedule: 'digest', outcome: 'skipped: overlap' });

    const res = await get(`${app.url}/metrics`);
    text = res.text;
    expect(res.status).toBe(200);
    expect(text).toContain('# TYPE bosun_jobs_processed_total counter');
    expect(sample(text, 'bosun_jobs_in_flight', { queue: 'ops.work' })).toBe(1);
    expect(sample(text, 'bosun_jobs_processed_total', { queue: 'ops.work', outcome: 'completed' })).toBe(1);
    expect(sample(text, 'bosun_jobs_processed_total', { queue: 'ops.work', outcome: 'retry' })).toBe(1);
    expect(sample(text, 'bosun_jobs_processed_total', { queue: 'ops.work', outcome: 'dead-lettered' })).toBe(1);
    expect(sample(text, 'bosun_job_duration_seconds_bucket', { queue: 'ops.work', outcome: 'completed', le: '0.05' })).toBe(1);
    expect(sample(text, 'bosun_job_duration_seconds_bucket', { queue: 'ops.work', outcome: 'retry', le: '1' })).toBe(0);
    expect(sample(text, 'bosun_job_duration_seconds_sum', { queue: 'ops.work', outcome: 'retry' })).toBe(2);
    expect(sample(text, 'bosun_job_wait_seconds_count', { queue: 'ops.work' })).toBe(1);
    expect(sample(text, 'bosun_leader')).toBe(1);
    expect(sample(text, 'bosun_leader_term')).toBe(4);
    expect(sample(text, 'bosun_leadership_changes_total', { change: 'acquired' })).toBe(1);
    expect(sample(text, 'bosun_schedule_fire_lag_seconds_count')).toBe(2);
    expect(sample(text, 'bosun_schedule_fire_lag_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(sample(text, 'bosun_schedule_fires_total', { outcome: 'enqueued' })).toBe(2);
    expect(sample(text, 'bosun_schedule_runs_total', { outcome: 'completed' })).toBe(1);
    expect(sample(text, 'bosun_schedule_runs_total', { outcome: 'skipped: overlap' })).toBe(1);
    expect(sample(text, 'bosun_info', { role: 'scheduler', instance: 'm-1' })).toBe(1);
    expect(sample(text, 'bosun_up')).toBe(1);
    expect(sample(text, 'bosun_db_pool_connections', { pool: 'bosun', state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'bosun_db_pool_connections', { pool: 'pgboss', state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'bosun_db_pool_max_connections', { pool: 'pgboss' })).toBe(10);
    expect(sample(text, 'bosun_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'bosun_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // Every metric name carries the prefix, default process metrics included.
    const names = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!));
    expect([...names].filter((n) => !n.startsWith('bosun_'))).toEqual([]);

    events.emit('leader.changed', { isLeader: false, term: 4, instanceId: 'm-1', reason: 'lost' });
    text = (await get(`${app.url}/metrics`)).text;
    expect(sample(text, 'bosun_leader')).toBe(0);
    expect(sample(text, 'bosun_leadership_changes_total', { change: 'lost' })).toBe(1);

    const lint = promtoolCheck(text);
    if (lint.ran) expect({ code: lint.code, output: lint.output }).toEqual({ code: 0, output: '' });
  });

  it('the leader publishes queue depth by state and oldest ready age; a process that loses leadership drops them', async () => {
    const app = await startHttpBosun({ connectionString: db.url, role: 'scheduler', migrate: true, queues: [workQueue, idleQueue], queueMetricsIntervalSeconds: 1 });
    apps.push(app);
    const boss = app.app.get(BossService);
    await boss.whenStarted();
    await db.pool.query(`DELETE FROM pgboss.job WHERE name = 'ops.work'`);
    // Two ready (one waiting ~2 minutes), one deferred, one active, one failed.
    const old = await boss.boss.send('ops.work', {});
    await db.pool.query(`UPDATE pgboss.job SET start_after = now() - interval '120 seconds' WHERE id = $1`, [old]);
    await boss.boss.send('ops.work', {});
    await boss.boss.send('ops.work', {}, { startAfter: 3600 });
    await boss.boss.send('ops.work', {}, { priority: 10 });
    await boss.boss.send('ops.work', {}, { priority: 9 });
    const [active, failing] = await boss.boss.fetch('ops.work', { batchSize: 2 });
    await boss.boss.fail('ops.work', failing!.id, new Error('boom'));
    expect(active).toBeDefined();

    const publisher = app.app.get(QueueMetricsPublisher);
    expect(publisher.mode).toBe('leader');
    let text = (await get(`${app.url}/metrics`)).text;
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' })).toBeUndefined();

    app.app.get(BosunEvents).emit('leader.changed', { isLeader: true, term: 1, instanceId: 'x', reason: 'won' });
    text = await waitFor(async () => {
      const t = (await get(`${app.url}/metrics`)).text;
      return sample(t, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' }) !== undefined ? t : undefined;
    }, 'queue gauges after winning leadership');
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' })).toBe(2);
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'deferred' })).toBe(1);
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'active' })).toBe(1);
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'failed' })).toBe(1);
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'blocked' })).toBe(0);
    expect(sample(text, 'bosun_queue_jobs', { queue: 'ops.idle', state: 'ready' })).toBe(0);
    expect(sample(text, 'bosun_queue_oldest_ready_age_seconds', { queue: 'ops.work' })).toBeGreaterThanOrEqual(119);
    expect(sample(text, 'bosun_queue_oldest_ready_age_seconds', { queue: 'ops.idle' })).toBe(0);

    // The next interval sees new jobs without anyone asking.
    await boss.boss.send('ops.work', {});
    await waitFor(async () => sample((await get(`${app.url}/metrics`)).text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' }) === 3, 'the next publish');

    app.app.get(BosunEvents).emit('leader.changed', { isLeader: false, term: 1, instanceId: 'x', reason: 'lost' });
    await waitFor(async () => sample((await get(`${app.url}/metrics`)).text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' }) === undefined, 'gauges dropped');
    expect(publisher.publishing).toBe(false);
    await publisher.stop(); // twice is fine
  });

  it("mode 'always' publishes without a leader; 'off' never does", async () => {
    const always = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [workQueue], queueMetrics: 'always' });
    const off = await startHttpBosun({ connectionString: db.url, role: 'worker', queues: [workQueue], queueMetrics: 'off' });
    apps.push(always, off);
    await waitFor(async () => sample((await get(`${always.url}/metrics`)).text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' }) !== undefined, 'always publishes');
    off.app.get(BosunEvents).emit('leader.changed', { isLeader: true, term: 2, instanceId: 'y', reason: 'won' });
    off.app.get(QueueMetricsPublisher).start();
    expect(off.app.get(QueueMetricsPublisher).publishing).toBe(false);
    expect(sample((await get(`${off.url}/metrics`)).text, 'bosun_queue_jobs', { queue: 'ops.work', state: 'ready' })).toBeUndefined();
  });
});
