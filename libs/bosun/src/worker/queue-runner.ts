import type { JobAttempt, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { runWithJobContext } from '../logging/job-context.js';
import { withTransaction, type Pool, type PoolClient, type Queryable } from '../db/pool.js';
import type { QueueDefinition } from '../queues/define-queue.js';
import { PayloadValidationError, validatePayload } from '../queues/payload.js';
import type { BosunEvents, QueueJobObserver } from '../runtime/events.js';
import * as bossSql from './boss-job.sql.js';
import * as fetchSql from './fetch.sql.js';
import { describeError, JobAbortedError, type DescribedError, type Job } from './job.js';
import type { JobErrorKind, JobErrors } from './job-errors.js';
import type { ProcessorOptions } from './processor.decorator.js';

export interface QueueRunnerDeps {
  boss: PgBoss;
  /** bosun's own pool: failures are settled in a transaction with their error history. */
  pool: Pool;
  /** This queue's pipelined connection for claims, with the claim's planner settings (fetch.sql.ts CLAIM_SESSION_OPTIONS). */
  claimDb: Queryable;
  /** The process's pipelined connection for completions. */
  settleDb: Queryable;
  errors: JobErrors;
  events: BosunEvents;
  logger: Logger;
  instanceId: string;
}

type Handler = (job: Job<any>) => unknown;

/** A claimed attempt, as the claim statement returns it. */
export interface ClaimedJob {
  id: string;
  data: unknown;
  retryCount: number;
  retryLimit: number;
  priority: number;
  expireInSeconds: number;
  heartbeatSeconds: number | null;
  createdMs: number;
  singletonKey: string | null;
  deadLetter: string | null;
  sourceName: string | null;
  sourceId: string | null;
}

/** A claimed job as claimStandard() returns it: one JSON array per job, parsed by JSON.parse in one go. */
type ClaimedRow = [string, unknown, number, number, number, number, number | null, number, string | null, string | null, string | null, string | null];

function toClaimedJob(r: ClaimedRow): ClaimedJob {
  return {
    id: r[0], data: r[1], retryCount: r[2], retryLimit: r[3], priority: r[4], expireInSeconds: r[5], heartbeatSeconds: r[6],
    createdMs: r[7], singletonKey: r[8], deadLetter: r[9], sourceName: r[10], sourceId: r[11],
  };
}

/** One attempt this process holds. */
interface Running {
  row: ClaimedJob;
  attempt: number;
  /** Created when the handler first reads job.signal: a handler that never looks costs no controller. */
  controller?: AbortController;
  /** Why the attempt was aborted, kept for a handler that reads job.signal only afterwards. */
  abortReason?: JobAbortedError;
  /** When the attempt times out (expireInSeconds), in Date.now() milliseconds; checked by the runner's tick. */
  deadlineMs: number;
  /** The job's outcome is decided (completed, failed, timed out, released or its claim lost): later results are ignored. */
  decided: boolean;
  lastTouchMs: number;
  startedMs: number;
}

function abort(entry: Running, reason: JobAbortedError): void {
  entry.abortReason ??= reason;
  entry.controller?.abort(reason);
}

/** The Job a handler receives; its AbortSignal is made on first use. */
class RunningJob implements Job<object> {
  readonly id: string;
  readonly retryLimit: number;
  readonly priority: number;
  readonly expireInSeconds: number;
  readonly heartbeatSeconds: number | null;
  readonly singletonKey: string | null;
  readonly sourceQueue: string | null;
  readonly sourceId: string | null;
  private readonly createdMs: number;

  constructor(
    readonly queue: string,
    row: ClaimedJob,
    readonly attempt: number,
    readonly data: object,
    private readonly entry: Running,
  ) {
    this.id = row.id;
    this.retryLimit = row.retryLimit;
    this.priority = row.priority;
    this.expireInSeconds = row.expireInSeconds;
    this.heartbeatSeconds = row.heartbeatSeconds;
    this.singletonKey = row.singletonKey;
    this.sourceQueue = row.sourceName;
    this.sourceId = row.sourceId;
    this.createdMs = row.createdMs;
  }

  get signal(): AbortSignal {
    if (!this.entry.controller) {
      this.entry.controller = new AbortController();
      if (this.entry.abortReason) this.entry.controller.abort(this.entry.abortReason);
    }
    return this.entry.controller.signal;
  }

  get createdOn(): Date {
    return new Date(this.createdMs);
  }
}

const COMPLETE_BATCH = 1000;
/** Claims one queue may have in flight: the database works on the next batch while this process runs the last. */
export const MAX_CLAIMS = 2;
/** Completion statements one queue may have in flight. */
export const MAX_SETTLES = 2;
/** How often timeouts are checked (and, every fifth tick, heartbeats: each job is touched every heartbeatSeconds / 2). */
const TICK_MS = 200;

type Claimer = (n: number) => Promise<ClaimedJob[]>;

/**
 * Runs one queue's processor in this process: claims jobs in batches sized to the free slots, keeps the slots busy,
 * settles completions in batches, fails, dead-letters, times out, heartbeats and drains.
 * Claims and completions travel on two pipelined connections (deps.claimDb, deps.settleDb): the next claim leaves as
 * soon as the last returns, before its jobs run, and waits in Postgres's input rather than here, so the database
 * always has the next batch while this process runs the last; statements of one lane never run side by side, where
 * they would contend for the same rows and pages.
 */
export class QueueRunner {
  readonly name: string;
  private readonly running = new Map<string, Running>();
  /** Handlers still executing, including ones whose job was already decided (a timed-out handler that ignores its signal keeps its slot). */
  private slotsHeld = 0;
  /** Claims in flight, and the slots they may fill. */
  private readonly claims = new Set<Promise<void>>();
  private claiming = 0;
  private reserved = 0;
  /** The last claim came back short: wait for a NOTIFY, the poll timer or a retry coming due before claiming again. */
  private idle = false;
  private wokenDuringClaim = false;
  private kickQueued = false;
  private stopping = false;
  private started = false;
  private pollTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  /** Attempts that finished without output, waiting to be recorded in one statement. */
  private completions: JobAttempt[] = [];
  private settling = 0;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly idleWaiters: Array<() => void> = [];
  /** How this queue's jobs are claimed: bosun's lean statement for standard queues, pg-boss's fetch otherwise. */
  private claimer?: Promise<Claimer>;
  /** Completes a batch of attempts: bosun's statement once the queue's table is known, else pg-boss's complete(). */
  private completer?: (batch: JobAttempt[]) => Promise<unknown>;
  /** Singleton-like policies hold waiting jobs back while one is active: a settle may make the next one fetchable. */
  private wakeAfterSettle = false;
  /** Claims allowed in flight: one until the queue's policy is known, and always one for singleton and stately queues. */
  private claimLimit = 1;
  /** The metrics sink, resolved when the runner starts. */
  private observer?: QueueJobObserver;

  constructor(
    readonly definition: QueueDefinition<any>,
    private readonly handler: Handler,
    readonly options: Required<ProcessorOptions>,
    private readonly deps: QueueRunnerDeps,
  ) {
    this.name = definition.name;
  }

  /** Ids of the jobs this runner holds (the rescuer leaves them alone). */
  heldIds(): string[] {
    return [...this.running.keys()];
  }

  get inFlight(): number {
    return this.slotsHeld;
  }

  /** Safe to call twice. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.observer = this.deps.events.jobObserverFor(this.name);
    this.pollTimer = setInterval(() => this.wake(), this.options.pollingIntervalSeconds * 1000);
    this.pollTimer.unref();
    let ticks = 0;
    this.heartbeatTimer = setInterval(() => {
      if (this.running.size === 0) return;
      this.checkTimeouts();
      if (++ticks % 5 === 0) void this.heartbeat();
    }, TICK_MS);
    this.heartbeatTimer.unref();
    this.pump();
  }

  /** A NOTIFY, the poll timer or a retry: jobs may be waiting. */
  wake(): void {
    this.idle = false;
    if (this.claiming > 0) this.wokenDuringClaim = true;
    this.pump();
  }

  /** Pumps once the current synchronous burst of completions is in: they leave together. */
  private kick(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.pump();
    });
  }

  /** Sends completions (up to MAX_SETTLES statements) and claims for the free slots (up to MAX_CLAIMS). */
  private pump(): void {
    if (!this.started) return;
    while (this.completions.length > 0 && this.settling < MAX_SETTLES) {
      this.settling++;
      this.track(this.settle(this.completions.splice(0, COMPLETE_BATCH)));
    }
    while (this.claiming < this.claimLimit && !this.idle && !this.stopping) {
      const free = this.options.concurrency - this.slotsHeld - this.reserved;
      if (free <= 0) return;
      // A second claim only for a sizeable gap: small top-ups wait for the one in flight.
      if (this.claiming > 0 && free < Math.ceil(this.options.batchSize / 2)) return;
      const wanted = Math.min(free, this.options.batchSize);
      if (this.claiming === 0) this.wokenDuringClaim = false;
      this.claiming++;
      this.reserved += wanted;
      const claim = this.claimAndRun(wanted);
      this.claims.add(claim);
      void claim.finally(() => this.claims.delete(claim));
    }
  }

  private async claimAndRun(wanted: number): Promise<void> {
    let jobs: ClaimedJob[];
    try {
      this.claimer ??= this.chooseClaimer();
      jobs = await (await this.claimer)(wanted);
    } catch (error) {
      this.claiming--;
      this.reserved -= wanted;
      if (!this.stopping) this.deps.logger.warn({ queue: this.name, err: (error as Error).message }, 'claim failed; claiming again at the next poll');
      this.idle = true;
      this.claimer = undefined;
      return;
    }
    this.claiming--;
    this.reserved -= wanted;
    if (jobs.length < wanted && !this.wokenDuringClaim) this.idle = true;
    // The claimed jobs hold their slots now, and the next claim leaves before they run.
    this.slotsHeld += jobs.length;
    this.pump();
    for (const row of jobs) this.run(row);
  }

  private async settle(batch: JobAttempt[]): Promise<void> {
    try {
      // The queue's table, and so its completion statement, is learned with its claimer.
      this.claimer ??= this.chooseClaimer();
      await this.claimer.catch(() => undefined);
      await (this.completer ? this.completer(batch) : this.deps.boss.complete(this.name, batch));
      if (this.wakeAfterSettle) this.wake();
    } catch (error) {
      // Left active, the jobs expire and run again: at-least-once, never lost.
      this.deps.logger.error({ queue: this.name, jobs: batch.length, err: (error as Error).message }, 'could not record completions; the jobs will run again when they expire');
    } finally {
      this.settling--;
      if (this.completions.length > 0) this.kick();
    }
  }

  private async chooseClaimer(): Promise<Claimer> {
    const { rows } = await this.deps.boss.getDb().executeSql(fetchSql.QUEUE_TABLE, [this.name]);
    const table = typeof rows[0]?.table === 'string' ? (rows[0].table as string) : undefined;
    if (table) {
      const text = fetchSql.completeAttempts(table);
      this.completer = (batch) => this.deps.settleDb.query(text, [this.name, batch.map((a) => a.id).join(','), batch.map((a) => `${a.id}:${a.retryCount}`).join(',')]);
    }
    // pg-boss's singleton and stately fetch of more than one job ranks a key's waiting jobs without their priority
    // (row_number() with no ORDER BY), and of two concurrent fetches the one that locked the higher priority job may
    // lose the unique-index race and return nothing (pg-boss tolerates 23505 there): one fetch of one job at a time.
    const oneByOne = rows[0]?.policy === 'singleton' || rows[0]?.policy === 'stately';
    this.claimLimit = oneByOne ? 1 : MAX_CLAIMS;
    if (rows[0]?.policy === 'standard' && table) {
      const text = fetchSql.claimStandard(table);
      return async (n) => {
        const { rows } = await this.deps.claimDb.query<{ jobs: ClaimedRow[] }>(text, [this.name, n]);
        return rows[0]!.jobs.map(toClaimedJob);
      };
    }
    this.wakeAfterSettle = true;
    const fetch = async (n: number) => {
      if (!oneByOne) return this.deps.boss.fetch<object>(this.name, { batchSize: n, includeMetadata: true });
      const jobs = [];
      for (let i = 0; i < n; i++) {
        const [job] = await this.deps.boss.fetch<object>(this.name, { batchSize: 1, includeMetadata: true });
        if (!job) break;
        jobs.push(job);
      }
      return jobs;
    };
    return async (n) => {
      const jobs = await fetch(n);
      return jobs.map((j) => ({
        id: j.id, data: j.data, retryCount: j.retryCount, retryLimit: j.retryLimit, priority: j.priority,
        expireInSeconds: j.expireInSeconds, heartbeatSeconds: j.heartbeatSeconds, createdMs: new Date(j.createdOn).getTime(),
        singletonKey: j.singletonKey, deadLetter: j.deadLetter, sourceName: j.sourceName, sourceId: j.sourceId,
      }));
    };
  }

  /** Runs a claimed job in the slot claimAndRun took for it. */
  private run(row: ClaimedJob): void {
    const attempt = row.retryCount + 1;
    let data: object;
    const payload = this.definition.options.payload;
    try {
      // Without a payload class only the shape is checked: the data came out of jsonb, so it is JSON already.
      if (payload) data = validatePayload(this.name, payload, row.data);
      else if (row.data !== null && typeof row.data === 'object' && !Array.isArray(row.data)) data = row.data;
      else data = validatePayload(this.name, undefined, row.data);
    } catch (error) {
      this.track(this.deadLetterInvalid(row, attempt, error as Error));
      this.release();
      return;
    }
    const now = Date.now();
    const entry: Running = { row, attempt, deadlineMs: now + row.expireInSeconds * 1000, decided: false, lastTouchMs: now, startedMs: now };
    this.running.set(row.id, entry);
    const job = new RunningJob(this.name, row, attempt, data, entry);
    const waitMs = Math.max(0, now - row.createdMs);
    this.observer?.started(waitMs);
    if (this.deps.events.listenerCount('job.started') > 0) this.deps.events.emit('job.started', { queue: this.name, jobId: row.id, attempt, waitMs });
    let result: unknown;
    try {
      // Every bosun log line the handler writes (and whatever it awaits) carries queue, jobId and attempt.
      result = runWithJobContext({ queue: this.name, jobId: row.id, attempt }, () => this.handler(job));
    } catch (error) {
      this.failed(entry, error);
      return;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        (output) => this.succeeded(entry, output),
        (error) => this.failed(entry, error),
      );
    } else {
      this.succeeded(entry, result);
    }
  }

  /** Decides the outcome once: the first of handler result, timeout, lost claim or drain wins. */
  private decide(entry: Running): boolean {
    if (entry.decided) return false;
    entry.decided = true;
    this.running.delete(entry.row.id);
    return true;
  }

  private succeeded(entry: Running, output: unknown): void {
    if (this.decide(entry)) {
      const attempt = { id: entry.row.id, retryCount: entry.row.retryCount };
      if (output === undefined || output === null) this.completions.push(attempt);
      else this.track(this.completeWithOutput(attempt, output));
      const durationMs = Date.now() - entry.startedMs;
      this.observer?.finished('completed', durationMs, true);
      if (this.deps.events.listenerCount('job.finished') > 0) {
        this.deps.events.emit('job.finished', { queue: this.name, jobId: entry.row.id, attempt: entry.attempt, outcome: 'completed', durationMs });
      }
    }
    this.release();
  }

  private failed(entry: Running, error: unknown): void {
    if (this.decide(entry)) {
      this.track(this.fail(entry.row, entry.attempt, 'error', describeError(error), Date.now() - entry.startedMs));
    } else if (!(error instanceof JobAbortedError)) {
      this.deps.logger.debug({ queue: this.name, jobId: entry.row.id, err: describeError(error).message }, 'handler failed after its attempt was decided');
    }
    this.release();
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const entry of this.running.values()) if (entry.deadlineMs <= now) this.timeout(entry);
  }

  private timeout(entry: Running): void {
    if (!this.decide(entry)) return;
    const seconds = entry.row.expireInSeconds;
    const reason = new JobAbortedError(`job timed out after ${seconds}s (expireInSeconds)`, 'timeout');
    abort(entry, reason);
    // The slot stays held until the handler returns: concurrency bounds the handlers actually running.
    this.track(this.fail(entry.row, entry.attempt, 'timeout', { message: reason.message, name: reason.name }, Date.now() - entry.startedMs));
  }

  /** A handler returned: its slot is free for the next job. */
  private release(): void {
    this.slotsHeld--;
    if (this.slotsHeld === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.kick();
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private async completeWithOutput(attempt: JobAttempt, output: unknown): Promise<void> {
    try {
      await this.deps.boss.complete(this.name, attempt, typeof output === 'object' ? (output as object) : { value: output });
      if (this.wakeAfterSettle) this.wake();
    } catch (error) {
      this.deps.logger.error({ queue: this.name, jobId: attempt.id, err: (error as Error).message }, 'could not record completion');
    }
  }

  /** Fails one attempt and records its error in one transaction: the database clock stamps both alike. */
  async fail(row: Pick<ClaimedJob, 'id' | 'retryCount' | 'retryLimit' | 'deadLetter'>, attempt: number, kind: JobErrorKind, error: DescribedError, durationMs: number, instance: string | null = this.deps.instanceId, exhaust = false): Promise<void> {
    const output = { message: error.message, name: error.name, kind, attempt, instance };
    let settled = false;
    try {
      settled = await this.inTransaction(async (client) => {
        const db = { executeSql: (text: string, values?: unknown[]) => client.query(text, values) };
        if (exhaust) await client.query(bossSql.EXHAUST_RETRIES, [this.name, row.id, row.retryCount]);
        const result = (await this.deps.boss.fail(this.name, { id: row.id, retryCount: row.retryCount }, output, { db })) as { affected?: number };
        if (!result.affected) return false;
        await this.deps.errors.record({ jobId: row.id, attempt, queue: this.name, kind, message: error.message, errorName: error.name, stack: error.stack, instance }, client);
        return true;
      });
    } catch (failure) {
      this.deps.logger.error({ queue: this.name, jobId: row.id, err: (failure as Error).message }, 'could not record a failed attempt; the job will run again when it expires');
      return;
    }
    if (!settled) return;
    if (this.wakeAfterSettle) this.wake();
    const terminal = exhaust || row.retryCount >= row.retryLimit;
    const outcome = !terminal ? 'retry' : row.deadLetter ? 'dead-lettered' : 'failed';
    this.deps.logger[terminal ? 'warn' : 'info']({ queue: this.name, jobId: row.id, attempt, kind, outcome, err: error.message }, `job attempt failed: ${outcome}`);
    // Rescued jobs (instance null) ran elsewhere, and an invalid payload never started.
    this.observer?.finished(outcome, durationMs, instance !== null && kind !== 'invalid-payload');
    this.deps.events.emit('job.finished', { queue: this.name, jobId: row.id, attempt, outcome, durationMs });
  }

  private async deadLetterInvalid(row: ClaimedJob, attempt: number, error: Error): Promise<void> {
    const described = error instanceof PayloadValidationError ? { message: error.message, name: error.name } : describeError(error);
    await this.fail(row, attempt, 'invalid-payload', described, 0, this.deps.instanceId, true);
  }

  private inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.pool, fn);
  }

  /** Touches held jobs every heartbeatSeconds / 2 in one statement; a job whose claim is gone is aborted. */
  private async heartbeat(): Promise<void> {
    const now = Date.now();
    const due = [...this.running.values()].filter((r) => r.row.heartbeatSeconds && now - r.lastTouchMs >= (r.row.heartbeatSeconds * 1000) / 2);
    if (due.length === 0) return;
    for (const r of due) r.lastTouchMs = now;
    let settled: string[] | undefined;
    try {
      const result = (await this.deps.boss.touch(this.name, due.map((r) => ({ id: r.row.id, retryCount: r.row.retryCount })))) as { settled?: string[] };
      settled = result.settled;
    } catch (error) {
      // A heartbeat that could not run says nothing about the claim.
      this.deps.logger.warn({ queue: this.name, err: (error as Error).message }, 'heartbeat failed');
      return;
    }
    if (!settled) return;
    const alive = new Set(settled);
    for (const r of due) {
      if (alive.has(r.row.id) || r.decided) continue;
      if (!this.decide(r)) continue;
      abort(r, new JobAbortedError(`job ${r.row.id} is no longer held by this worker (its heartbeat lapsed or it was settled elsewhere)`, 'claim-lost'));
      this.deps.logger.warn({ queue: this.name, jobId: r.row.id }, 'lost the claim on a running job; aborted it');
    }
  }

  /**
   * Stops fetching, lets handlers finish until the deadline, then aborts the rest and hands their jobs back
   * without spending a retry; settles everything before it resolves. Safe to call twice.
   */
  async drain(deadline: number): Promise<{ finished: number; released: number }> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    // A claim in flight still hands its jobs to handlers: they belong to this drain.
    await Promise.allSettled([...this.claims]);
    const heldAtStart = this.slotsHeld;
    if (this.slotsHeld > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const leftover = [...this.running.values()].filter((r) => !r.decided);
    let released = 0;
    if (leftover.length > 0) {
      for (const r of leftover) this.decide(r);
      for (const r of leftover) abort(r, new JobAbortedError('the worker is shutting down: the job was released for another worker', 'shutdown'));
      released = await this.releaseJobs(leftover);
    }
    clearInterval(this.heartbeatTimer);
    await this.settleAll();
    return { finished: heldAtStart - leftover.length, released };
  }

  /** Stops at once: whatever still runs is released for another worker. Safe to call twice. */
  async stop(): Promise<void> {
    await this.drain(Date.now());
  }

  private async releaseJobs(entries: Running[]): Promise<number> {
    const pairs = entries.map((r) => `${r.row.id}:${r.row.retryCount}`);
    const message = `released by ${this.deps.instanceId}: the worker shut down before the attempt finished`;
    try {
      const ids = await this.inTransaction(async (client) => {
        const { rows } = await client.query(bossSql.RELEASE, [this.name, pairs, JSON.stringify({ message, kind: 'released' })]);
        const released = new Set(rows.map((row: { id: string }) => row.id));
        for (const r of entries) {
          if (!released.has(r.row.id)) continue;
          await this.deps.errors.record({ jobId: r.row.id, attempt: r.attempt, queue: this.name, kind: 'released', message, errorName: 'JobAbortedError', instance: this.deps.instanceId }, client);
        }
        return released;
      });
      for (const r of entries) {
        if (!ids.has(r.row.id)) continue;
        const durationMs = Date.now() - r.startedMs;
        this.observer?.finished('aborted', durationMs, true);
        this.deps.events.emit('job.finished', { queue: this.name, jobId: r.row.id, attempt: r.attempt, outcome: 'aborted', durationMs });
      }
      this.deps.logger.warn({ queue: this.name, released: ids.size }, 'drain timed out: released unfinished jobs for retry');
      return ids.size;
    } catch (error) {
      this.deps.logger.error({ queue: this.name, err: (error as Error).message }, 'could not release unfinished jobs; they will run again when their heartbeat or expiry lapses');
      return 0;
    }
  }

  /** Waits for every completion, failure and release to be written. */
  private async settleAll(): Promise<void> {
    for (;;) {
      this.pump();
      const waits = [...this.pending, ...this.claims];
      if (waits.length === 0 && this.completions.length === 0) return;
      if (waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
      else await Promise.allSettled(waits);
    }
  }
}
