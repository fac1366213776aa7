import { Inject, Injectable, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { ServedQueues } from '../health/served-queues.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions } from '../module/options.js';
import { QueueRegistry } from '../queues/queue-registry.js';
import { BosunEvents } from '../runtime/events.js';
import { Lifecycle, type DrainParticipant } from '../runtime/lifecycle.js';
import { PipelinedConnection } from '../db/pool.js';
import * as bossSql from './boss-job.sql.js';
import { CLAIM_SESSION_OPTIONS } from './fetch.sql.js';
import { JobErrors } from './job-errors.js';
import { getProcessorMetadata, type ProcessorMetadata } from './processor.decorator.js';
import { QueueRunner } from './queue-runner.js';

/** Claim connections per worker process (fewer with fewer queues). */
export const CLAIM_LANES = 2;
/** How often this worker looks for jobs whose worker died (heartbeat lapsed, or running past expiry). */
export const RESCUE_INTERVAL_MS = 2_000;
/** Seconds past expireInSeconds before another process fails a job whose owner should have timed it out itself. */
export const EXPIRY_GRACE_SECONDS = 5;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const RESCUE_TIMER = 'bosun.worker.rescue';
const PRUNE_TIMER = 'bosun.worker.prune-job-errors';

export class ProcessorDeclarationError extends Error {
  constructor(message: string, readonly queue: string) {
    super(message);
    this.name = 'ProcessorDeclarationError';
  }
}

interface Discovered {
  metadata: ProcessorMetadata;
  instance: { process(job: unknown): unknown };
  className: string;
}

/**
 * The worker runtime: finds @Processor providers in every module, and in a worker process runs one QueueRunner per
 * served queue, wakes them on NOTIFY, rescues jobs of dead workers and drains on SIGTERM. Idle outside the worker role.
 */
@Injectable()
export class WorkerRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, DrainParticipant {
  private readonly processors: Discovered[] = [];
  private readonly runners = new Map<string, QueueRunner>();
  private listener?: { close(): Promise<void> };
  private readonly lanes: PipelinedConnection[] = [];
  private rescueTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private startPromise?: Promise<void>;
  private drainPromise?: Promise<void>;
  private stopped = false;
  private rescuing = false;

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Inject(BOSUN_LOGGER) private readonly logger: Logger,
    private readonly discovery: DiscoveryService,
    private readonly registry: QueueRegistry,
    private readonly bossService: BossService,
    private readonly db: BosunDatabase,
    private readonly events: BosunEvents,
    private readonly lifecycle: Lifecycle,
    private readonly errors: JobErrors,
    @Optional() private readonly servedQueues?: ServedQueues,
    @Optional() private readonly timers?: SchedulerRegistry,
  ) {}

  /** Process-local maintenance timers go through Nest's SchedulerRegistry when the app has it. */
  private addTimer(name: string, timer: NodeJS.Timeout): void {
    timer.unref();
    if (this.timers && !this.timers.doesExist('interval', name)) this.timers.addInterval(name, timer);
  }

  private clearTimer(name: string, timer: NodeJS.Timeout | undefined): void {
    clearInterval(timer);
    if (this.timers?.doesExist('interval', name)) this.timers.deleteInterval(name);
  }

  get isWorker(): boolean {
    return this.options.role === 'worker';
  }

  /** Queues this process runs (after BOSUN_QUEUES), with their runners' in-flight counts. */
  status(): Array<{ queue: string; concurrency: number; inFlight: number }> {
    return [...this.runners.values()].map((r) => ({ queue: r.name, concurrency: r.options.concurrency, inFlight: r.inFlight }));
  }

  /** Discovers processors in every role, so their queues are declared (and created) wherever the module loads. */
  onModuleInit(): void {
    const seen = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      const metadata = getProcessorMetadata(wrapper.metatype);
      if (!metadata || !wrapper.instance) continue;
      const className = (wrapper.metatype as { name: string }).name;
      const other = seen.get(metadata.queue.name);
      if (other && other !== className) {
        throw new ProcessorDeclarationError(`queue ${metadata.queue.name} has two processors: ${other} and ${className}; one queue, one processor`, metadata.queue.name);
      }
      if (other) continue;
      seen.set(metadata.queue.name, className);
      const instance = wrapper.instance as Discovered['instance'];
      if (typeof instance.process !== 'function') {
        throw new ProcessorDeclarationError(`${className} is a @Processor for ${metadata.queue.name} but has no process(job) method`, metadata.queue.name);
      }
      const queue = this.registry.register(metadata.queue);
      this.processors.push({ metadata: { ...metadata, queue }, instance, className });
    }
    if (this.isWorker) this.lifecycle.register(this);
  }

  onApplicationBootstrap(): void {
    if (!this.isWorker) return;
    this.start().catch((error) => this.logger.error({ err: (error as Error).message }, 'worker runtime failed to start'));
  }

  /** Waits for pg-boss, then starts a runner per served queue. Safe to call twice. */
  start(): Promise<void> {
    this.startPromise ??= this.run();
    return this.startPromise;
  }

  private served(): Discovered[] {
    const filter = this.options.queueFilter;
    if (!filter || filter.length === 0) return this.processors;
    const known = new Set(this.processors.map((p) => p.metadata.queue.name));
    for (const name of filter) {
      if (!known.has(name)) this.logger.warn({ queue: name }, 'BOSUN_QUEUES names a queue with no @Processor in this app; ignored');
    }
    return this.processors.filter((p) => filter.includes(p.metadata.queue.name));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.bossService.whenStarted(OPTION_DEFAULTS.startWaitMs);
        break;
      } catch (error) {
        if (this.stopped || (error as Error).name === 'QueueDeclarationError') throw error;
        this.logger.info({ reason: (error as Error).message }, 'worker runtime waiting for bosun to start');
      }
    }
    if (this.stopped || this.lifecycle.draining) return;
    const served = this.served();
    // Readiness judges the backlog of exactly the queues this process runs (with no processor, ServedQueues' default).
    if (served.length > 0) this.servedQueues?.set(served.map((p) => p.metadata.queue.name));
    const boss = this.bossService.boss;
    const instanceId = this.options.instanceId ?? 'worker';
    // A fixed number of connections whatever the number of queues: one records every queue's completions, and up to
    // CLAIM_LANES carry the claims (queues share them round-robin), with the claim's planner settings.
    const settleDb = new PipelinedConnection({
      connectionString: this.options.connectionString,
      applicationName: 'bosun-worker-settle',
      onError: (error) => this.logger.warn({ err: error.message }, 'completion connection lost'),
    });
    const claimLanes = Array.from({ length: Math.min(served.length, CLAIM_LANES) }, () => new PipelinedConnection({
      connectionString: this.options.connectionString,
      applicationName: 'bosun-worker-claim',
      options: CLAIM_SESSION_OPTIONS,
      onError: (error) => this.logger.warn({ err: error.message }, 'claim connection lost'),
    }));
    this.lanes.push(settleDb, ...claimLanes);
    for (const [i, p] of served.entries()) {
      const claimDb = claimLanes[i % claimLanes.length]!;
      const runner = new QueueRunner(p.metadata.queue, (job) => p.instance.process(job), p.metadata.options, {
        boss,
        pool: this.db.pool,
        claimDb,
        settleDb,
        errors: this.errors,
        events: this.events,
        logger: this.logger,
        instanceId,
      });
      this.runners.set(runner.name, runner);
    }
    await this.listen();
    for (const runner of this.runners.values()) runner.start();
    this.rescueTimer = setInterval(() => void this.rescue(), RESCUE_INTERVAL_MS);
    this.addTimer(RESCUE_TIMER, this.rescueTimer);
    this.pruneTimer = setInterval(() => void this.errors.prune().catch((e) => this.logger.warn({ err: (e as Error).message }, 'job error prune failed')), PRUNE_INTERVAL_MS);
    this.addTimer(PRUNE_TIMER, this.pruneTimer);
    this.logger.info({ queues: this.status() }, this.runners.size ? 'worker runtime started' : 'worker runtime started with no queues to serve');
  }

  /** One LISTEN connection wakes the runner of the queue a new job landed on; a reconnect wakes them all (notices may be lost). */
  private async listen(): Promise<void> {
    if (this.runners.size === 0) return;
    const db = this.bossService.boss.getDb();
    if (typeof db.listen !== 'function') {
      this.logger.warn('pg-boss database has no LISTEN support; workers poll only');
      return;
    }
    try {
      const { rows } = await this.db.pool.query(bossSql.NOTIFY_CHANNEL);
      this.listener = await db.listen(
        rows[0].channel as string,
        (queue) => this.runners.get(queue)?.wake(),
        () => {
          for (const runner of this.runners.values()) runner.wake();
        },
      );
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'LISTEN failed; workers poll only');
    }
  }

  /**
   * Fails jobs of the served queues whose worker is gone (kill -9, lost host): their heartbeat lapsed, or they ran
   * past expiry. pg-boss's supervisor does the same, but only every monitor interval on scheduler processes.
   */
  private async rescue(): Promise<void> {
    if (this.rescuing || this.stopped || this.runners.size === 0) return;
    this.rescuing = true;
    try {
      const held = [...this.runners.values()].flatMap((r) => r.heldIds());
      const { rows } = await this.db.pool.query(bossSql.LAPSED, [[...this.runners.keys()], EXPIRY_GRACE_SECONDS, held, 100]);
      for (const row of rows) {
        const runner = this.runners.get(row.name);
        if (!runner) continue;
        const message = row.kind === 'heartbeat-lapsed'
          ? `worker lost: no heartbeat for ${row.heartbeatSeconds}s (noticed by ${this.options.instanceId ?? 'a worker'})`
          : `worker lost: still active ${row.expireInSeconds}s after it started (noticed by ${this.options.instanceId ?? 'a worker'})`;
        await runner.fail(row, row.retryCount + 1, row.kind, { message, name: 'WorkerLostError' }, 0, null);
        // A retry is not announced by NOTIFY: look for it now rather than at the next poll.
        runner.wake();
      }
    } catch (error) {
      if (!this.stopped) this.logger.warn({ err: (error as Error).message }, 'rescue pass failed');
    } finally {
      this.rescuing = false;
    }
  }

  /** SIGTERM: stop fetching, let in-flight jobs finish until the deadline, release the rest; safe to call twice. */
  drain(deadline: number): Promise<void> {
    this.drainPromise ??= this.runDrain(deadline);
    return this.drainPromise;
  }

  private async runDrain(deadline: number): Promise<void> {
    this.stopped = true;
    this.clearTimer(RESCUE_TIMER, this.rescueTimer);
    this.clearTimer(PRUNE_TIMER, this.pruneTimer);
    await this.startPromise?.catch(() => undefined);
    if (this.runners.size === 0) return;
    const inFlight = [...this.runners.values()].reduce((n, r) => n + r.inFlight, 0);
    this.logger.info({ inFlight, timeoutMs: Math.max(0, deadline - Date.now()) }, 'draining: stopped fetching, waiting for in-flight jobs');
    const results = await Promise.all([...this.runners.values()].map(async (r) => ({ queue: r.name, ...(await r.drain(deadline)) })));
    await this.listener?.close().catch(() => undefined);
    this.listener = undefined;
    await Promise.all(this.lanes.map((c) => c.end()));
    const released = results.reduce((n, r) => n + r.released, 0);
    this.logger.info({ queues: results, released }, released ? 'drained: some jobs were released for retry' : 'drained: every in-flight job finished');
  }

  /** Stops at once: whatever still runs is released for another worker. Safe to call twice, and after drain(). */
  async stop(): Promise<void> {
    await this.drain(Date.now());
  }

  /** app.close() without a SIGTERM drain (tests, embedding apps): release whatever runs, at once. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.isWorker) return;
    await this.stop();
  }
}
