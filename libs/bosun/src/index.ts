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
export { Processor, ProcessorOptionsError, PROCESSOR_DEFAULTS, type ProcessorClass, type ProcessorOptions } from './worker/processor.decorator.js';
export { describeError, JobAbortedError, type Job } from './worker/job.js';
export { JobErrors, type JobErrorKind, type JobErrorRecord } from './worker/job-errors.js';
export { ProcessorDeclarationError, WorkerRuntime } from './worker/worker.service.js';
export { BosunWorkerModule } from './worker/worker.module.js';



// --- scheduler (issue 4)



// --- operations (issue 5)


