import { Module, type INestApplicationContext } from '@nestjs/common';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { BossService } from '../../libs/bosun/src/boss/boss.service.js';
import { defineQueue, type QueueDefinition } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import { BOSUN_LOGGER } from '../../libs/bosun/src/module/options.js';
import { ServedQueues } from '../../libs/bosun/src/health/served-queues.js';
import type { Logger } from 'pino';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BosunEvents, type BosunEventMap } from '../../libs/bosun/src/runtime/events.js';
import { JobAbortedError, type Job } from '../../libs/bosun/src/worker/job.js';
import { JobErrors } from '../../libs/bosun/src/worker/job-errors.js';
import { Processor, ProcessorOptionsError } from '../../libs/bosun/src/worker/processor.decorator.js';
import { CLAIM_LANES, WorkerRuntime } from '../../libs/bosun/src/worker/worker.service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { waitFor } from '../support/wait.js';

class Task {
  @IsString() @MaxLength(50) label!: string;
  @IsInt() @Min(0) @Max(60_000) ms!: number;
}

/** What handlers saw, for the assertions (module-level: processors are created by Nest). */
const seen: Array<{ queue: string; label: string; attempt: number; priority: number; id: string; isTask: boolean; hasSignal: boolean }> = [];
const aborts: Array<{ label: string; reason: unknown }> = [];
let throwValue: (label: string, attempt: number) => unknown = () => undefined;
/** The worker's bosun logger: a handler logs through it to show the job context on its lines. */
let workerLogger: Logger | undefined;
/** Runs at the start of each attempt (the bounds test reads the job row there). */
let onStart: (job: Job<Task>) => Promise<void> = async () => undefined;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

async function handle(queue: string, job: Job<Task>) {
  seen.push({ queue, label: job.data.label, attempt: job.attempt, priority: job.priority, id: job.id, isTask: job.data instanceof Task, hasSignal: job.signal instanceof AbortSignal });
  job.signal.addEventListener('abort', () => aborts.push({ label: job.data.label, reason: job.signal.reason }), { once: true });
  await onStart(job);
  if (job.data.label.startsWith('log-')) {
    await new Promise((r) => setTimeout(r, 5));
    workerLogger?.info({ label: job.data.label }, 'inside the handler');
  }
  if (job.data.ms > 0) await sleep(job.data.ms, job.signal);
  const thrown = throwValue(job.data.label, job.attempt);
  if (thrown !== undefined) throw thrown;
}

const basicQueue = defineQueue('w-basic', { payload: Task });
const priorityQueue = defineQueue('w-priority', { payload: Task });
const retryQueue = defineQueue('w-retry', { payload: Task, retryLimit: 2, retryDelay: 1, retryBackoff: true, deadLetter: 'w-retry-dead' });
const invalidQueue = defineQueue('w-invalid', { payload: Task, retryLimit: 5, deadLetter: 'w-invalid-dead' });
const timeoutQueue = defineQueue('w-timeout', { payload: Task, retryLimit: 1, expireInSeconds: 1 });
const poisonQueue = defineQueue('w-poison', { payload: Task, retryLimit: 0, deadLetter: 'w-poison-dead' });
const historyQueue = defineQueue('w-history', { payload: Task, retryLimit: 6 });
const filteredQueue = defineQueue('w-filtered', { payload: Task });
const singletonQueue = defineQueue('w-singleton', { payload: Task, policy: 'singleton' });
const heartbeatQueue = defineQueue('w-heartbeat', { payload: Task, heartbeatSeconds: 10 });

@Processor(basicQueue, { concurrency: 4 })
class BasicProcessor {
  process(job: Job<Task>) {
    return handle('w-basic', job);
  }
}
@Processor(priorityQueue, { concurrency: 1 })
class PriorityProcessor {
  process(job: Job<Task>) {
    return handle('w-priority', job);
  }
}
@Processor(retryQueue, { concurrency: 2, pollingIntervalSeconds: 0.2 })
class RetryProcessor {
  process(job: Job<Task>) {
    return handle('w-retry', job);
  }
}
@Processor(invalidQueue)
class InvalidProcessor {
  process(job: Job<Task>) {
    return handle('w-invalid', job);
  }
}
@Processor(timeoutQueue, { pollingIntervalSeconds: 0.2 })
class TimeoutProcessor {
  process(job: Job<Task>) {
    return handle('w-timeout', job);
  }
}
@Processor(poisonQueue, { concurrency: 1 })
class PoisonProcessor {
  process(job: Job<Task>) {
    return handle('w-poison', job);
  }
}
@Processor(historyQueue, { concurrency: 1, pollingIntervalSeconds: 0.1 })
class HistoryProcessor {
  process(job: Job<Task>) {
    return handle('w-history', job);
  }
}
@Processor(filteredQueue)
class FilteredProcessor {
  process(job: Job<Task>) {
    return handle('w-filtered', job);
  }
}

