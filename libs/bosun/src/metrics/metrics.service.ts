import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { BOSUN_OPTIONS, type BosunModuleOptions } from '../module/options.js';
import { BosunEvents, type BosunEventMap, type JobObserver, type JobOutcome } from '../runtime/events.js';
import { Lifecycle } from '../runtime/lifecycle.js';

export const METRIC_PREFIX = 'bosun_';
/** Job durations run from a millisecond (no-op handlers) to an hour (monthly reports). */
export const JOB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Fire lag targets are tens of milliseconds; the tail shows failovers and catch-up. */
export const FIRE_LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const QUEUE_JOB_STATES = ['ready', 'deferred', 'blocked', 'active', 'failed'] as const;

export interface QueueSnapshot {
  queue: string;
  ready: number;
  deferred: number;
  blocked: number;
  active: number;
  failed: number;
  oldestReadySeconds: number;
}

/**
 * bosun's Prometheus metrics for this process, on a registry of its own (several apps may share one Node
 * process in tests). Job, schedule and leadership series come from BosunEvents, so whatever code emits
 * those events lights them up; queue gauges come from the QueueMetricsPublisher; pool gauges are read at scrape.
 */
@Injectable()
export class BosunMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();

  readonly jobsProcessed = new Counter({
    name: `${METRIC_PREFIX}jobs_processed_total`,
    help: 'Job attempts finished by this process, by queue and outcome (completed, failed, retry, dead-lettered, aborted).',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: `${METRIC_PREFIX}job_duration_seconds`,
    help: 'Handler run time of one job attempt, by queue and outcome.',
    labelNames: ['queue', 'outcome'] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly jobWait = new Histogram({
    name: `${METRIC_PREFIX}job_wait_seconds`,
    help: 'Start latency reported by the worker runtime (job.started waitMs): from enqueued to handler start, by queue.',
    labelNames: ['queue'] as const,
    buckets: FIRE_LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly jobsInFlight = new Gauge({
    name: `${METRIC_PREFIX}jobs_in_flight`,
    help: 'Jobs whose handler is running in this process, by queue.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queueJobs = new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs per queue and state (ready, deferred, blocked, active, failed); published by the scheduler leader.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });
  readonly queueOldestReady = new Gauge({
    name: `${METRIC_PREFIX}queue_oldest_ready_age_seconds`,
    help: "How long each queue's oldest ready job has waited since it became ready (0 when none); published by the scheduler leader.",
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly fireLag = new Histogram({
    name: `${METRIC_PREFIX}schedule_fire_lag_seconds`,
    help: 'Delay from a schedule due instant to its job being inserted.',
    buckets: FIRE_LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly fires = new Counter({
    name: `${METRIC_PREFIX}schedule_fires_total`,
    help: 'Schedule due instants handled by the leader, by outcome (enqueued, skipped).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: `${METRIC_PREFIX}schedule_runs_total`,
    help: 'Schedule runs recorded in the ledger, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: `${METRIC_PREFIX}leader`,
    help: '1 while this process is the scheduler leader, else 0.',
    registers: [this.registry],
  });
  readonly leaderTerm = new Gauge({
    name: `${METRIC_PREFIX}leader_term`,
    help: 'The leadership term (fencing token) this process last held or saw.',
    registers: [this.registry],
  });
  readonly leadershipChanges = new Counter({
    name: `${METRIC_PREFIX}leadership_changes_total`,
    help: 'Times this process gained or lost leadership, by direction (acquired, lost).',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });
  readonly dbPool = new Gauge({
    name: `${METRIC_PREFIX}db_pool_connections`,
    help: "Database pool connections by pool (bosun's own, pg-boss's) and state (total, idle, waiting: queued requests).",
    labelNames: ['pool', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectPools(),
  });
  readonly dbPoolMax: Gauge<'pool'> = new Gauge({
    name: `${METRIC_PREFIX}db_pool_max_connections`,
    help: 'Configured maximum connections per pool.',
    labelNames: ['pool'] as const,
    registers: [this.registry],
    collect: (): void => {
      this.dbPoolMax.set({ pool: 'bosun' }, this.db.pool.options.max ?? 0);
      this.dbPoolMax.set({ pool: 'pgboss' }, this.boss.boss.getDb().poolCounts?.()?.max ?? this.options.poolMax ?? 0);
    },
  });
  readonly info = new Gauge({
    name: `${METRIC_PREFIX}info`,
    help: 'Always 1; labels say which role and instance this process is.',
    labelNames: ['role', 'instance'] as const,
    registers: [this.registry],
  });
  readonly up: Gauge = new Gauge({
    name: `${METRIC_PREFIX}up`,
    help: '1 when pg-boss has started and the process is not draining, else 0.',
    registers: [this.registry],
    collect: (): void => this.up.set(this.boss.isStarted && !this.lifecycle.draining ? 1 : 0),
  });

  /** The worker's per-job observations, with each queue's labelled children resolved once (no label hashing per job). */
  private readonly jobObserver: JobObserver = {
    forQueue: (queue) => {
      const inFlight = this.jobsInFlight.labels(queue);
      const wait = this.jobWait.labels(queue);
      const perOutcome = new Map<JobOutcome, { processed: { inc(): void }; duration: { observe(v: number): void } }>();
      return {
        started: (waitMs) => {
          inFlight.inc();
          if (waitMs !== undefined && waitMs >= 0) wait.observe(waitMs / 1000);
        },
        finished: (outcome, durationMs, startedHere) => {
          if (startedHere) inFlight.dec();
          let o = perOutcome.get(outcome);
          if (!o) {
            o = { processed: this.jobsProcessed.labels(queue, outcome), duration: this.jobDuration.labels(queue, outcome) };
            perOutcome.set(outcome, o);
          }
          o.processed.inc();
          o.duration.observe(Math.max(0, durationMs) / 1000);
        },
      };
    },
  };
  private readonly listeners: { [K in keyof BosunEventMap]?: (...args: BosunEventMap[K]) => void } = {
    'leader.changed': (event) => {
      const was = this.isLeader;
      this.isLeader = event.isLeader;
      this.leader.set(event.isLeader ? 1 : 0);
      if (event.term !== null) this.leaderTerm.set(event.term);
      if (was !== event.isLeader) this.leadershipChanges.inc({ change: event.isLeader ? 'acquired' : 'lost' });
    },
    'schedule.fired': (event) => {
      this.fires.inc({ outcome: event.outcome });
      if (Number.isFinite(event.lagMs)) this.fireLag.observe(Math.max(0, event.lagMs) / 1000);
    },
    'schedule.run': (event) => {
      this.runs.inc({ outcome: event.outcome });
    },
  };
  private isLeader = false;

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    private readonly events: BosunEvents,
    private readonly db: BosunDatabase,
    private readonly boss: BossService,
    private readonly lifecycle: Lifecycle,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    this.info.set({ role: options.role, instance: options.instanceId ?? '' }, 1);
    this.leader.set(0);
    // prom-client names these gauges *_total, which Prometheus reserves for counters; the per-type gauges stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
    }
  }

  onModuleInit(): void {
    this.events.observeJobs(this.jobObserver);
    for (const [name, listener] of Object.entries(this.listeners)) this.events.on(name as keyof BosunEventMap, listener as never);
  }

  onModuleDestroy(): void {
    this.events.observeJobs(undefined);
    for (const [name, listener] of Object.entries(this.listeners)) this.events.off(name as keyof BosunEventMap, listener as never);
  }

  /** Replaces every per-queue gauge with this snapshot (queues gone from it disappear from the output). */
  publishQueues(snapshot: QueueSnapshot[]): void {
    this.queueJobs.reset();
    this.queueOldestReady.reset();
    for (const q of snapshot) {
      for (const state of QUEUE_JOB_STATES) this.queueJobs.set({ queue: q.queue, state }, q[state]);
      this.queueOldestReady.set({ queue: q.queue }, q.oldestReadySeconds);
    }
  }

  /** Drops the per-queue gauges: a process that stops publishing (lost leadership) must not show stale values. */
  clearQueues(): void {
    this.queueJobs.reset();
    this.queueOldestReady.reset();
  }

  /** The Prometheus text exposition of everything above. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private collectPools(): void {
    const own = this.db.pool;
    this.dbPool.set({ pool: 'bosun', state: 'total' }, own.totalCount);
    this.dbPool.set({ pool: 'bosun', state: 'idle' }, own.idleCount);
    this.dbPool.set({ pool: 'bosun', state: 'waiting' }, own.waitingCount);
    const counts = this.boss.boss.getDb().poolCounts?.() ?? null;
    this.dbPool.set({ pool: 'pgboss', state: 'total' }, counts?.total ?? 0);
    this.dbPool.set({ pool: 'pgboss', state: 'idle' }, counts?.idle ?? 0);
    this.dbPool.set({ pool: 'pgboss', state: 'waiting' }, counts?.waiting ?? 0);
  }
}
