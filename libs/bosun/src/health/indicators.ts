import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { Lifecycle } from '../runtime/lifecycle.js';

export const DB_PING_TIMEOUT_MS = 2_000;

/** Terminus indicators for bosun's state; add them to your own health checks. */
@Injectable()
export class BosunHealthIndicators {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly db: BosunDatabase,
    private readonly boss: BossService,
  ) {}

  /** The process itself: answers as long as the event loop turns; no I/O. */
  process() {
    return this.health.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()), phase: this.lifecycle.phase });
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
}