@Processor(singletonQueue, { concurrency: 3 })
class SingletonProcessor {
  process(job: Job<Task>) {
    return handle('w-singleton', job);
  }
}

@Processor(heartbeatQueue)
class HeartbeatProcessor {
  process(job: Job<Task>) {
    return handle('w-heartbeat', job);
  }
}

@Module({
  providers: [HeartbeatProcessor, SingletonProcessor, BasicProcessor, PriorityProcessor, RetryProcessor, InvalidProcessor, TimeoutProcessor, PoisonProcessor, HistoryProcessor, FilteredProcessor],
})
class ProcessorsModule {}

const ALL_QUEUES: QueueDefinition<any>[] = [heartbeatQueue, singletonQueue, basicQueue, priorityQueue, retryQueue, invalidQueue, timeoutQueue, poisonQueue, historyQueue, filteredQueue];
const SERVED = ALL_QUEUES.filter((q) => q !== filteredQueue).map((q) => q.name);

async function jobRow(db: TestDatabase, id: string) {
  const { rows } = await db.pool.query(`SELECT * FROM pgboss.job WHERE id = $1`, [id]);
  return rows[0];
}
async function errorRows(db: TestDatabase, id: string) {
  const { rows } = await db.pool.query(`SELECT * FROM bosun.job_error WHERE job_id = $1 ORDER BY attempt`, [id]);
  return rows;
}

