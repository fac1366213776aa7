// bosun's public surface: explicit exports only.
export { BosunModule, BosunFeatureModule, type BosunModuleAsyncOptions } from './module/bosun.module.js';
export { BOSUN_LOGGER, BOSUN_OPTIONS, BOSUN_ROLES, BosunOptionsError, type BosunModuleOptions, type BosunRole } from './module/options.js';
export { defineQueue, QueueDefinitionError, QUEUE_DEFAULTS, QUEUE_POLICIES, type PayloadClass, type QueueDefinition, type QueueOptions } from './queues/define-queue.js';
export { PayloadValidationError, validatePayload, type PayloadIssue } from './queues/payload.js';
export { BosunClient, QueueClient, SendOptionError, type BulkJob, type SendOptions } from './queues/queue-client.js';
export { QueueDeclarationError, QueueRegistry } from './queues/queue-registry.js';
export { getQueueToken, InjectQueue } from './queues/inject-queue.js';
export { type TransactionLike } from './queues/transaction.js';
export { BossService, bossOptionsFor } from './boss/boss.service.js';
export { BosunDatabase } from './db/database.js';
export { createPool, withTransaction, type Pool, type PoolClient, type Queryable } from './db/pool.js';
export { checkSchema, migrate, type MigrateResult, type SchemaStatus } from './db/migrate.js';
export { ConfigError, CONFIG_DEFAULTS, loadConfig, loadConfigOrExit, type BosunConfig, type LogLevel } from './config/config.js';
export { createLogger, PinoNestLogger, type Logger } from './logging/logger.js';
export { BosunEvents, type BosunEventMap } from './runtime/events.js';
export { Lifecycle, type DrainParticipant, type Phase } from './runtime/lifecycle.js';
export { runApp } from './runtime/run-app.js';
export { BosunHealthIndicators } from './health/indicators.js';
export { BosunHealthModule } from './health/health.module.js';

// --- worker runtime (issue 3)
export { getProcessorMetadata, Processor, PROCESSOR_DEFAULTS, PROCESSOR_METADATA, ProcessorOptionsError, type ProcessorClass, type ProcessorMetadata, type ProcessorOptions } from './worker/processor.decorator.js';
export { describeError, JobAbortedError, type Job } from './worker/job.js';
export { JobErrors, type JobErrorKind, type JobErrorRecord } from './worker/job-errors.js';
export { ProcessorDeclarationError, WorkerRuntime } from './worker/worker.service.js';
export { BosunWorkerModule } from './worker/worker.module.js';



// --- scheduler (issue 4)
export { LeaderElector, LEADER_DEFAULTS, readLeaderStatus, type LeaderElectorOptions, type LeaderState } from './leader/leader-elector.js';
export { LeaderService, LEADER_SERVICE_DEFAULTS, type ClusterLeaderStatus, type LeaderDuty } from './leader/leader.service.js';
export { LEADER_LOCK_KEY } from './leader/leader.sql.js';
export { Scheduled, ScheduleDeclarations, getScheduledMetadata, type ScheduledOptions } from './scheduler/scheduled.decorator.js';
export { BosunSchedulerModule, BosunSchedulesModule } from './scheduler/scheduler.module.js';
export { SchedulerService, discoverSchedules } from './scheduler/scheduler.service.js';
export { SchedulesService, ScheduleNotFoundError, type RunOutcome, type ScheduleChange, type ScheduleInfo, type ScheduleRun } from './scheduler/schedules.service.js';
export { ScheduleRunner, RUNNER_DEFAULTS, type RunnerDeps } from './scheduler/schedule-runner.js';
export { normalizeSchedule, SCHEDULE_JOB_OPTION_KEYS, type NormalizedSchedule, type ScheduleDeclaration, type ScheduleJobOptions } from './scheduler/schedule-definition.js';
export { decideOverlap, MISFIRE_POLICIES, OVERLAP_POLICIES, planMisfire, POLICY_DEFAULTS, type MisfirePolicy, type OverlapPolicy, type OverlapDecision, type PreviousRun } from './scheduler/policies.js';
export {
  compileTiming, dueBetween, formatLocal, isValidTimeZone, normalizeTiming, preview, SCHEDULE_KINDS, ScheduleValidationError, WEEKDAYS,
  type PreviewEntry, type ScheduleKind, type Timetable, type Timing, type TimingSpec, type Weekday,
} from './scheduler/timetable.js';



// --- operations (issue 5)
export { BosunMetricsModule } from './metrics/metrics.module.js';
export { BosunMetrics, FIRE_LAG_BUCKETS, JOB_DURATION_BUCKETS, METRIC_PREFIX, QUEUE_JOB_STATES, type QueueSnapshot } from './metrics/metrics.service.js';
export { QueueMetricsPublisher } from './metrics/queue-metrics.publisher.js';
export { MetricsController } from './metrics/metrics.controller.js';
export { HealthController } from './health/health.controller.js';
export { DB_PING_TIMEOUT_MS, EVENT_LOOP_MAX_DELAY_MS } from './health/indicators.js';
export { LeadershipState, type LeadershipStatus } from './health/leadership.js';
export { ServedQueues } from './health/served-queues.js';
export { currentJobContext, runWithJobContext, type JobContext } from './logging/job-context.js';
export { logger, setRootLogger } from './logging/logger.js';
export { operationsOptions, optionsFromConfig } from './module/options.js';
export { QUEUE_METRICS_MODES, type QueueMetricsMode } from './config/config.js';


