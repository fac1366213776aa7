/**
 * Scheduler benchmarks (npm run bench:scheduler). Prints JSON lines {bench, system, metric, value, unit}.
 * - fire lag (due instant -> job inserted and committed) p50/p99 with 1 and 1,000 active schedules,
 *   side by side with pg-boss's built-in cron measured in the same run;
 * - fire lag to handler start: a real worker (a second Nest context in this process, role 'worker', a @Processor
 *   on the schedules' queue) records Date.now() as its handler starts; the due instant is the ledger's due_at, and
 *   the handler's local clock is moved onto the database clock by a measured offset (same host: ~0 ms);
 * - failover time with real scheduler processes: kill -9 of the leader -> first fire by the new leader,
 *   and graceful SIGTERM -> first fire.
 * Env: BOSUN_BENCH_DATABASE_URL (admin URL; default the machine's Postgres), BENCH_FIRES (default 200).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { BossService } from '../libs/bosun/src/boss/boss.service.js';
import { migrate } from '../libs/bosun/src/db/migrate.js';
import { LeaderService } from '../libs/bosun/src/leader/leader.service.js';
import { createLogger } from '../libs/bosun/src/logging/logger.js';
import { BosunModule } from '../libs/bosun/src/module/bosun.module.js';
import { defineQueue } from '../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../libs/bosun/src/runtime/events.js';
import { SchedulerService } from '../libs/bosun/src/scheduler/scheduler.service.js';
import { SchedulesService } from '../libs/bosun/src/scheduler/schedules.service.js';
import type { Job } from '../libs/bosun/src/worker/job.js';
import { Processor } from '../libs/bosun/src/worker/processor.decorator.js';
import { WorkerRuntime } from '../libs/bosun/src/worker/worker.service.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN_URL = process.env.BOSUN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FIRES = Number(process.env.BENCH_FIRES ?? 200);

function emit(bench: string, system: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ bench, system, metric, value: Math.round(value * 100) / 100, unit, ...extra }) + '\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function createDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bosun_bench_${label}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

const benchQueue = defineQueue('bench');

/** An in-process scheduler (the library, role scheduler) collecting fire lags from its events. */
async function startScheduler(url: string) {
  @Module({ imports: [BosunModule.forRoot({ connectionString: url, role: 'scheduler', queues: [benchQueue], instanceId: 'bench', logger: createLogger({ level: 'silent' }) })] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.get(BossService).whenStarted();
  const leader = app.get(LeaderService);
  await until(async () => leader.elector.isConfirmed(), 10_000, 'leadership');
  const lags: number[] = [];
  const insertLags: number[] = [];
  const dues: number[] = [];
  app.get(BosunEvents).on('schedule.fired', (e) => {
    dues.push(e.dueAt.getTime());
    // Committed: the event is emitted after COMMIT, on the same host clock as the database.
    lags.push(Date.now() - e.dueAt.getTime());
    insertLags.push(e.lagMs);
  });
  return { app, schedules: app.get(SchedulesService), lags, insertLags, dues };
}

/** Handler starts on this host's clock, by job id (filled by the bench worker's processor). */
const handlerStarts = new Map<string, number>();

@Processor(benchQueue, { concurrency: 200 })
class BenchProcessor {
  process(job: Job) {
    // First thing in the handler: the instant the worker runtime hands the job to user code.
    handlerStarts.set(job.id, Date.now());
  }
}

@Module({ imports: [BosunModule.forFeature([benchQueue])], providers: [BenchProcessor] })
class BenchProcessorModule {}

/** A real worker (the library, role worker) on the schedules' queue, in its own Nest context and pg pool. */
async function startWorker(url: string) {
  @Module({
    imports: [
      BosunModule.forRoot({ connectionString: url, role: 'worker', queues: [benchQueue], instanceId: 'bench-worker', logger: createLogger({ level: 'silent' }) }),
      BenchProcessorModule,
    ],
  })
  class BenchWorkerModule {}
  const app = await NestFactory.createApplicationContext(BenchWorkerModule, { logger: false });
  await app.get(WorkerRuntime).start();
  return app;
}

/** Database clock minus this host's clock: the sample with the shortest round trip of 20, midpoint rule. */
async function dbClockOffsetMs(url: string): Promise<{ offset: number; rtt: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  let best = { offset: 0, rtt: Infinity };
  for (let i = 0; i < 20; i++) {
    const sent = Date.now();
    const { rows: [r] } = await c.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db`);
    const received = Date.now();
    if (received - sent < best.rtt) best = { offset: r.db - (sent + received) / 2, rtt: received - sent };
  }
  await c.end();
  return best;
}

/**
 * Due -> handler start for every enqueued run with due_at in [from, to) (database time), once each has started.
 * Also due -> claimed, from pg-boss's started_on: database clock on both sides, a cross-check needing no offset.
 */
async function handlerLags(url: string, from: number, to: number, offsetMs: number): Promise<{ toHandler: number[]; toClaim: number[] }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query(
    `SELECT r.job_id::text AS id, (extract(epoch FROM r.due_at) * 1000)::float8 AS due
     FROM bosun.schedule_run r WHERE r.job_id IS NOT NULL AND r.due_at >= to_timestamp($1 / 1000.0) AND r.due_at < to_timestamp($2 / 1000.0)`,
    [from, to],
  );
  await until(async () => rows.every((r) => handlerStarts.has(r.id)), 60_000, `${rows.length} handler starts`);
  const { rows: claims } = await c.query(
    `SELECT (extract(epoch FROM j.started_on - r.due_at) * 1000)::float8 AS lag
     FROM bosun.schedule_run r JOIN pgboss.job j ON j.name = r.queue AND j.id = r.job_id
     WHERE r.job_id = ANY($1::uuid[])`,
    [rows.map((r) => r.id)],
  );
  await c.end();
  return { toHandler: rows.map((r) => handlerStarts.get(r.id)! + offsetMs - r.due), toClaim: claims.map((r) => r.lag) };
}

function emitHandlerLags(label: string, lags: { toHandler: number[]; toClaim: number[] }, clock: { offset: number; rtt: number }): void {
  const extra = { fires: lags.toHandler.length, clockOffsetMs: Math.round(clock.offset * 100) / 100, clockRttMs: clock.rtt };
  emit('scheduler.fire-lag', 'bosun', `p50 due->handler start, ${label}`, percentile(lags.toHandler, 50), 'ms', extra);
  emit('scheduler.fire-lag', 'bosun', `p99 due->handler start, ${label}`, percentile(lags.toHandler, 99), 'ms', extra);
  emit('scheduler.fire-lag', 'bosun', `p99 due->claimed (pg-boss started_on, db clock), ${label}`, percentile(lags.toClaim, 99), 'ms', { fires: lags.toClaim.length });
}

/** pg-boss's own cron, defaults, `count` schedules on '* * * * *': lag = job created_on - the minute it was due. */
async function pgBossCron(url: string, count: number, minutes: number): Promise<() => Promise<number[]>> {
  const boss = new PgBoss({ connectionString: url, schedule: true, supervise: true, application_name: 'bench-pgboss-cron' });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('pgboss-cron');
  for (let i = 0; i < count; i++) await boss.schedule('pgboss-cron', '* * * * *', { i }, { key: `k${i}` });
  const startedAt = Date.now();
  return async () => {
    await until(async () => Date.now() > startedAt + minutes * 60_000, minutes * 60_000 + 5_000, 'pg-boss cron window');
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query(
      `SELECT (extract(epoch FROM created_on) * 1000)::float8 AS created FROM pgboss.job WHERE name = 'pgboss-cron'`,
    );
    await db.end();
    await boss.stop({ graceful: false, close: true });
    // pg-boss cron fires at minute boundaries: the due instant is the start of the minute it was created in.
    return rows.map((r) => r.created - Math.floor(r.created / 60_000) * 60_000);
  };
}

async function fireLagOne(): Promise<void> {
  const db = await createDatabase('lag1');
  await migrate(db.url);
  // pg-boss cron runs alongside in its own database, so both are measured in the same run.
  const pgbDb = await createDatabase('pgbcron');
  await migrate(pgbDb.url);
  const minutes = Math.max(2, Math.ceil(FIRES / 200) + 1);
  const pgbResult = await pgBossCron(pgbDb.url, 200, minutes);
  const worker = await startWorker(db.url);
  const clock = await dbClockOffsetMs(db.url);
  const s = await startScheduler(db.url);
  // A runtime change reaches the leader by NOTIFY: time from create() returning to the leader's timer holding it.
  const runner = s.app.get(SchedulerService).runner;
  const createdAt = performance.now();
  await s.schedules.create({ name: 'bench-1', every: '1s', queue: 'bench', misfire: 'skip' });
  await until(async () => runner.snapshot().some((x) => x.name === 'bench-1'), 5_000, 'the leader picks the schedule up');
  emit('scheduler.notify-pickup', 'bosun', 'runtime create -> leader armed', performance.now() - createdAt, 'ms');
  await until(async () => s.lags.length >= FIRES, FIRES * 1000 + 30_000, `${FIRES} fires`);
  const lags = s.lags.slice(0, FIRES);
  emit('scheduler.fire-lag', 'bosun', 'p50 due->committed, 1 schedule', percentile(lags, 50), 'ms', { fires: lags.length });
  emit('scheduler.fire-lag', 'bosun', 'p99 due->committed, 1 schedule', percentile(lags, 99), 'ms', { fires: lags.length });
  emit('scheduler.fire-lag', 'bosun', 'p99 due->row inserted, 1 schedule', percentile(s.insertLags.slice(0, FIRES), 99), 'ms', { fires: lags.length });
  const dues1 = s.dues.slice(0, FIRES);
  emitHandlerLags('1 schedule', await handlerLags(db.url, Math.min(...dues1), Math.max(...dues1) + 1, clock.offset), clock);
  await s.app.close();
  await worker.close();
  const pgb = await pgbResult();
  emit('scheduler.fire-lag', 'pg-boss cron (defaults)', 'p50 due->inserted', percentile(pgb, 50), 'ms', { fires: pgb.length, schedules: 200 });
  emit('scheduler.fire-lag', 'pg-boss cron (defaults)', 'p99 due->inserted', percentile(pgb, 99), 'ms', { fires: pgb.length, schedules: 200 });
  await db.drop();
  await pgbDb.drop();
}

async function fireLagThousand(): Promise<void> {
  const db = await createDatabase('lag1000');
  await migrate(db.url);
  const worker = await startWorker(db.url);
  const clock = await dbClockOffsetMs(db.url);
  const s = await startScheduler(db.url);
  // 1,000 active schedules spread over the minute (second i % 60 of every minute): ~17 fires a second.
  for (let i = 0; i < 1000; i++) await s.schedules.create({ name: `spread-${i}`, cron: `${i % 60} * * * * *`, queue: 'bench', misfire: 'skip' });
  const spreadFrom = s.lags.length;
  await until(async () => s.lags.length - spreadFrom >= Math.max(FIRES, 400), 120_000, 'spread fires');
  const spread = s.lags.slice(spreadFrom);
  emit('scheduler.fire-lag', 'bosun', 'p50 due->committed, 1000 schedules spread', percentile(spread, 50), 'ms', { fires: spread.length });
  emit('scheduler.fire-lag', 'bosun', 'p99 due->committed, 1000 schedules spread', percentile(spread, 99), 'ms', { fires: spread.length });
  const spreadDues = s.dues.slice(spreadFrom, spreadFrom + spread.length);
  emitHandlerLags('1000 schedules spread', await handlerLags(db.url, Math.min(...spreadDues), Math.max(...spreadDues) + 1, clock.offset), clock);
  // The worst case: all 1,000 due at the same instant (every 10 s), fired in one transaction per pass.
  for (const sched of await s.schedules.list()) await s.schedules.pause(sched.name);
  for (let i = 0; i < 1000; i++) await s.schedules.update(`spread-${i}`, { every: '10s' });
  for (let i = 0; i < 1000; i++) await s.schedules.resume(`spread-${i}`);
  await sleep(11_000); // let the first, possibly partial, burst pass
  const burstFrom = s.lags.length;
  await until(async () => s.lags.length - burstFrom >= 2000, 60_000, 'two bursts');
  const burst = s.lags.slice(burstFrom, burstFrom + 2000);
  emit('scheduler.fire-lag', 'bosun', 'p50 due->committed, 1000 schedules due at once', percentile(burst, 50), 'ms', { fires: burst.length });
  emit('scheduler.fire-lag', 'bosun', 'p99 due->committed, 1000 schedules due at once', percentile(burst, 99), 'ms', { fires: burst.length });
  const burstDues = s.dues.slice(burstFrom, burstFrom + 2000);
  emitHandlerLags('1000 schedules due at once', await handlerLags(db.url, Math.min(...burstDues), Math.max(...burstDues) + 1, clock.offset), clock);
  await s.app.close();
  await worker.close();
  await db.drop();
}

function spawnScheduler(url: string, id: string): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'scheduler', 'main.js')], {
    env: { ...process.env, DATABASE_URL: url, BOSUN_INSTANCE_ID: id, PORT: String(23_000 + Math.floor(Math.random() * 5000)), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
}

async function failover(): Promise<void> {
  const db = await createDatabase('failover');
  await migrate(db.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const procs = new Map<string, ChildProcess>();
  let n = 0;
  const add = () => {
    const id = `bench-${n++}`;
    procs.set(id, spawnScheduler(db.url, id));
  };
  add();
  add();
  const leader = async (after: number) =>
    until(async () => {
      const { rows: [r] } = await pool.query(`SELECT term::int AS term, holder FROM bosun.leader`);
      return r.term > after && procs.has(r.holder) ? (r as { term: number; holder: string }) : null;
    }, 30_000, 'a leader');
  let current = await leader(0);
  await pool.query(
    `INSERT INTO bosun.schedule (name, kind, expression, tz, queue, source, misfire, catch_up_seconds) VALUES ('failover', 'every', '1', 'UTC', 'housekeeping', 'runtime', 'all', 60)`,
  );
  await pool.query(`SELECT pg_notify('bosun_schedule', 'changed')`);
  const firstFireAfter = async (term: number) =>
    until(async () => {
      const { rows } = await pool.query(`SELECT (extract(epoch FROM min(fired_at)) * 1000)::float8 AS at FROM bosun.schedule_run WHERE schedule = 'failover' AND term > $1`, [term]);
      return rows[0].at as number | null;
    }, 30_000, 'a fire by the new leader');
  for (const [signal, label] of [['SIGKILL', 'kill -9'], ['SIGTERM', 'graceful resign']] as const) {
    const times: number[] = [];
    const electedTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await until(async () => (await pool.query(`SELECT 1 FROM bosun.schedule_run WHERE schedule = 'failover' AND term = $1`, [current.term])).rows.length > 0, 30_000, 'the leader fires');
      const victim = procs.get(current.holder)!;
      // Strike 10 ms before a due instant, so the instant falls into the gap and the new leader's first fire measures it.
      await sleep(1000 - (Date.now() % 1000) + 990);
      const at = Date.now();
      victim.kill(signal);
      procs.delete(current.holder);
      const fired = await firstFireAfter(current.term);
      const { rows: [elected] } = await pool.query(`SELECT (extract(epoch FROM since) * 1000)::float8 AS since FROM bosun.leader`);
      electedTimes.push(elected.since - at);
      times.push(fired - at);
      add();
      current = await leader(current.term);
    }
    emit('scheduler.failover', 'bosun', `${label} -> first fire by the new leader (mean of 3)`, times.reduce((a, b) => a + b, 0) / times.length, 'ms', { samples: times.map(Math.round) });
    emit('scheduler.failover', 'bosun', `${label} -> first fire by the new leader (max of 3)`, Math.max(...times), 'ms');
    emit('scheduler.failover', 'bosun', `${label} -> new term taken (mean of 3)`, electedTimes.reduce((a, b) => a + b, 0) / electedTimes.length, 'ms', { samples: electedTimes.map(Math.round) });
  }
  for (const p of procs.values()) p.kill('SIGKILL');
  await pool.end();
  await sleep(500);
  await db.drop();
}

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'lag1') await fireLagOne();
if (which === 'all' || which === 'lag1000') await fireLagThousand();
if (which === 'all' || which === 'failover') await failover();
process.exit(0);
