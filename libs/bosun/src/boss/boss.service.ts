import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PgBoss, type ConstructorOptions } from 'pg-boss';
import type { Logger } from 'pino';
import { BosunDatabase } from '../db/database.js';
import { checkSchema, migrate } from '../db/migrate.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions, type BosunRole } from '../module/options.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { QueueDeclarationError, QueueRegistry } from '../queues/queue-registry.js';

/** pg-boss settings per role: bosun's scheduler replaces pg-boss cron everywhere; maintenance runs on the scheduler leader only. */
export function bossOptionsFor(role: BosunRole, options: BosunModuleOptions): ConstructorOptions {
  return {
    connectionString: options.connectionString,
    max: options.poolMax ?? OPTION_DEFAULTS.poolMax,
    application_name: `bosun-${role}`,
    migrate: false,
    schedule: false,
    // Maintenance runs on the scheduler leader only: LeaderService calls boss.supervise() while it leads.
    supervise: false,
    // Workers: the worker runtime holds the LISTEN connection that wakes its runners; pg-boss's would wake nothing.
    useListenNotify: role === 'scheduler',
    registerInstance: true,
    instanceName: options.instanceId ? `${role}:${options.instanceId}` : role,
    ...(options.openTelemetry ? { openTelemetry: options.openTelemetry } : {}),
  };
}

/**
 * Owns this process's PgBoss. Start-up waits (without blocking HTTP) until the database answers
 * and its schema is current, so probes can say why a process is not started yet.
 */
@Injectable()
export class BossService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly boss: PgBoss;
  private startPromise?: Promise<void>;
  private stopped = false;
  private readonly startedListeners: Array<(error?: Error) => void> = [];
  private started = false;
  private fatalError?: Error;

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Inject(BOSUN_LOGGER) private readonly logger: Logger,
    private readonly db: BosunDatabase,
    private readonly registry: QueueRegistry,
    private readonly lifecycle: Lifecycle,
  ) {
    this.boss = new PgBoss(bossOptionsFor(options.role, options));
    this.boss.on('error', (error) => this.logger.warn({ err: error.message }, 'pg-boss error'));
    this.boss.on('warning', (w) => this.logger.warn({ data: w.data }, `pg-boss: ${w.message}`));
  }

  get isStarted(): boolean {
    return this.started;
  }

  onApplicationBootstrap(): void {
    this.start().catch((error) => this.logger.error({ err: (error as Error).message }, 'bosun failed to start'));
  }

  /** Safe to call twice: the second call returns the first one's promise. */
  start(): Promise<void> {
    this.startPromise ??= this.run();
    return this.startPromise;
  }

  private async run(): Promise<void> {
    for (;;) {
      await this.waitForSchema();
      if (this.stopped) return;
      try {
        await this.boss.start();
        await this.registry.ensureQueues(this.boss, this.options.role === 'worker' ? this.options.queueFilter : undefined);
        break;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof QueueDeclarationError) {
          // A declaration that contradicts the database will not fix itself: report it and stay unstarted.
          this.fatalError = error;
          this.lifecycle.startupProblem = error.message;
          this.logger.error(error.message);
          for (const listener of this.startedListeners.splice(0)) listener(error);
          throw error;
        }
        this.lifecycle.startupProblem = `pg-boss did not start: ${(error as Error).message}`;
        this.logger.error(this.lifecycle.startupProblem);
        await new Promise((resolve) => setTimeout(resolve, OPTION_DEFAULTS.schemaRetryMs));
      }
    }
    this.started = true;
    this.lifecycle.startupProblem = undefined;
    if (this.lifecycle.phase === 'starting') this.lifecycle.phase = 'started';
    this.logger.info({ queues: this.registry.names() }, 'bosun started');
    for (const listener of this.startedListeners.splice(0)) listener();
  }

  /** Migrates when asked to; otherwise waits until `bosun migrate` has run, saying why in logs and probes. */
  private async waitForSchema(): Promise<void> {
    let lastMessage: string | undefined;
    while (!this.stopped) {
      try {
        if (this.options.migrate) await migrate(this.options.connectionString, (m) => this.logger.info(m));
        const status = await checkSchema(this.db.pool);
        this.lifecycle.schema = status;
        if (status.ok) return;
        this.lifecycle.startupProblem = status.message;
      } catch (error) {
        this.lifecycle.startupProblem = `database unreachable: ${(error as Error).message}`;
      }
      if (this.lifecycle.startupProblem !== lastMessage) {
        lastMessage = this.lifecycle.startupProblem;
        this.logger.error(`not starting yet: ${lastMessage}`);
      }
      await new Promise((resolve) => setTimeout(resolve, OPTION_DEFAULTS.schemaRetryMs));
    }
  }

  /** Resolves once pg-boss runs; rejects after timeoutMs with the reason start-up is stuck. */
  whenStarted(timeoutMs: number = OPTION_DEFAULTS.startWaitMs): Promise<void> {
    if (this.started) return Promise.resolve();
    if (this.fatalError) return Promise.reject(this.fatalError);
    if (this.stopped) return Promise.reject(new Error('bosun is stopped'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.startedListeners.indexOf(done);
        if (index >= 0) this.startedListeners.splice(index, 1);
        reject(new Error(`bosun has not started within ${timeoutMs} ms: ${this.lifecycle.startupProblem ?? 'still starting'}`));
      }, timeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.startedListeners.push(done);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const listener of this.startedListeners.splice(0)) listener(new Error('bosun is stopped'));
    await this.startPromise?.catch(() => undefined);
    await this.boss.stop({ graceful: false, close: true, timeout: 1000 }).catch(() => undefined);
    this.started = false;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