describe('worker runtime', () => {
  let db: TestDatabase;
  let client: Awaited<ReturnType<typeof startBosun>>;
  let worker: INestApplicationContext | undefined;
  let workerEvents: Array<[keyof BosunEventMap, unknown]> = [];
  let workerLines: Array<Record<string, unknown>> = [];

  const send = (queue: QueueDefinition<any>, data: object, options: object = {}) => client.boss.boss.send(queue.name, data, options);

  async function startWorker(queueFilter: string[] = SERVED) {
    const ctx = await startBosun({ connectionString: db.url, role: 'worker', instanceId: 'test-worker', queueFilter, queues: ALL_QUEUES }, [ProcessorsModule]);
    worker = ctx.app;
    workerLines = ctx.lines;
    workerLogger = ctx.app.get<Logger>(BOSUN_LOGGER);
    workerEvents = [];
    const events = ctx.app.get(BosunEvents);
    events.on('job.started', (e) => workerEvents.push(['job.started', e]));
    events.on('job.finished', (e) => workerEvents.push(['job.finished', e]));
    await waitFor(() => ctx.app.get(WorkerRuntime).status().length === queueFilter.length, 'the worker runtime to start its runners');
    return ctx;
  }
  async function stopWorker() {
    await worker?.close();
    worker = undefined;
  }

  beforeAll(async () => {
    db = await createTestDatabase('worker');
    // A client process declares the queues and sends; workers come and go.
    client = await startBosun({ connectionString: db.url, queues: ALL_QUEUES });
  });
  afterAll(async () => {
    await worker?.close();
    await client?.app.close();
    await db?.drop();
  });
  beforeEach(() => {
    seen.length = 0;
    aborts.length = 0;
    throwValue = () => undefined;
    onStart = async () => undefined;
  });

  it('starts higher priority jobs first among those already waiting', async () => {
    await send(priorityQueue, { label: 'low', ms: 0 }, { priority: 1 });
    await send(priorityQueue, { label: 'none', ms: 0 });
    await send(priorityQueue, { label: 'high', ms: 0 }, { priority: 10 });
    await send(priorityQueue, { label: 'mid', ms: 0 }, { priority: 5 });
    await startWorker();
    await waitFor(() => seen.filter((s) => s.queue === 'w-priority').length === 4, 'four priority jobs');
    expect(seen.filter((s) => s.queue === 'w-priority').map((s) => [s.label, s.priority])).toEqual([['high', 10], ['mid', 5], ['low', 1], ['none', 0]]);
  });

  it('gives process(job) typed validated data, id, attempt, priority and a signal; emits job events; completes the job', async () => {
    const id = await send(basicQueue, { label: 'hello', ms: 0 }, { priority: 3 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'completed', 'the job to complete');
    expect(seen).toEqual([{ queue: 'w-basic', label: 'hello', attempt: 1, priority: 3, id, isTask: true, hasSignal: true }]);
    expect(workerEvents).toEqual(expect.arrayContaining([
      ['job.started', expect.objectContaining({ queue: 'w-basic', jobId: id, attempt: 1, waitMs: expect.any(Number) })],
      ['job.finished', expect.objectContaining({ queue: 'w-basic', jobId: id, attempt: 1, outcome: 'completed', durationMs: expect.any(Number) })],
    ]));
  });

  it('runs each handler in its job context: its log lines carry queue, jobId and attempt; readiness knows the served queues', async () => {
    const id = await send(basicQueue, { label: 'log-context', ms: 0 });
    await waitFor(() => workerLines.find((l) => l.msg === 'inside the handler'), 'the handler to log');
    expect(workerLines.find((l) => l.msg === 'inside the handler')).toMatchObject({ queue: 'w-basic', jobId: id, attempt: 1, label: 'log-context' });
    expect(worker!.get(ServedQueues).list().sort()).toEqual([...SERVED].sort());
    // Its maintenance timers are Nest's, so Nest clears them on shutdown too.
    expect(worker!.get(SchedulerRegistry).getIntervals()).toEqual(expect.arrayContaining(['bosun.worker.rescue', 'bosun.worker.prune-job-errors']));
  });

  it('wakes on NOTIFY: a job sent to an idle queue starts well before the next poll', async () => {
    // The basic queue polls every 2 s; a start within a second means NOTIFY woke it.
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = seen.length;
      const sentAt = Date.now();
      await send(basicQueue, { label: `notify-${i}`, ms: 0 });
      await waitFor(() => seen.length > before, 'the job to start', 5_000, 5);
      waits.push(Date.now() - sentAt);
    }
    expect(Math.min(...waits)).toBeLessThan(1000);
  });

  it('runs queues of other policies through pg-boss fetch, with their rules (singleton: one active at a time)', async () => {
    const ids: Array<string | null> = [];
    for (let i = 0; i < 3; i++) ids.push(await send(singletonQueue, { label: `single-${i}`, ms: 300 }, { priority: 3 - i }));
    let maxActive = 0;
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT state, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) GROUP BY state`, [ids]);
      const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
      maxActive = Math.max(maxActive, byState.active ?? 0);
      return byState.completed === 3;
    }, 'the three singleton jobs to complete', 15_000, 20);
    expect(maxActive).toBe(1);
    expect(seen.filter((s) => s.queue === 'w-singleton').map((s) => [s.label, s.priority])).toEqual([['single-0', 3], ['single-1', 2], ['single-2', 1]]);
  });

  it('heartbeats a long job every heartbeatSeconds / 2 while it runs', async () => {
    const id = await send(heartbeatQueue, { label: 'long-heartbeat', ms: 7_500 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'completed', 'the long job to complete', 20_000);
    // heartbeatSeconds 10: the touch after 5 s moved heartbeat_on past started_on (completion leaves it as it was).
    const row = await jobRow(db, id!);
    expect(row.heartbeat_seconds).toBe(10);
    expect(new Date(row.heartbeat_on).getTime() - new Date(row.started_on).getTime()).toBeGreaterThanOrEqual(4_000);
    expect(seen.filter((s) => s.id === id).map((s) => s.attempt)).toEqual([1]);
  });

  it('gives every queue a heartbeat by default, so a lost worker is noticed in seconds, not at expiry', async () => {
    const { rows } = await db.pool.query(`SELECT heartbeat_seconds FROM pgboss.queue WHERE name = 'w-basic'`);
    expect(rows[0].heartbeat_seconds).toBe(30);
  });

  it('retries with exponential backoff within its bounds, then dead-letters with every attempt recorded', async () => {
    throwValue = (label, attempt) => new Error(`boom ${label} #${attempt}`);
    const id = await send(retryQueue, { label: 'flaky', ms: 0 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'failed', 'the job to fail for good', 30_000);
    const errors = await errorRows(db, id!);
    expect(errors.map((e) => [e.attempt, e.kind, e.message, e.instance])).toEqual([
      [1, 'error', 'boom flaky #1', 'test-worker'],
      [2, 'error', 'boom flaky #2', 'test-worker'],
      [3, 'error', 'boom flaky #3', 'test-worker'],
    ]);
    expect(errors[0].stack).toMatch(/boom flaky #1\n\s+at /);
    // Each retry started no earlier than retryDelay * 2^(n-1) seconds after the failure (the database's clock);
    // pg-boss's jitter puts the due time in [delay * 2^(n-1), delay * 2^n].
    const starts = seen.filter((s) => s.id === id).map((s) => s.attempt);
    expect(starts).toEqual([1, 2, 3]);
    const { rows: attempts } = await db.pool.query(`SELECT created_at FROM bosun.job_error WHERE job_id = $1 ORDER BY attempt`, [id]);
    const gaps = [1, 2].map((i) => new Date(attempts[i].created_at).getTime() - new Date(attempts[i - 1].created_at).getTime());
    // A retry cannot start before it is due (the upper bounds are checked on the scheduled time in the next test).
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    const { rows: dead } = await db.pool.query(`SELECT data, source_id FROM pgboss.job WHERE name = 'w-retry-dead'`);
    expect(dead).toEqual([{ data: { label: 'flaky', ms: 0 }, source_id: id }]);
    expect(workerEvents.filter(([n, e]) => n === 'job.finished' && (e as { jobId: string }).jobId === id).map(([, e]) => (e as { outcome: string }).outcome)).toEqual(['retry', 'retry', 'dead-lettered']);
  });

  it('schedules each retry inside the backoff bounds, on the database clock', async () => {
    throwValue = () => new Error('always');
    // A claim leaves start_after alone: at attempt 2 the row still holds the due time the first failure computed.
    const dueAtAttempt: Record<number, Date> = {};
    onStart = async (job) => {
      if (job.data.label === 'bounds') dueAtAttempt[job.attempt] = (await jobRow(db, job.id)).start_after;
    };
    const id = await send(retryQueue, { label: 'bounds', ms: 0 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'failed', 'the job to fail for good', 30_000);
    const errors = await errorRows(db, id!);
    const failedAt = (attempt: number) => new Date(errors.find((e) => e.attempt === attempt).created_at).getTime();
    // retryDelay 1, backoff: the n-th retry is due retryDelay * 2^(n-1) to retryDelay * 2^n seconds after the failure
    // (the failure and its history row share a transaction, hence one now()).
    const first = new Date(dueAtAttempt[2]!).getTime() - failedAt(1);
    expect(first).toBeGreaterThanOrEqual(1000);
    expect(first).toBeLessThanOrEqual(2000);
    // The terminal failure keeps the last retry's due time.
    const second = new Date((await jobRow(db, id!)).start_after).getTime() - failedAt(2);
    expect(second).toBeGreaterThanOrEqual(2000);
    expect(second).toBeLessThanOrEqual(4000);
  });

  it('dead-letters an invalid payload at once, without retries, with the validation error recorded', async () => {
    const id = await send(invalidQueue, { label: 'x'.repeat(60), ms: -1 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'failed', 'the invalid job to fail');
    expect(seen.filter((s) => s.queue === 'w-invalid')).toEqual([]);
    const row = await jobRow(db, id!);
    expect(row.retry_count).toBe(0);
    expect(row.output.message).toMatch(/invalid payload for queue w-invalid: label: label must be shorter than or equal to 50 characters, ms: ms must not be less than 0/);
    const errors = await errorRows(db, id!);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ attempt: 1, kind: 'invalid-payload', error_name: 'PayloadValidationError' });
    const { rows: dead } = await db.pool.query(`SELECT id, source_id FROM pgboss.job WHERE name = 'w-invalid-dead'`);
    expect(dead).toHaveLength(1);
    // The history reads the same through the dead letter's own id.
    const history = await worker!.get(JobErrors).list(dead[0].id);
    expect(history.map((h) => [h.jobId, h.kind])).toEqual([[id, 'invalid-payload']]);
  });

  it('times out an attempt at expireInSeconds: the signal aborts, the attempt fails and is retried', async () => {
    throwValue = () => undefined;
    const id = await send(timeoutQueue, { label: 'slow', ms: 30_000 });
    await waitFor(() => aborts.some((a) => a.label === 'slow'), 'the slow job to be aborted', 10_000);
    const abort = aborts.find((a) => a.label === 'slow')!;
    expect(abort.reason).toBeInstanceOf(JobAbortedError);
    expect(abort.reason).toMatchObject({ reason: 'timeout', message: 'job timed out after 1s (expireInSeconds)' });
    await waitFor(async () => (await errorRows(db, id!)).length === 1, 'the timeout to be recorded');
    expect((await errorRows(db, id!))[0]).toMatchObject({ attempt: 1, kind: 'timeout' });
    // The retry runs (and times out too: retryLimit 1), then the job fails for good.
    await waitFor(async () => (await jobRow(db, id!)).state === 'failed', 'the job to fail after its retry', 15_000);
    expect(seen.filter((s) => s.id === id).map((s) => s.attempt)).toEqual([1, 2]);
  });

  it('keeps a readable message for non-Error throws', async () => {
    const values: Record<string, unknown> = { str: 'plain string', obj: { code: 42, reason: 'nope' }, num: 7, undef: undefined };
    throwValue = (label) => (label === 'undef' ? undefined : values[label]);
    const ids: Record<string, string> = {};
    for (const label of ['str', 'obj', 'num']) ids[label] = (await send(poisonQueue, { label, ms: 0 }))!;
    await waitFor(async () => {
      for (const id of Object.values(ids)) if ((await jobRow(db, id)).state !== 'failed') return false;
      return true;
    }, 'the three jobs to fail');
    expect((await errorRows(db, ids.str!))[0].message).toBe('plain string');
    expect((await errorRows(db, ids.obj!))[0].message).toBe('handler threw a non-Error value: {"code":42,"reason":"nope"}');
    expect((await errorRows(db, ids.num!))[0].message).toBe('handler threw a non-Error value: 7');
  });

  it('keeps the last five attempts of the error history', async () => {
    throwValue = (_label, attempt) => new Error(`attempt ${attempt} failed`);
    const id = await send(historyQueue, { label: 'seven', ms: 0 });
    await waitFor(async () => (await jobRow(db, id!)).state === 'failed', 'seven attempts to fail', 30_000);
    const history = await worker!.get(JobErrors).list(id!);
    expect(history.map((h) => h.attempt)).toEqual([7, 6, 5, 4, 3]);
    expect(history[0]).toMatchObject({ message: 'attempt 7 failed', kind: 'error', instance: 'test-worker', queue: 'w-history' });
  });

  it('drains a burst: every job runs once and is recorded completed (claims and batched completions overlap)', async () => {
    const jobs = Array.from({ length: 500 }, (_, i) => ({ data: { label: `burst-${i}`, ms: 0 } }));
    const ids = await client.boss.boss.insert(basicQueue.name, jobs, { returnId: true });
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) AND state = 'completed'`, [ids]);
      return rows[0].n === 500;
    }, 'the 500 jobs to complete', 30_000);
    const runs = seen.filter((s) => s.label.startsWith('burst-'));
    expect(runs).toHaveLength(500);
    expect(new Set(runs.map((r) => r.id)).size).toBe(500);
  });

  it('claims and settles on a fixed set of connections, whatever the number of queues it serves', async () => {
    expect(SERVED.length).toBeGreaterThan(CLAIM_LANES);
    if (!worker) await startWorker();
    // Jobs on three queues at once: every queue's runner claims and settles.
    const ids = [
      ...((await client.boss.boss.insert(basicQueue.name, [{ data: { label: 'lanes-a', ms: 0 } }], { returnId: true })) ?? []),
      ...((await client.boss.boss.insert(historyQueue.name, [{ data: { label: 'lanes-b', ms: 0 } }], { returnId: true })) ?? []),
      ...((await client.boss.boss.insert(heartbeatQueue.name, [{ data: { label: 'lanes-c', ms: 0 } }], { returnId: true })) ?? []),
    ];
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) AND state = 'completed'`, [ids]);
      return rows[0].n === 3;
    }, 'the three jobs to complete');
    const { rows } = await db.pool.query(
      `SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'bosun-worker-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([{ name: 'bosun-worker-claim', n: CLAIM_LANES }, { name: 'bosun-worker-settle', n: 1 }]);
  });

  it('does not let a poison job block the queue behind it', async () => {
    throwValue = (label) => (label === 'poison' ? new Error('poisoned') : undefined);
    const poison = await send(poisonQueue, { label: 'poison', ms: 0 }, { priority: 100 });
    const good: Array<string | null> = [];
    for (let i = 0; i < 20; i++) good.push(await send(poisonQueue, { label: `good-${i}`, ms: 0 }));
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) AND state = 'completed'`, [good]);
      return rows[0].n === 20;
    }, 'the 20 good jobs to complete');
    expect((await jobRow(db, poison!)).state).toBe('failed');
  });

  it('serves only the queues in BOSUN_QUEUES', async () => {
    const id = await send(filteredQueue, { label: 'filtered', ms: 0 });
    const marker = await send(basicQueue, { label: 'marker', ms: 0 });
    await waitFor(async () => (await jobRow(db, marker!)).state === 'completed', 'the marker job to complete');
    expect((await jobRow(db, id!)).state).toBe('created');
    expect(worker!.get(WorkerRuntime).status().map((s) => s.queue).sort()).toEqual([...SERVED].sort());
    await stopWorker();
    await startWorker(['w-filtered']);
    await waitFor(async () => (await jobRow(db, id!)).state === 'completed', 'the filtered job to complete on a worker that serves it');
    expect(worker!.get(WorkerRuntime).status().map((s) => s.queue)).toEqual(['w-filtered']);
  });

  it('releases jobs still running when the app closes, without spending a retry', async () => {
    await stopWorker();
    await startWorker();
    const id = await send(basicQueue, { label: 'long', ms: 30_000 });
    await waitFor(() => seen.some((s) => s.id === id), 'the long job to start');
    const before = await jobRow(db, id!);
    await stopWorker();
    const after = await jobRow(db, id!);
    expect(after.state).toBe('retry');
    expect(after.retry_limit).toBe(before.retry_limit + 1);
    expect(aborts.find((a) => a.label === 'long')?.reason).toMatchObject({ reason: 'shutdown' });
    expect((await errorRows(db, id!)).map((e) => e.kind)).toEqual(['released']);
  });

  it('recovers when its database connections are cut (a Postgres restart, a failover)', async () => {
    await stopWorker();
    await startWorker();
    const { rows: cut } = await db.pool.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'bosun-worker%' AND pid <> pg_backend_pid()`,
    );
    expect(cut.length).toBeGreaterThan(0);
    const ids: Array<string | null> = [];
    for (let i = 0; i < 5; i++) ids.push(await send(basicQueue, { label: `after-cut-${i}`, ms: 0 }));
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) AND state = 'completed'`, [ids]);
      return rows[0].n === 5;
    }, 'the jobs sent after the cut to complete', 20_000);
  });

  it('refuses bad processor options, naming the field', () => {
    expect(() => Processor(basicQueue, { concurrency: 0 })).toThrow(new ProcessorOptionsError('@Processor(w-basic): concurrency must be an integer between 1 and 10000, got 0', 'w-basic', 'concurrency'));
    expect(() => Processor(basicQueue, { concurency: 2 } as never)).toThrow(/concurency is not a processor option/);
  });

  it('stays idle outside the worker role', async () => {
    expect(client.app.get(WorkerRuntime).status()).toEqual([]);
    expect(client.app.get(BossService)).toBeDefined();
    // The client context knows the processors' queues (declared everywhere), but runs none.
    const { app } = await startBosun({ connectionString: db.url, role: 'scheduler', queues: ALL_QUEUES }, [ProcessorsModule]);
    try {
      expect(app.get(WorkerRuntime).status()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

// Keep the module referenced so its decorators run even if a test is filtered out.
void BosunModule;
