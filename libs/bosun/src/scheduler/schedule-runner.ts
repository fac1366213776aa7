import { randomUUID } from 'node:crypto';
import type { JobInsert, PgBoss } from 'pg-boss';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/pool.js';
import { toBossDb } from '../queues/transaction.js';
import type { BosunEvents } from '../runtime/events.js';
import { decideOverlap, planMisfire, type PreviousRun } from './policies.js';
import * as runSql from './schedule-run.sql.js';
import * as sql from './schedule.sql.js';
import { rowToInfo, type ScheduleInfo } from './schedules.service.js';
import { compileTiming, dueBetween, type Timetable } from './timetable.js';

export const RUNNER_DEFAULTS = {
  /** Ledger catches up with pg-boss job states (completed, failed) this often. */
  settleIntervalMs: 1000,
  /** The timer never sleeps longer than this, so clock drift and missed NOTIFYs heal. */
  maxSleepMs: 30_000,
  /** Instants one schedule may handle per pass (an every-second schedule after a long outage catches up in chunks). */
  maxInstantsPerPass: 2000,
  /** Late instants older than this are skipped without a ledger row each (logged as a count instead). */
  recordSkipsWithinSeconds: 3600,
  /** A schedule whose fire failed is parked this long before it is tried again. */
  failedRetryMs: 1000,
  /** The timer waits at least this long after a failed pass (the database may be down). */
  errorBackoffMs: 500,
};

/** The database is unreachable (not one schedule's fault): retrying schedule by schedule would only wait longer. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^(08|57P|53)/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|connection terminated|Connection terminated|timeout exceeded when trying to connect/i.test((error as Error)?.message ?? '');
}

/** What the runner needs from its surroundings; injected so tests can drive it with a stubbed leader. */
export interface RunnerDeps {
  pool: pg.Pool;
  boss: () => PgBoss;
  logger: Logger;
  events: BosunEvents;
  /** The leader's term while its lock is confirmed, else null. */
  confirmedTerm: () => number | null;
  /** Database clock minus local clock. */
  clockOffsetMs: () => number;
  /** Default priority of a queue (from its declaration) when the schedule sets none. */
  queuePriority: (queue: string) => number | undefined;
  /** The leader's lease: a fire transaction left idle longer than this is ended by the server. */
  leaseMs: number;
}

interface Entry {
  info: ScheduleInfo;
  table: Timetable;
  /** First due instant after fired_through (may be in the past: due now). */
  next: Date | null;
  /** After a failed fire (e.g. its queue was deleted): not retried before this instant (local ms), so it cannot block others. */
  retryAt?: number;
}

interface RunRow {
  schedule: string;
  dueAt: Date;
  outcome: 'enqueued' | 'waiting' | 'skipped';
  reason: string | null;
  queue: string;
  jobId: string | null;
}

/**
 * The leader's schedule runner: one timer on the next due instant of all runnable schedules; at that
 * instant one transaction checks the term, writes the ledger rows keyed (schedule, due instant) and
 * inserts the pg-boss jobs. A row already there (a previous leader fired it) sends nothing again.
 */
export class ScheduleRunner {
  private term: number | null = null;
  private entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;
  private settleTimer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private reloadWanted = false;
  private pendingAll = false;
  private readonly pendingNames = new Set<string>();
  private settling: Promise<void> | null = null;
  private passQueued = false;

  constructor(private readonly deps: RunnerDeps) {}

  get currentTerm(): number | null {
    return this.term;
  }

  /** The runnable schedules this leader keeps timers for, with their next due instants. */
  snapshot(): Array<{ name: string; next: Date | null }> {
    return [...this.entries.values()].map((e) => ({ name: e.info.name, next: e.next }));
  }

  now(): Date {
    return new Date(Date.now() + this.deps.clockOffsetMs());
  }

  async start(term: number): Promise<void> {
    this.term = term;
    await this.serial(() => this.reload());
    // Deposed while loading: stop() already ran and must not be undone by timers started here.
    if (this.term !== term) return;
    this.arm();
    // The ledger settles beside the firing passes, never in front of them (a slow settle must not delay a fire).
    if (this.settleTimer) clearInterval(this.settleTimer); // start() twice (a re-sync) keeps one timer
    this.settleTimer = setInterval(() => void this.settleOnce(), RUNNER_DEFAULTS.settleIntervalMs);
  }

