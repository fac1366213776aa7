import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss, type JobInsert } from 'pg-boss';
import { Logger as GraphileLogger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import { Queue as BullQueue, Worker as BullWorker, createPostgresBackend, type PostgresPoolConfig } from 'bullmq';
import { migrate } from '../libs/bosun/src/db/migrate.js';
import { createLogger } from '../libs/bosun/src/logging/logger.js';
import { BosunModule } from '../libs/bosun/src/module/bosun.module.js';
import { defineQueue } from '../libs/bosun/src/queues/define-queue.js';
import type { Job } from '../libs/bosun/src/worker/job.js';
import { Processor } from '../libs/bosun/src/worker/processor.decorator.js';
import { WorkerRuntime } from '../libs/bosun/src/worker/worker.service.js';

/**
 * `npm run bench:worker`: the worker runtime against plain pg-boss 12 (and graphile-worker, BullMQ 6 on its Postgres
 * backend), in one run on one machine. Each scenario runs in a
 * child process of its own (clean RSS, no shared pools) on a fresh database, and prints JSON lines:
 * {"bench":..., "system":..., "metric":..., "value":..., "unit":...}.
 * Options: --admin-url postgres://... (default the local server), --only <scenario prefix>, --skip <a,b>, --rounds N, --drain-jobs N,
 * --pg-boss-configs 200x1,500x2, --graphile-configs 50x1000, --bullmq-concurrencies 50,100,200, --bullmq-pool-max 10.
 */

const args = process.argv.slice(2);
const arg = (name: string, fallback?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const ADMIN_URL = arg('admin-url', 'postgres://postgres@127.0.0.1:5432/postgres')!;
const DRAIN_JOBS = Number(arg('drain-jobs', '20000'));
/** pg-boss batch configurations tried (batchSize x localConcurrency), and graphile-worker's (concurrency x localQueue size). */
const PG_BOSS_CONFIGS = '100x1,200x1,500x1,200x2,500x2,1000x2';
const GRAPHILE_CONFIGS = '10x500,50x1000';
const LATENCY_JOBS = 200;
const LATENCY_INTERVAL_MS = 20;
const MIXED_JOBS = 10_000;
const MIXED_CONCURRENCY = 50;

function line(bench: string, system: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) {
  process.stdout.write(JSON.stringify({ bench, system, metric, value: Math.round(value * 100) / 100, unit, ...extra }) + '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bosun_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    await migrate(url);
    return await fn(url);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

async function countCompleted(pool: pg.Pool, queue: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`, [queue]);
  return rows[0].n;
}

/**
 * Waits until n handlers have run (an in-process count: polling the table meanwhile would load the database under
 * test), then until the database records n completed. Every system's drain is timed this way.
 */
async function waitCompleted(pool: pg.Pool, queue: string, n: number, timeoutMs = 600_000): Promise<void> {
  await waitHandled(n, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  while ((await countCompleted(pool, queue)) < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} completions on ${queue}`);
    await sleep(5);
  }
}

async function waitHandled(n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (handled < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} handler calls (${handled} so far)`);
    await sleep(2);
  }
}

async function insertJobs(boss: PgBoss, queue: string, jobs: JobInsert[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 5000) await boss.insert(queue, jobs.slice(i, i + 5000));
}

function rss(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Latency runs send LATENCY_WARMUP unmeasured jobs first (negative n), so every system's first-use costs stay out of the tail. */
const LATENCY_WARMUP = 20;

/** Sends one job every LATENCY_INTERVAL_MS; returns when each measured job (n >= 0) was sent. */
async function sendPaced(send: (n: number) => Promise<unknown>): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  for (let n = -LATENCY_WARMUP; n < LATENCY_JOBS; n++) {
    if (n >= 0) sentAt.set(String(n), performance.now() + performance.timeOrigin);
    await send(n);
    await sleep(LATENCY_INTERVAL_MS);
  }
  return sentAt;
}

async function waitStarted(starts: Map<string, number>, sentAt: Map<string, number>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ([...sentAt.keys()].some((n) => !starts.has(n)) && Date.now() < deadline) await sleep(10);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// --- bosun in-process workers --------------------------------------------------------------------------------------

const noopQueue = defineQueue('bench-noop', { retryLimit: 0 });
const latencyQueue = defineQueue('bench-latency', { retryLimit: 0 });
const mixedQueue = defineQueue('bench-mixed', { retryLimit: 0 });

const NOOP_CONCURRENCY = Number(arg("noop-concurrency", "200"));
/** Every system's drain clock starts when its first job starts and stops when the last one is recorded completed. */
let firstStart: number | undefined;
/** Handler calls (jobs handed to a handler) in this child process. */
let handled = 0;
const markStart = (jobs = 1) => {
  firstStart ??= performance.now();
  handled += jobs;
};
const countHandled = (jobs = 1) => {
  handled += jobs;
};
@Processor(noopQueue, { concurrency: NOOP_CONCURRENCY })
class NoopProcessor {
  process() {
    markStart();
  }
}
const latencyStarts = new Map<string, number>();
@Processor(latencyQueue, { concurrency: 10 })
class LatencyProcessor {
  process(job: Job<{ n: number }>) {
    latencyStarts.set(String(job.data.n), performance.now() + performance.timeOrigin);
  }
}
@Processor(mixedQueue, { concurrency: MIXED_CONCURRENCY })
class MixedProcessor {
  process(job: Job<{ ms: number }>) {
    countHandled();
    return sleep(job.data.ms);
  }
}

/** Boots a worker context; `servingAt` is when its runners exist (the moment pg-boss's work() returns, for the peers). */
async function startBosunWorker(url: string, processors: Array<new (...a: any[]) => unknown>): Promise<INestApplicationContext & { servingAt: number }> {
  @Module({ providers: processors })
  class BenchProcessors {}
  const logger = createLogger({ level: 'silent' });
  const app = await NestFactory.createApplicationContext(
    {
      module: class BenchRoot {},
      imports: [BosunModule.forRoot({ connectionString: url, role: 'worker', instanceId: 'bench', logger, queues: [noopQueue, latencyQueue, mixedQueue], poolMax: 10 }), BenchProcessors],
    },
    { logger: false },
  );
  const init = app.init();
  const runtime = app.get(WorkerRuntime);
  const deadline = Date.now() + 30_000;
  while (runtime.status().length === 0) {
    if (Date.now() > deadline) throw new Error('bosun worker did not start');
    await sleep(1);
  }
  const servingAt = performance.now();
  await init;
  return Object.assign(app, { servingAt });
}

function plainBoss(url: string): PgBoss {
  const boss = new PgBoss({ connectionString: url, max: 10, migrate: false, supervise: false, schedule: false, useListenNotify: true, registerInstance: false });
  boss.on('error', () => undefined);
  return boss;
}

// --- BullMQ 6 on its PostgreSQL backend (bench-only peer) ---------------------------------------------------------

/** BullMQ's own pool (max 10 as the others, or --bullmq-pool-max) in its default `bullmq` schema; `migrate` creates its tables. */
function bullConnection(url: string): PostgresPoolConfig {
  return { connectionString: url, max: Number(arg('bullmq-pool-max', '10')), migrate: true };
}

/** BullMQ keeps completed jobs by default (removeOnComplete unset), as pg-boss does: count them in its table. */
async function waitBullCompleted(pool: pg.Pool, queue: string, n: number, timeoutMs = 600_000): Promise<void> {
  await waitHandled(n, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM bullmq.job WHERE queue = $1 AND state = 'completed'`, [queue]);
    if (rows[0].n >= n) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} BullMQ completions on ${queue}`);
    await sleep(20);
  }
}

/** close() waits for in-flight work; the scenario has measured already, so a stuck close must not hang the child. */
async function closeBull(...closables: Array<{ close(force?: boolean): Promise<void> }>): Promise<void> {
  await Promise.race([Promise.all(closables.map((c) => c.close(true).catch(() => undefined))), sleep(5_000)]);
}

// --- scenarios ---------------------------------------------------------------------------------------------------

const scenarios: Record<string, () => Promise<void>> = {
  /** Drain N queued no-op jobs: workers are up and idle, the jobs land in bulk, the clock runs until the last completes. */
  async 'drain:bosun'() {
    await withDatabase(async (url) => {
      const app = await startBosunWorker(url, [NoopProcessor]);
      const boss = plainBoss(url);
      await boss.start();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      const jobs = Array.from({ length: DRAIN_JOBS }, () => ({ data: {} }));
      // The first context only created the queue: the backlog is inserted with no worker running, as for the peers.
      await app.close();
      await insertJobs(boss, noopQueue.name, jobs);
      const app2 = await startBosunWorker(url, [NoopProcessor]);
      await waitCompleted(pool, noopQueue.name, DRAIN_JOBS);
      const seconds = (performance.now() - firstStart!) / 1000;
      line('drain-20k', `bosun (concurrency ${NOOP_CONCURRENCY})`, 'throughput', DRAIN_JOBS / seconds, 'jobs/s', { jobs: DRAIN_JOBS, seconds: Math.round(seconds * 1000) / 1000 });
      line('drain-20k', `bosun (concurrency ${NOOP_CONCURRENCY})`, 'rss-after-drain', rss(), 'MiB');
      await app2.close();
      await boss.stop({ graceful: false, close: true });
      await pool.end();
    });
  },

  async 'drain:pg-boss-batch'() {
    const configs = (arg('pg-boss-configs', PG_BOSS_CONFIGS) as string).split(',').map((c) => {
      const [batchSize, localConcurrency] = c.split('x').map(Number);
      return { batchSize: batchSize!, localConcurrency: localConcurrency! };
    });
    for (const c of configs) {
      await withDatabase(async (url) => {
        const boss = plainBoss(url);
        await boss.start();
        await boss.createQueue('noop', { notify: true, retryLimit: 0 });
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        await insertJobs(boss, 'noop', Array.from({ length: DRAIN_JOBS }, () => ({ data: {} })));
        firstStart = undefined;
        handled = 0;
        await boss.work('noop', { ...c, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (batch) => {
          markStart(batch.length);
        });
        await waitCompleted(pool, 'noop', DRAIN_JOBS);
        const seconds = (performance.now() - firstStart!) / 1000;
        const label = `pg-boss batchSize ${c.batchSize} x${c.localConcurrency}`;
        line('drain-20k', label, 'throughput', DRAIN_JOBS / seconds, 'jobs/s', { jobs: DRAIN_JOBS, seconds: Math.round(seconds * 1000) / 1000 });
        await boss.stop({ graceful: false, close: true });
        await pool.end();
      });
    }
  },

  /** pg-boss's usual per-job handler (batchSize 1, 0.5 s polling): measured over a 10 s window, not the whole backlog. */
  async 'drain:pg-boss-default'() {
    await withDatabase(async (url) => {
      const boss = plainBoss(url);
      await boss.start();
      await boss.createQueue('noop', { notify: true, retryLimit: 0 });
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      await insertJobs(boss, 'noop', Array.from({ length: 5000 }, () => ({ data: {} })));
      let handled = 0;
      const started = performance.now();
      await boss.work('noop', { pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, async () => {
        handled++;
      });
      await sleep(10_000);
      const done = await countCompleted(pool, 'noop');
      const seconds = (performance.now() - started) / 1000;
      line('drain-20k', 'pg-boss default per-job handler', 'throughput', done / seconds, 'jobs/s', { window: '10s', handled, pollingIntervalSeconds: 0.5 });
      await boss.stop({ graceful: false, close: true });
      await pool.end();
    });
  },

  /** graphile-worker (optional peer) with its local queue: its best configuration of those tried. */
  async 'drain:graphile-worker'() {
    const logger = new GraphileLogger(() => () => undefined);
    const configs = (arg('graphile-configs', GRAPHILE_CONFIGS) as string).split(',').map((c) => {
      const [concurrency, size] = c.split('x').map(Number);
      return { concurrency: concurrency!, size: size! };
    });
    for (const c of configs) {
      await withDatabase(async (url) => {
        // Our own pool, with an error listener: the database is dropped (connections terminated) when the run ends.
        const gwPool = new pg.Pool({ connectionString: url, max: c.concurrency + 2 });
        gwPool.on('error', () => undefined);
        const utils = await makeWorkerUtils({ pgPool: gwPool, logger });
        await utils.migrate();
        for (let i = 0; i < DRAIN_JOBS; i += 5000) {
          await utils.addJobs(Array.from({ length: Math.min(5000, DRAIN_JOBS - i) }, () => ({ identifier: 'noop', payload: {} })));
        }
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        firstStart = undefined;
        handled = 0;
        const runner = await runGraphile({
          pgPool: gwPool, concurrency: c.concurrency, noHandleSignals: true, pollInterval: 500, logger,
          taskList: { noop: async () => markStart() },
          preset: { worker: { localQueue: { size: c.size }, completeJobBatchDelay: 0 } },
        });
        // graphile-worker deletes a job when it completes: done when none is left.
        await waitHandled(DRAIN_JOBS);
        for (;;) {
          const { rows } = await pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs`);
          if (rows[0].n === 0) break;
          await sleep(5);
        }
        const seconds = (performance.now() - firstStart!) / 1000;
        line('drain-20k', `graphile-worker concurrency ${c.concurrency} localQueue ${c.size}`, 'throughput', DRAIN_JOBS / seconds, 'jobs/s', { jobs: DRAIN_JOBS, seconds: Math.round(seconds * 1000) / 1000 });
        await runner.stop();
        await utils.release();
        await pool.end();
        await gwPool.end();
      });
    }
  },

  /** BullMQ 6 on Postgres (optional peer): jobs added with addBulk before the worker starts; Worker concurrencies tried. */
  async 'drain:bullmq'() {
    const concurrencies = (arg('bullmq-concurrencies', '50,100,200') as string).split(',').map(Number);
    for (const concurrency of concurrencies) {
      await withDatabase(async (url) => {
        const connection = bullConnection(url);
        const queue = new BullQueue('noop', { connection }, createPostgresBackend);
        queue.on('error', () => undefined);
        await queue.waitUntilReady();
        for (let i = 0; i < DRAIN_JOBS; i += 5000) {
          await queue.addBulk(Array.from({ length: Math.min(5000, DRAIN_JOBS - i) }, () => ({ name: 'noop', data: {} })));
        }
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        firstStart = undefined;
        handled = 0;
        const worker = new BullWorker('noop', async () => markStart(), { connection, concurrency }, createPostgresBackend);
        worker.on('error', () => undefined);
        await waitBullCompleted(pool, 'noop', DRAIN_JOBS);
        const seconds = (performance.now() - firstStart!) / 1000;
        line('drain-20k', `bullmq (postgres) concurrency ${concurrency}`, 'throughput', DRAIN_JOBS / seconds, 'jobs/s', { jobs: DRAIN_JOBS, seconds: Math.round(seconds * 1000) / 1000 });
        line('drain-20k', `bullmq (postgres) concurrency ${concurrency}`, 'rss-after-drain', rss(), 'MiB');
        await closeBull(worker, queue);
        await pool.end();
      });
    }
  },

  /** One job every 20 ms to an idle queue: enqueue-to-start latency. */
  async 'latency:bosun'() {
    await withDatabase(async (url) => {
      const app = await startBosunWorker(url, [LatencyProcessor]);
      const boss = plainBoss(url);
      await boss.start();
      const sentAt = await sendPaced((n) => boss.send(latencyQueue.name, { n }));
      await waitStarted(latencyStarts, sentAt);
      const waits = [...sentAt].map(([n, t]) => latencyStarts.get(n)! - t).sort((a, b) => a - b);
      line('latency-light', 'bosun', 'p50', percentile(waits, 50), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      line('latency-light', 'bosun', 'p99', percentile(waits, 99), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      await app.close();
      await boss.stop({ graceful: false, close: true });
    });
  },

  async 'latency:pg-boss'() {
    await withDatabase(async (url) => {
      const boss = plainBoss(url);
      await boss.start();
      await boss.createQueue('lat', { notify: true, retryLimit: 0 });
      const starts = new Map<string, number>();
      await boss.work<{ n: number }>('lat', { pollingIntervalSeconds: 0.5 }, async ([job]) => {
        starts.set(String(job!.data.n), performance.now() + performance.timeOrigin);
      });
      await sleep(500);
      const sentAt = await sendPaced((n) => boss.send('lat', { n }));
      await waitStarted(starts, sentAt);
      const waits = [...sentAt].map(([n, t]) => starts.get(n)! - t).sort((a, b) => a - b);
      line('latency-light', 'pg-boss (NOTIFY, batchSize 1)', 'p50', percentile(waits, 50), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      line('latency-light', 'pg-boss (NOTIFY, batchSize 1)', 'p99', percentile(waits, 99), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      await boss.stop({ graceful: false, close: true });
    });
  },

  /** BullMQ 6 on Postgres: its worker blocks on LISTEN/NOTIFY for new jobs; concurrency 10 as bosun's latency processor. */
  async 'latency:bullmq'() {
    await withDatabase(async (url) => {
      const connection = bullConnection(url);
      const queue = new BullQueue('lat', { connection }, createPostgresBackend);
      queue.on('error', () => undefined);
      await queue.waitUntilReady();
      const starts = new Map<string, number>();
      // No explicit type arguments: they would pin the backend type parameter to its Redis default.
      const worker = new BullWorker('lat', async (job) => {
        starts.set(String((job.data as { n: number }).n), performance.now() + performance.timeOrigin);
      }, { connection, concurrency: 10 }, createPostgresBackend);
      worker.on('error', () => undefined);
      await worker.waitUntilReady();
      await sleep(500);
      const sentAt = await sendPaced((n) => queue.add('lat', { n }));
      await waitStarted(starts, sentAt);
      const waits = [...sentAt].map(([n, t]) => starts.get(n)! - t).sort((a, b) => a - b);
      line('latency-light', 'bullmq (postgres, concurrency 10)', 'p50', percentile(waits, 50), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      line('latency-light', 'bullmq (postgres, concurrency 10)', 'p99', percentile(waits, 99), 'ms', { jobs: LATENCY_JOBS, intervalMs: LATENCY_INTERVAL_MS });
      await closeBull(worker, queue);
    });
  },

  /** 90% 1 ms and 10% 200 ms jobs at concurrency 50: throughput as a share of the ideal (concurrency / mean duration). */
  async 'mixed:bosun'() {
    await withDatabase(async (url) => {
      const app = await startBosunWorker(url, [MixedProcessor]);
      await app.close();
      const boss = plainBoss(url);
      await boss.start();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      await insertJobs(boss, mixedQueue.name, mixedJobs());
      const app2 = await startBosunWorker(url, [MixedProcessor]);
      await waitCompleted(pool, mixedQueue.name, MIXED_JOBS);
      reportMixed(`bosun (concurrency ${MIXED_CONCURRENCY})`, (performance.now() - app2.servingAt) / 1000);
      await app2.close();
      await boss.stop({ graceful: false, close: true });
      await pool.end();
    });
  },

  async 'mixed:pg-boss-batch'() {
    await withDatabase(async (url) => {
      const boss = plainBoss(url);
      await boss.start();
      await boss.createQueue('mixed', { notify: true, retryLimit: 0 });
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      await insertJobs(boss, 'mixed', mixedJobs());
      const started = performance.now();
      // The batch handler runs its jobs concurrently; a batch ends with its slowest job.
      await boss.work<{ ms: number }>('mixed', { batchSize: MIXED_CONCURRENCY, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        countHandled(jobs.length);
        await Promise.all(jobs.map((j) => sleep(j.data.ms)));
      });
      await waitCompleted(pool, 'mixed', MIXED_JOBS);
      reportMixed(`pg-boss batchSize ${MIXED_CONCURRENCY}`, (performance.now() - started) / 1000);
      await boss.stop({ graceful: false, close: true });
      await pool.end();
    });
  },
};

function mixedJobs(): JobInsert[] {
  // Every tenth job is slow: a fixed pattern, so every system gets the same work.
  return Array.from({ length: MIXED_JOBS }, (_, i) => ({ data: { ms: i % 10 === 9 ? 200 : 1 } }));
}

function reportMixed(system: string, seconds: number) {
  const meanMs = 0.9 * 1 + 0.1 * 200;
  const ideal = MIXED_CONCURRENCY / (meanMs / 1000);
  const rate = MIXED_JOBS / seconds;
  line('mixed-durations', system, 'throughput', rate, 'jobs/s', { jobs: MIXED_JOBS, concurrency: MIXED_CONCURRENCY, idealJobsPerSecond: Math.round(ideal) });
  line('mixed-durations', system, 'share-of-ideal', rate / ideal, 'ratio');
}

// --- driver: each scenario in a child process of its own ----------------------------------------------------------

interface Run { scenario: string; extra?: string[] }

/** Per-peer configuration flags the children read themselves. */
function passThrough(): string[] {
  const flags = ['--bullmq-concurrencies', '--bullmq-pool-max'];
  return args.filter((a, i) => flags.includes(a) || flags.includes(args[i - 1]!));
}

function runChild(run: Run, lines: Array<Record<string, unknown>>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const argv = [fileURLToPath(import.meta.url), '--scenario', run.scenario, '--admin-url', ADMIN_URL, '--drain-jobs', String(DRAIN_JOBS), ...(run.extra ?? []), ...passThrough()];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (!text.startsWith('{')) continue;
        process.stdout.write(text + '\n');
        lines.push(JSON.parse(text));
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scenario ${run.scenario} exited with ${code}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const scenario = arg('scenario');
  if (scenario) {
    // Each run drops its database, terminating whatever connection a library still keeps idle.
    process.on('uncaughtException', (error) => {
      if ((error as { code?: string }).code === '57P01') return;
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    });
    await scenarios[scenario]!();
    // Nest and pg-boss timers may linger; the child's job is done.
    process.exit(0);
  }
  const only = arg('only');
  const rounds = Number(arg('rounds', '3'));
  const plan: Run[] = [];
  // The drain runs alternate, round after round, so a noisy neighbour hits every system alike; medians are reported.
  // Every configuration runs in a fresh process, as bosun's do: a run after others in one process has a warm JIT.
  for (let r = 0; r < rounds; r++) {
    plan.push({ scenario: 'drain:bosun', extra: ['--noop-concurrency', '200'] });
    plan.push({ scenario: 'drain:bosun', extra: ['--noop-concurrency', '1000'] });
    plan.push({ scenario: 'drain:bosun', extra: ['--noop-concurrency', '2000'] });
    for (const c of (arg('pg-boss-configs', PG_BOSS_CONFIGS) as string).split(',')) plan.push({ scenario: 'drain:pg-boss-batch', extra: ['--pg-boss-configs', c] });
    for (const c of (arg('graphile-configs', GRAPHILE_CONFIGS) as string).split(',')) plan.push({ scenario: 'drain:graphile-worker', extra: ['--graphile-configs', c] });
    plan.push({ scenario: 'drain:bullmq' });
  }
  plan.push({ scenario: 'drain:pg-boss-default' });
  for (const name of ['latency:bosun', 'latency:pg-boss', 'latency:bullmq', 'mixed:bosun', 'mixed:pg-boss-batch']) plan.push({ scenario: name });
  const lines: Array<Record<string, unknown>> = [];
  const skip = arg('skip')?.split(',') ?? [];
  for (const run of plan.filter((p) => (!only || p.scenario.startsWith(only)) && !skip.some((k) => p.scenario.includes(k)))) await runChild(run, lines);

  const drains = new Map<string, number[]>();
  for (const l of lines) {
    if (l.bench !== 'drain-20k' || l.metric !== 'throughput' || String(l.system).includes('best')) continue;
    drains.set(String(l.system), [...(drains.get(String(l.system)) ?? []), l.value as number]);
  }
  for (const [system, values] of drains) line('drain-20k', system, 'throughput-median', median(values), 'jobs/s', { runs: values.length });
  const medians = [...drains].map(([system, values]) => ({ system, value: median(values) }));
  const bestPgBoss = medians.filter((m) => m.system.startsWith('pg-boss batchSize')).sort((a, b) => b.value - a.value)[0];
  const bestGraphile = medians.filter((m) => m.system.startsWith('graphile-worker')).sort((a, b) => b.value - a.value)[0];
  const bestBull = medians.filter((m) => m.system.startsWith('bullmq')).sort((a, b) => b.value - a.value)[0];
  const bestBosun = medians.filter((m) => m.system.startsWith('bosun')).sort((a, b) => b.value - a.value)[0];
  if (bestBosun && bestPgBoss) line('drain-20k', `best bosun (${bestBosun.system}) vs best pg-boss (${bestPgBoss.system})`, 'ratio', bestBosun.value / bestPgBoss.value, 'x');
  if (bestBosun && bestGraphile) line('drain-20k', `best bosun (${bestBosun.system}) vs best graphile-worker (${bestGraphile.system})`, 'ratio', bestBosun.value / bestGraphile.value, 'x');
  if (bestBosun && bestBull) line('drain-20k', `best bosun (${bestBosun.system}) vs best bullmq (${bestBull.system})`, 'ratio', bestBosun.value / bestBull.value, 'x');
}

await main();
