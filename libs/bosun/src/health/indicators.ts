import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { OLDEST_READY_SECONDS } from '../metrics/job.sql.js';
import { BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions } from '../module/options.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { LeadershipState } from './leadership.js';
import { ServedQueues } from './served-queues.js';

export const DB_PING_TIMEOUT_MS = 2_000;
/** An event loop stalled this long between two probes is stuck, not busy: liveness fails so the pod restarts. */
export const EVENT_LOOP_MAX_DELAY_MS = 5_000;

/** Terminus indicators for bosun's state; add them to your own health checks. */
@Injectable()
export class BosunHealthIndicators implements OnModuleDestroy {
  private readonly loop = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly db: BosunDatabase,
    private readonly boss: BossService,
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Optional() private readonly leadershipState?: LeadershipState,
    @Optional() private readonly servedQueues?: ServedQueues,
  ) {
    this.loop.enable();
  }

  onModuleDestroy(): void {
    this.loop.disable();
  }

  /** The process itself: answers as long as the event loop turns; no I/O. */
  process() {
    return this.health.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()), phase: this.lifecycle.phase });
  }

  /** Event loop delay since the previous probe; down only when the loop was stalled for seconds. */
  eventLoop() {
    const check = this.health.check('eventLoop');
    const maxMs = Math.round(this.loop.max / 1e6);
    const p99Ms = Math.round(this.loop.percentile(99) / 1e6);
    this.loop.reset();
    const data = { delayP99Ms: p99Ms, delayMaxMs: maxMs };
    return maxMs > EVENT_LOOP_MAX_DELAY_MS ? check.down({ ...data, message: `event loop stalled for ${maxMs} ms` }) : check.up(data);
  }

  /** Database answers a round trip within the timeout. */
  database() {
    return this.health
      .check('database')
      .attempt(async () => {
        await this.db.ping();
      })
      .withTimeout(DB_PING_TIMEOUT_MS);
  }

  /** pg-boss started in this process. */
  queue() {
    const check = this.health.check('pgBoss');
    return this.boss.isStarted ? check.up() : check.down({ message: this.lifecycle.startupProblem ?? 'starting' });
  }

  /** Not shutting down: a draining process takes no new traffic. */
  notDraining() {
    const check = this.health.check('lifecycle');
    return this.lifecycle.draining ? check.down({ message: 'draining', phase: this.lifecycle.phase }) : check.up({ phase: this.lifecycle.phase });
  }

  /** Schema current (the migration Job has run). */
  schema() {
    const check = this.health.check('schema');
    const status = this.lifecycle.schema;
    if (status?.ok) return check.up({ bosun: status.bosun.current, pgBoss: status.pgBoss.current });
    return check.down({ message: this.lifecycle.startupProblem ?? status?.message ?? 'not checked yet' });
  }

  /**
   * Worker backlog: degraded (still 200: more pods help, restarting this one does not) when the served queues'
   * oldest ready job has waited longer than readyMaxJobAgeSeconds; up otherwise, and for other roles.
   */
  async backlog() {
    const check = this.health.check('backlog');
    const threshold = this.options.readyMaxJobAgeSeconds ?? OPTION_DEFAULTS.readyMaxJobAgeSeconds;
    const queues = this.servedQueues?.list() ?? [];
    if (threshold === 0 || queues.length === 0) return check.up({ queues: queues.length, thresholdSeconds: threshold });
    try {
      const { rows } = await this.db.pool.query(OLDEST_READY_SECONDS, [queues]);
      const oldest = Math.round(Number(rows[0]?.seconds ?? 0));
      const data = { oldestReadySeconds: oldest, thresholdSeconds: threshold, queues: queues.length };
      return oldest > threshold
        ? check.degraded({ ...data, message: `oldest ready job has waited ${oldest} s (threshold ${threshold} s)` })
        : check.up(data);
    } catch (error) {
      // The database check decides up or down; an unmeasurable backlog is only a detail.
      return check.degraded({ message: `backlog not measured: ${(error as Error).message}`, thresholdSeconds: threshold });
    }
  }

  /** Leadership as a detail of readiness: a standby is ready, so this never fails. */
  leadership() {
    const check = this.health.check('leadership');
    const status = this.leadershipState?.status();
    if (!status) return check.up({ isLeader: false, message: 'no leadership status yet' });
    return check.up({
      isLeader: status.isLeader,
      term: status.term,
      ...(status.leaderId !== undefined ? { leaderId: status.leaderId } : {}),
      ...(status.since ? { since: new Date(status.since).toISOString() } : {}),
    });
  }

  /** The readiness checks for this process's role, in the order the probe runs them. */
  readinessChecks(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [() => this.notDraining(), () => this.queue(), () => this.database()];
    if (this.options.role === 'worker') checks.push(() => this.backlog());
    if (this.options.role === 'scheduler') checks.push(() => this.leadership());
    return checks;
  }
}