  /** Stops at once: no new pass starts; waits for a pass in flight (its transaction commits only with a current term). */
  async stop(): Promise<void> {
    this.term = null;
    if (this.timer) clearTimeout(this.timer);
    if (this.settleTimer) clearInterval(this.settleTimer);
    this.timer = undefined;
    this.settleTimer = undefined;
    await this.running.catch(() => undefined);
    await this.settling;
    this.entries.clear();
  }

  /**
   * A schedule changed (NOTIFY payload 'changed:<name>' or 'removed:<name>'; anything else means all):
   * reload what changed and re-arm. Bursts coalesce into one reload.
   */
  changed(payload?: string): void {
    if (this.term === null) return;
    const match = payload ? /^(?:changed|removed):(.+)$/.exec(payload) : null;
    if (match) this.pendingNames.add(match[1]!);
    else this.pendingAll = true;
    if (this.reloadWanted) return;
    this.reloadWanted = true;
    void this.serial(async () => {
      this.reloadWanted = false;
      const all = this.pendingAll;
      const names = [...this.pendingNames];
      this.pendingAll = false;
      this.pendingNames.clear();
      if (all) await this.reload();
      else await this.reloadSome(names);
    }).then((ok) => this.arm(ok ? 0 : RUNNER_DEFAULTS.errorBackoffMs));
  }

  private async reloadSome(names: string[]): Promise<void> {
    const { rows } = await this.deps.pool.query(sql.SELECT_SOME, [names]);
    for (const name of names) this.entries.delete(name);
    for (const row of rows) this.addEntry(this.entries, row);
  }

  /** Passes run one at a time, in order; resolves false when the pass failed. */
  private serial(fn: () => Promise<void>): Promise<boolean> {
    const next = this.running.then(async () => {
      if (this.term === null) return true;
      try {
        await fn();
        return true;
      } catch (error) {
        this.deps.logger.warn({ err: (error as Error).message }, 'scheduler pass failed; retrying');
        return false;
      }
    });
    this.running = next.then(() => undefined);
    return next;
  }

  private async reload(): Promise<void> {
    const { rows } = await this.deps.pool.query(sql.SELECT_RUNNABLE);
    const entries = new Map<string, Entry>();
    for (const row of rows) this.addEntry(entries, row);
    this.entries = entries;
  }

  private addEntry(entries: Map<string, Entry>, row: unknown): void {
    const info = rowToInfo(row);
    try {
      const table = compileTiming(info.timing);
      entries.set(info.name, { info, table, next: table.next(info.firedThrough) });
    } catch (error) {
      this.deps.logger.error({ schedule: info.name, err: (error as Error).message }, 'schedule cannot be computed; skipped');
    }
  }

  private arm(minDelayMs = 0): void {
    if (this.term === null) return;
    if (this.timer) clearTimeout(this.timer);
    let earliest = Infinity;
    for (const e of this.entries.values()) {
      const at = e.retryAt ? Math.max(e.retryAt + this.deps.clockOffsetMs(), e.next?.getTime() ?? Infinity) : e.next?.getTime();
      if (at !== undefined && at < earliest) earliest = at;
    }
    const delay = Math.max(minDelayMs, Math.min(Math.max(0, earliest - this.now().getTime()), RUNNER_DEFAULTS.maxSleepMs));
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    if (this.passQueued) return;
    this.passQueued = true;
    void this.serial(async () => {
      this.passQueued = false;
      await this.pass();
    }).then((ok) => this.arm(ok ? 0 : RUNNER_DEFAULTS.errorBackoffMs));
  }

