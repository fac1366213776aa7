import type { OpenTelemetryOptions } from 'pg-boss';
import type { Logger } from 'pino';
import type { BosunConfig, QueueMetricsMode } from '../config/config.js';
import type { QueueDefinition } from '../queues/define-queue.js';
import type { ScheduleDeclaration } from '../scheduler/schedule-definition.js';

export const BOSUN_ROLES = ['scheduler', 'worker', 'client'] as const;
export type BosunRole = (typeof BOSUN_ROLES)[number];

export interface BosunModuleOptions {
  connectionString: string;
  /** scheduler: leader election, schedules, maintenance; worker: runs processors; client: only sends. */
  role: BosunRole;
  /** Queues declared for the whole app; feature modules add theirs with BosunModule.forFeature. */
  queues?: QueueDefinition<any>[];
  /** Shown in logs, metrics and leadership; defaults to the host name. */
  instanceId?: string;
  /** Connections pg-boss may open in this process (bosun's own pool adds up to 4). */
  poolMax?: number;
  /** Run `bosun migrate` at start: handy in development and tests, off in production (a Job does it). */
  migrate?: boolean;
  /** Worker role: serve only these queues (BOSUN_QUEUES). */
  queueFilter?: string[];
  /** Seconds in-flight jobs get to finish on SIGTERM before they are aborted and released for retry. */
  drainTimeoutSeconds?: number;
  /** Scheduler role: seconds after which a silent leader loses its lock. */
  leaseSeconds?: number;
  /** Schedules declared for the whole app (besides @Scheduled classes and BosunSchedulesModule.forFeature). */
  schedules?: ScheduleDeclaration[];
  logger?: Logger;
  /** Worker role: readiness reports degraded when the served queues' oldest ready job waited longer (0: never). */
  readyMaxJobAgeSeconds?: number;
  /** Per-queue depth/age gauges: published while this process leads (default), always, or off. */
  queueMetrics?: QueueMetricsMode;
  queueMetricsIntervalSeconds?: number;
  /** Passed to pg-boss: its spans and metrics go to the global OpenTelemetry SDK unless providers are given here. */
  openTelemetry?: OpenTelemetryOptions;
}

/** The operations options (health thresholds, metrics) from the validated environment, for the apps' forRoot. */
export function operationsOptions(config: BosunConfig): Pick<BosunModuleOptions, 'readyMaxJobAgeSeconds' | 'queueMetrics' | 'queueMetricsIntervalSeconds'> {
  return {
    readyMaxJobAgeSeconds: config.readyMaxJobAgeSeconds,
    queueMetrics: config.queueMetrics,
    queueMetricsIntervalSeconds: config.queueMetricsIntervalSeconds,
  };
}

/** Module options for an app process, from its validated environment: what both apps and any thin root pass to forRoot. */
export function optionsFromConfig(config: BosunConfig, role: BosunRole, logger?: Logger): BosunModuleOptions {
  return {
    connectionString: config.databaseUrl!,
    role,
    instanceId: config.instanceId,
    poolMax: config.dbPoolMax,
    drainTimeoutSeconds: config.drainTimeoutSeconds,
    leaseSeconds: config.leaseSeconds,
    queueFilter: role === 'worker' ? config.queues : undefined,
    logger,
    ...operationsOptions(config),
  };
}

export const BOSUN_OPTIONS = Symbol('BOSUN_OPTIONS');
export const BOSUN_LOGGER = Symbol('BOSUN_LOGGER');

export const OPTION_DEFAULTS = {
  poolMax: 10,
  drainTimeoutSeconds: 25,
  leaseSeconds: 10,
  /** How long a send waits for pg-boss to finish starting before it gives up with the reason. */
  startWaitMs: 30_000,
  /** How often a process whose schema is behind checks again. */
  schemaRetryMs: 2_000,
  readyMaxJobAgeSeconds: 300,
  queueMetrics: 'leader' as QueueMetricsMode,
  queueMetricsIntervalSeconds: 15,
};

export class BosunOptionsError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'BosunOptionsError';
  }
}

export function validateModuleOptions(o: BosunModuleOptions): BosunModuleOptions {
  if (!o || typeof o !== 'object') throw new BosunOptionsError('BosunModule options must be an object', '(options)');
  if (typeof o.connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(o.connectionString)) {
    throw new BosunOptionsError('BosunModule option connectionString must be a postgres:// connection string', 'connectionString');
  }
  if (!(BOSUN_ROLES as readonly string[]).includes(o.role)) {
    throw new BosunOptionsError(`BosunModule option role must be one of ${BOSUN_ROLES.join(', ')}, got ${JSON.stringify(o.role)}`, 'role');
  }
  if (o.poolMax !== undefined && (!Number.isInteger(o.poolMax) || o.poolMax < 2)) {
    throw new BosunOptionsError(`BosunModule option poolMax must be an integer >= 2, got ${JSON.stringify(o.poolMax)}`, 'poolMax');
  }
  if (o.readyMaxJobAgeSeconds !== undefined && (!Number.isInteger(o.readyMaxJobAgeSeconds) || o.readyMaxJobAgeSeconds < 0)) {
    throw new BosunOptionsError(`BosunModule option readyMaxJobAgeSeconds must be an integer >= 0, got ${JSON.stringify(o.readyMaxJobAgeSeconds)}`, 'readyMaxJobAgeSeconds');
  }
  if (o.queueMetrics !== undefined && !['leader', 'always', 'off'].includes(o.queueMetrics)) {
    throw new BosunOptionsError(`BosunModule option queueMetrics must be one of leader, always, off, got ${JSON.stringify(o.queueMetrics)}`, 'queueMetrics');
  }
  if (o.queueMetricsIntervalSeconds !== undefined && (!Number.isInteger(o.queueMetricsIntervalSeconds) || o.queueMetricsIntervalSeconds < 1)) {
    throw new BosunOptionsError(`BosunModule option queueMetricsIntervalSeconds must be an integer >= 1, got ${JSON.stringify(o.queueMetricsIntervalSeconds)}`, 'queueMetricsIntervalSeconds');
  }
  return o;
}
