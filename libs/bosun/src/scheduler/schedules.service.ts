import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { BosunDatabase } from '../db/database.js';
import { withTransaction } from '../db/pool.js';
import { PayloadValidationError, validatePayload } from '../queues/payload.js';
import { QueueRegistry } from '../queues/queue-registry.js';
import { declarationHash, normalizeSchedule, type NormalizedSchedule, type ScheduleDeclaration } from './schedule-definition.js';
import * as runSql from './schedule-run.sql.js';
import * as sql from './schedule.sql.js';
import { compileTiming, preview, ScheduleValidationError, timingToSpec, type PreviewEntry, type Timing, type TimingSpec } from './timetable.js';

/** A schedule as stored, with its next and last run. */
export interface ScheduleInfo extends Omit<NormalizedSchedule, 'enabled'> {
  source: 'code' | 'runtime';
  /** false: a code schedule no longer declared. */
  active: boolean;
  paused: boolean;
  pausedAt: Date | null;
  /** Next due instant (null when paused or inactive); in the past means due now (or no leader is running). */
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  /** Every due instant up to here has a ledger row. */
  firedThrough: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type RunOutcome = 'enqueued' | 'waiting' | 'skipped' | 'active' | 'completed' | 'failed' | 'cancelled';

export interface ScheduleRun {
  schedule: string;
  dueAt: Date;
  term: number;
  outcome: RunOutcome;
  /** For skipped: overlap | misfire. */
  reason: string | null;
  queue: string;
  jobId: string | null;
  firedAt: Date;
  /** Insert time minus due instant. */
  lagMs: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
}

export class ScheduleNotFoundError extends Error {
  constructor(readonly schedule: string) {
    super(`schedule ${schedule} does not exist`);
    this.name = 'ScheduleNotFoundError';
  }
}

export function rowToInfo(r: any): ScheduleInfo {
  const timing: Timing = { kind: r.kind, expression: r.expression, tz: r.tz };
  let nextRunAt: Date | null = null;
  // The runner's own rule: the first instant after fired_through (so no write is needed to keep it current).
  if (r.active && !r.paused) nextRunAt = compileTiming(timing).next(r.fired_through);
  return {
    name: r.name,
    timing,
    queue: r.queue,
    data: r.data,
    priority: r.priority,
    jobOptions: r.job_options ?? {},
    misfire: r.misfire,
    catchUpSeconds: r.catch_up_seconds,
    misfireGraceSeconds: r.misfire_grace_seconds,
    overlap: r.overlap,
    description: r.description,
    source: r.source,
    active: r.active,
    paused: r.paused,
    pausedAt: r.paused_at,
    nextRunAt,
    lastRunAt: r.last_run_at,
    firedThrough: r.fired_through,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function rowToRun(r: any): ScheduleRun {
  return {
    schedule: r.schedule,
    dueAt: r.due_at,
    term: Number(r.term),
    outcome: r.outcome,
    reason: r.reason,
    queue: r.queue,
    jobId: r.job_id,
    firedAt: r.fired_at,
    lagMs: r.lag_ms,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
  };
}

/** The declaration a stored schedule corresponds to (for updates that change a few fields). */
export function infoToDeclaration(info: ScheduleInfo): ScheduleDeclaration {
  return {
    name: info.name,
    ...timingToSpec(info.timing),
    queue: info.queue,
    ...(info.data ? { data: info.data } : {}),
    ...(info.priority !== null ? { priority: info.priority } : {}),
    jobOptions: info.jobOptions,
    misfire: info.misfire,
    catchUpSeconds: info.catchUpSeconds,
    misfireGraceSeconds: info.misfireGraceSeconds,
    overlap: info.overlap,
    ...(info.description !== null ? { description: info.description } : {}),
  };
}

function definitionParams(s: NormalizedSchedule): unknown[] {
  return [
    s.name, s.timing.kind, s.timing.expression, s.timing.tz, s.queue, s.data, s.priority, s.jobOptions, s.misfire,
    s.catchUpSeconds, s.misfireGraceSeconds, s.overlap, s.description,
  ];
}

/** The schedule's data must fit its queue's payload class (when the queue is declared in this process). */
export function checkScheduleData(s: NormalizedSchedule, registry: QueueRegistry): void {
  const def = registry.get(s.queue);
  if (!def) return;
  try {
    validatePayload(s.queue, def.options.payload, s.data ?? {});
  } catch (error) {
    if (error instanceof PayloadValidationError) {
      const field = `data.${error.issues[0]?.field ?? ''}`;
      throw new ScheduleValidationError(`schedule ${s.name}: ${field}: ${error.message}`, field, s.name, { cause: error });
    }
    throw error;
  }
}

export type ScheduleChange = Partial<Omit<ScheduleDeclaration, 'name' | 'enabled'>>;

/**
 * Schedules through the library: list, create and change at run time, pause/resume, preview, run history.
 * Works in every role (an API app may create schedules); the leader hears each change by NOTIFY.
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly db: BosunDatabase,
    private readonly registry: QueueRegistry,
  ) {}

  async list(): Promise<ScheduleInfo[]> {
    return (await this.db.pool.query(sql.SELECT_ALL)).rows.map(rowToInfo);
  }

  async get(name: string): Promise<ScheduleInfo> {
    const { rows } = await this.db.pool.query(sql.SELECT_ONE, [name]);
    if (!rows[0]) throw new ScheduleNotFoundError(name);
    return rowToInfo(rows[0]);
  }

  async find(name: string): Promise<ScheduleInfo | null> {
    const { rows } = await this.db.pool.query(sql.SELECT_ONE, [name]);
    return rows[0] ? rowToInfo(rows[0]) : null;
  }

  /** Creates a runtime schedule; refuses bad timing, zone, policy, unknown queue or invalid data, naming the field. */
  async create(declaration: ScheduleDeclaration): Promise<ScheduleInfo> {
    const s = normalizeSchedule(declaration);
    await this.checkTarget(s);
    try {
      return await withTransaction(this.db.pool, async (client) => {
        const { rows } = await client.query(sql.INSERT_RUNTIME, [...definitionParams(s), !s.enabled]);
        await client.query(sql.NOTIFY, [`changed:${s.name}`]);
        return rowToInfo(rows[0]);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new ScheduleValidationError(`schedule ${s.name}: name is taken by an existing schedule`, 'name', s.name, { cause: error });
      }
      throw error;
    }
  }

  /** Changes any schedule's definition (a code schedule's change lasts until its declaration changes in code). */
  async update(name: string, change: ScheduleChange): Promise<ScheduleInfo> {
    const current = await this.get(name);
    const timingKeys = ['cron', 'every', 'daily', 'weekly', 'monthly'] as const;
    const base = infoToDeclaration(current);
    if (timingKeys.some((k) => change[k] !== undefined)) for (const k of timingKeys) delete base[k];
    const s = normalizeSchedule({ ...base, ...change, tz: change.tz ?? base.tz, name } as ScheduleDeclaration);
    await this.checkTarget(s);
    return withTransaction(this.db.pool, async (client) => {
      const { rows } = await client.query(sql.UPDATE_DEFINITION, definitionParams(s));
      if (!rows[0]) throw new ScheduleNotFoundError(name);
      await client.query(sql.NOTIFY, [`changed:${name}`]);
      return rowToInfo(rows[0]);
    });
  }

  /** Paused schedules do not fire; the pause survives deploys (sync never unpauses). */
  pause(name: string): Promise<ScheduleInfo> {
    return this.simpleChange(name, sql.PAUSE);
  }

  /** Resumes from now: instants during the pause are not caught up. */
  resume(name: string): Promise<ScheduleInfo> {
    return this.simpleChange(name, sql.RESUME);
  }

  /** Deletes a runtime schedule and its history; a code schedule is removed by removing it from code. */
  async remove(name: string): Promise<void> {
    const current = await this.get(name);
    if (current.source === 'code' && current.active) {
      throw new ScheduleValidationError(`schedule ${name}: is declared in code; remove the declaration (or pause it)`, 'name', name);
    }
    await withTransaction(this.db.pool, async (client) => {
      await client.query(sql.DELETE, [name]);
      await client.query(sql.NOTIFY, [`removed:${name}`]);
    });
  }

  /** The next `count` instants of a stored schedule, or of any spec in any zone. */
  async preview(schedule: string | TimingSpec, count = 10, from: Date = new Date()): Promise<PreviewEntry[]> {
    if (typeof schedule === 'string') return preview((await this.get(schedule)).timing, count, from);
    return preview(schedule, count, from);
  }

  /** Run history, newest first. */
  async history(name: string, options: { limit?: number; before?: Date } = {}): Promise<ScheduleRun[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const { rows } = await this.db.pool.query(runSql.HISTORY, [name, options.before ?? null, limit]);
    return rows.map(rowToRun);
  }

  private async simpleChange(name: string, text: string): Promise<ScheduleInfo> {
    return withTransaction(this.db.pool, async (client) => {
      const { rows } = await client.query(text, [name]);
      if (!rows[0]) throw new ScheduleNotFoundError(name);
      await client.query(sql.NOTIFY, [`changed:${name}`]);
      return rowToInfo(rows[0]);
    });
  }

  /** The queue must exist (declared here or created in pg-boss) and the data must fit its payload class. */
  async checkTarget(s: NormalizedSchedule, queryable: Pick<pg.Pool, 'query'> = this.db.pool): Promise<void> {
    const def = this.registry.get(s.queue);
    if (!def) {
      const { rows } = await queryable.query(`SELECT 1 FROM pgboss.queue WHERE name = $1`, [s.queue]);
      if (rows.length === 0) {
        throw new ScheduleValidationError(`schedule ${s.name}: queue ${JSON.stringify(s.queue)} does not exist`, 'queue', s.name);
      }
      return;
    }
    checkScheduleData(s, this.registry);
  }

  /**
   * Writes code declarations into the table (the leader calls this when it takes over): new ones created,
   * changed ones updated, undeclared ones deactivated; paused flags are left as they are.
   */
  async syncDeclared(declared: NormalizedSchedule[]): Promise<{ created: string[]; updated: string[]; deactivated: string[] }> {
    return withTransaction(this.db.pool, async (client) => {
      const created: string[] = [];
      const updated: string[] = [];
      for (const s of declared) {
        const { rows } = await client.query(sql.UPSERT_CODE, [...definitionParams(s), !s.enabled, declarationHash(s)]);
        if (rows[0]) (rows[0].created ? created : updated).push(s.name);
      }
      const { rows } = await client.query(sql.DEACTIVATE_MISSING, [declared.map((s) => s.name)]);
      return { created, updated, deactivated: rows.map((r) => r.name as string) };
    });
  }
}
