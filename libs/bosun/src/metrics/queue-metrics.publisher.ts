import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions } from '../module/options.js';
import { BosunEvents, type BosunEventMap } from '../runtime/events.js';
import { QUEUE_STATS } from './job.sql.js';
import { BosunMetrics, type QueueSnapshot } from './metrics.service.js';

const INTERVAL_NAME = 'bosun.queue-metrics';

/**
 * Publishes per-queue depth and oldest-ready age as gauges. One process does it for the cluster (the scheduler
 * leader: mode 'leader' follows leader.changed events), so the job table is counted once per interval however
 * many replicas run; mode 'always' publishes from this process regardless (no scheduler in the deployment, or
 * tests); 'off' never. start()/stop() are also public for the leader code to drive directly; both are idempotent.
 */
@Injectable()
export class QueueMetricsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastError?: string;
  private readonly onLeader = (...[event]: BosunEventMap['leader.changed']) => {
    if (this.mode !== 'leader') return;
    if (event.isLeader) this.start();
    else void this.stop();
  };

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Inject(BOSUN_LOGGER) private readonly logger: Logger,
    private readonly db: BosunDatabase,
    private readonly boss: BossService,
    private readonly metrics: BosunMetrics,
    private readonly events: BosunEvents,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  get mode() {
    return this.options.queueMetrics ?? OPTION_DEFAULTS.queueMetrics;
  }

  get publishing(): boolean {
    return this.timer !== undefined;
  }

  onApplicationBootstrap(): void {
    this.events.on('leader.changed', this.onLeader);
    if (this.mode === 'always') this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.events.off('leader.changed', this.onLeader);
    await this.stop();
  }

  /** Publishes now (once pg-boss has started) and every interval after. */
  start(): void {
    if (this.timer || this.mode === 'off') return;
    const seconds = this.options.queueMetricsIntervalSeconds ?? OPTION_DEFAULTS.queueMetricsIntervalSeconds;
    this.timer = setInterval(() => void this.publishOnce(), seconds * 1000);
    this.timer.unref();
    this.scheduler.addInterval(INTERVAL_NAME, this.timer);
    // The first count as soon as pg-boss runs, not one interval later.
    this.boss.whenStarted(OPTION_DEFAULTS.startWaitMs).then(() => this.publishOnce(), () => undefined);
  }

  /** Stops publishing and drops the gauges, so only the current publisher shows queue values. */
  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
      this.timer = undefined;
    }
    await this.running;
    this.metrics.clearQueues();
  }

  /** One count of every queue; overlapping ticks share the one in progress. */
  publishOnce(): Promise<void> {
    this.running ??= this.collect().finally(() => (this.running = undefined));
    return this.running;
  }

  private async collect(): Promise<void> {
    if (!this.boss.isStarted) return;
    try {
      const { rows } = await this.db.pool.query(QUEUE_STATS, [null]);
      if (!this.timer) return;
      const snapshot: QueueSnapshot[] = rows.map((r) => ({
        queue: r.queue,
        ready: r.ready,
        deferred: r.deferred,
        blocked: r.blocked,
        active: r.active,
        failed: r.failed,
        oldestReadySeconds: r.oldest_ready_seconds,
      }));
      this.metrics.publishQueues(snapshot);
      if (this.lastError) this.logger.info('queue metrics published again');
      this.lastError = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) this.logger.warn({ err: message }, 'queue metrics not published');
      this.lastError = message;
    }
  }
}