  /** One firing pass: every schedule with a due instant <= now. */
  private async pass(): Promise<void> {
    const term = this.term;
    if (term === null) return;
    if (this.deps.confirmedTerm() !== term) {
      // Cannot confirm the lock: fire nothing. The elector deposes us or confirms again; re-check soon.
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    const now = this.now();
    const localNow = Date.now();
    const due = [...this.entries.values()].filter((e) => e.next && e.next.getTime() <= now.getTime() && !(e.retryAt && e.retryAt > localNow));
    if (due.length === 0) return;
    try {
      await this.fire(term, due, now);
    } catch (error) {
      if (due.length === 1 || isConnectionError(error)) {
        for (const entry of due) entry.retryAt = Date.now() + RUNNER_DEFAULTS.failedRetryMs;
        this.deps.logger.error({ schedules: due.map((e) => e.info.name).slice(0, 10), err: (error as Error).message }, 'schedule could not fire; retrying');
        return;
      }
      // One bad schedule must not hold the others back: fire each on its own, and park the ones that fail.
      for (const entry of due) {
        if (this.term !== term) return;
        try {
          await this.fire(term, [entry], now);
        } catch (e) {
          entry.retryAt = Date.now() + RUNNER_DEFAULTS.failedRetryMs;
          this.deps.logger.error({ schedule: entry.info.name, err: (e as Error).message }, 'schedule could not fire; retrying');
        }
      }
    }
  }

  private async fire(term: number, due: Entry[], now: Date): Promise<void> {

    const plans = due.map((entry) => {
      const { info, table } = entry;
      const recordFrom = new Date(Math.max(info.firedThrough.getTime(), now.getTime() - Math.max(info.catchUpSeconds, info.misfireGraceSeconds, RUNNER_DEFAULTS.recordSkipsWithinSeconds) * 1000));
      const instants = dueBetween(table, recordFrom, now, RUNNER_DEFAULTS.maxInstantsPerPass);
      const through = instants.at(-1) ?? recordFrom;
      const plan = planMisfire({ policy: info.misfire, due: instants, now, catchUpSeconds: info.catchUpSeconds, misfireGraceSeconds: info.misfireGraceSeconds });
      return { entry, through, plan };
    });

    const needOverlap = plans.filter((p) => p.entry.info.overlap !== 'allow' && p.plan.fire.length > 0).map((p) => p.entry.info.name);
    const open = new Map<string, { pending: boolean; waiting: number }>();
    if (needOverlap.length > 0) {
      const { rows } = await this.deps.pool.query(runSql.OPEN_RUNS, [needOverlap]);
      for (const r of rows) open.set(r.schedule, { pending: !!r.pending, waiting: r.waiting });
    }

    const runs: RunRow[] = [];
    for (const { entry, plan } of plans) {
      const { info } = entry;
      for (const at of plan.skip) runs.push({ schedule: info.name, dueAt: at, outcome: 'skipped', reason: 'misfire', queue: info.queue, jobId: null });
      let state = open.get(info.name) ?? { pending: false, waiting: 0 };
      for (const at of plan.fire) {
        const previous: PreviousRun = state.pending ? 'pending' : 'none';
        const decision = decideOverlap(info.overlap, previous, state.waiting);
        if (decision === 'fire') {
          runs.push({ schedule: info.name, dueAt: at, outcome: 'enqueued', reason: null, queue: info.queue, jobId: randomUUID() });
          state = { ...state, pending: true };
        } else if (decision === 'skip') {
          runs.push({ schedule: info.name, dueAt: at, outcome: 'skipped', reason: 'overlap', queue: info.queue, jobId: null });
        } else {
          runs.push({ schedule: info.name, dueAt: at, outcome: 'waiting', reason: 'overlap', queue: info.queue, jobId: null });
          state = { ...state, waiting: state.waiting + 1 };
        }
      }
    }

    const inserted = await this.commit(term, runs, plans.map((p) => ({ name: p.entry.info.name, through: p.through, fired: p.plan.fire.length > 0 })));
    if (inserted === null) return;

    for (const p of plans) {
      const e = p.entry;
      e.retryAt = undefined;
      e.info = { ...e.info, firedThrough: new Date(Math.max(e.info.firedThrough.getTime(), p.through.getTime())) };
      e.next = e.table.next(e.info.firedThrough);
    }
    for (const r of inserted) {
      if (r.outcome === 'enqueued') {
        this.deps.events.emit('schedule.fired', { schedule: r.schedule, queue: r.queue, dueAt: r.dueAt, lagMs: r.lagMs ?? 0, outcome: r.outcome });
      } else {
        this.deps.events.emit('schedule.run', { schedule: r.schedule, outcome: r.reason ? `${r.outcome}:${r.reason}` : r.outcome });
      }
    }
  }

  /**
   * The fire transaction. Returns the rows this call wrote (not those a previous leader had already written),
   * or null when the term is no longer current (nothing written: a newer leader owns the schedules).
   */
  private async commit(term: number, runs: RunRow[], advance: Array<{ name: string; through: Date; fired: boolean }>): Promise<Array<RunRow & { lagMs: number | null }> | null> {
    // A stale term commits nothing but its own read: the same as a rollback.
    return withTransaction(this.deps.pool, async (client) => {
      const { rows: current } = await client.query(runSql.CHECK_TERM, [term, String(Math.round(this.deps.leaseMs))]);
      if (current.length === 0 || this.term !== term) {
        this.deps.logger.warn({ term }, 'term is no longer current: fired nothing');
        return null;
      }
      let written: Array<RunRow & { lagMs: number | null }> = [];
      if (runs.length > 0) {
        const { rows } = await client.query(runSql.INSERT_RUNS, [
          term,
          runs.map((r) => r.schedule),
          runs.map((r) => r.dueAt),
          runs.map((r) => r.outcome),
          runs.map((r) => r.reason),
          runs.map((r) => r.queue),
          runs.map((r) => r.jobId),
        ]);
        const byKey = new Map(runs.map((r) => [`${r.schedule}\u0000${r.dueAt.getTime()}`, r]));
        written = rows.map((row) => ({ ...byKey.get(`${row.schedule}\u0000${new Date(row.due_at).getTime()}`)!, lagMs: row.lag_ms }));
        await this.insertJobs(client, written.filter((r) => r.outcome === 'enqueued'));
      }
      await client.query(sql.ADVANCE, [advance.map((a) => a.name), advance.map((a) => a.through), advance.map((a) => a.fired)]);
      return written;
    });
  }

  private async insertJobs(client: pg.PoolClient, runs: RunRow[]): Promise<void> {
    const byQueue = new Map<string, JobInsert[]>();
    for (const run of runs) {
      const info = this.entries.get(run.schedule)?.info;
      if (!info) continue;
      const priority = info.priority ?? this.deps.queuePriority(info.queue);
      const job: JobInsert = { ...(info.jobOptions as JobInsert), id: run.jobId!, data: { ...(info.data ?? {}) } };
      if (priority !== undefined) job.priority = priority;
      const list = byQueue.get(info.queue) ?? [];
      list.push(job);
      byQueue.set(info.queue, list);
    }
    const db = toBossDb(client);
    for (const [queue, jobs] of byQueue) await this.deps.boss().insert(queue, jobs, { db });
  }

  private settleOnce(): Promise<void> {
    if (this.settling || this.term === null) return this.settling ?? Promise.resolve();
    this.settling = this.settle()
      .catch((error) => this.deps.logger.warn({ err: (error as Error).message }, 'ledger settle failed; retrying'))
      .finally(() => {
        this.settling = null;
      });
    return this.settling;
  }

  /** Brings the ledger in line with pg-boss (started, completed, failed) and releases runs waiting on overlap. */
  private async settle(): Promise<void> {
    const term = this.term;
    if (term === null || this.deps.confirmedTerm() !== term) return;
    const { rows } = await this.deps.pool.query(runSql.SETTLE);
    for (const r of rows) if (r.outcome !== 'active') this.deps.events.emit('schedule.run', { schedule: r.schedule, outcome: r.outcome });
    const { rows: ready } = await this.deps.pool.query(runSql.READY_WAITING);
    for (const w of ready) await this.release(term, w.schedule, w.due_at);
  }

  private async release(term: number, schedule: string, dueAt: Date): Promise<void> {
    const info = this.entries.get(schedule)?.info;
    if (!info) return;
    const jobId = randomUUID();
    // A stale term writes nothing: its transaction only read.
    const released = await withTransaction(this.deps.pool, async (client) => {
      const { rows: current } = await client.query(runSql.CHECK_TERM, [term, String(Math.round(this.deps.leaseMs))]);
      if (current.length === 0) return false;
      const { rows } = await client.query(runSql.RELEASE_WAITING, [schedule, dueAt, jobId]);
      if (rows.length > 0) await this.insertJobs(client, [{ schedule, dueAt, outcome: 'enqueued', reason: null, queue: info.queue, jobId }]);
      return rows.length > 0;
    });
    if (released) this.deps.events.emit('schedule.fired', { schedule, queue: info.queue, dueAt, lagMs: Date.now() - dueAt.getTime(), outcome: 'enqueued' });
  }
}
