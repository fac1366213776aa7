import { hostname } from 'node:os';
import 'reflect-metadata';
import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

/** The one place that reads the process environment. Everything else receives a BosunConfig. */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONFIG_DEFAULTS = {
  PORT: 3000,
  LOG_LEVEL: 'info' as LogLevel,
  BOSUN_DB_POOL_MAX: 10,
  BOSUN_DRAIN_TIMEOUT_SECONDS: 25,
  BOSUN_LEASE_SECONDS: 10,
  BOSUN_READY_MAX_JOB_AGE_SECONDS: 300,
  BOSUN_QUEUE_METRICS: 'leader' as QueueMetricsMode,
  BOSUN_QUEUE_METRICS_INTERVAL_SECONDS: 15,
};

/** Who publishes per-queue depth and age gauges: the scheduler leader (default), every process, or nobody. */
export const QUEUE_METRICS_MODES = ['leader', 'always', 'off'] as const;
export type QueueMetricsMode = (typeof QUEUE_METRICS_MODES)[number];

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const blankToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** An integer variable within [min, max]; one message names the variable and the rule for every way it can fail. */
function IntegerBetween(name: string, min: number, max: number, note?: string): PropertyDecorator {
  const message = `${name} must be an integer between ${min} and ${max}${note ? ` ${note}` : ''}`;
  return applyDecorators(Transform(toInt), IsInt({ message }), Min(min, { message }), Max(max, { message }));
}

/** A case-insensitive choice among fixed words, defaulting when unset or blank. */
function OneOf(name: string, choices: readonly string[], fallback: string): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value) ?? fallback),
    IsIn(choices, { message: `${name} must be one of ${choices.join(', ')}` }),
  );
}

/** Environment variables, as strings in, typed and checked out. Messages name the variable and the rule. */
export class BosunEnv {
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// or postgresql:// connection string' })
  DATABASE_URL?: string;

  @IntegerBetween('PORT', 1, 65535)
  PORT: number = CONFIG_DEFAULTS.PORT;

  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, {
    message: 'BOSUN_INSTANCE_ID must be 1 to 63 letters, digits, dots, dashes, underscores or colons',
  })
  BOSUN_INSTANCE_ID?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsString()
  @MinLength(32, { message: 'BOSUN_JWT_SECRET must be at least 32 characters long' })
  BOSUN_JWT_SECRET?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^https?:\/\/\S+$/, { message: 'BOSUN_JWKS_URL must be an http:// or https:// URL' })
  BOSUN_JWKS_URL?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^\s*[\w.\-/]+(\s*,\s*[\w.\-/]+)*\s*$/, {
    message: 'BOSUN_QUEUES must be a comma-separated list of queue names (letters, digits, _ . - /)',
  })
  BOSUN_QUEUES?: string;

  @OneOf('LOG_LEVEL', LOG_LEVELS, CONFIG_DEFAULTS.LOG_LEVEL)
  LOG_LEVEL: LogLevel = CONFIG_DEFAULTS.LOG_LEVEL;

  @IntegerBetween('BOSUN_DB_POOL_MAX', 1, 200)
  BOSUN_DB_POOL_MAX: number = CONFIG_DEFAULTS.BOSUN_DB_POOL_MAX;

  @IntegerBetween('BOSUN_DRAIN_TIMEOUT_SECONDS', 0, 3600)
  BOSUN_DRAIN_TIMEOUT_SECONDS: number = CONFIG_DEFAULTS.BOSUN_DRAIN_TIMEOUT_SECONDS;

  @IntegerBetween('BOSUN_LEASE_SECONDS', 2, 300)
  BOSUN_LEASE_SECONDS: number = CONFIG_DEFAULTS.BOSUN_LEASE_SECONDS;

  @IntegerBetween('BOSUN_READY_MAX_JOB_AGE_SECONDS', 0, 86400, '(0 turns the check off)')
  BOSUN_READY_MAX_JOB_AGE_SECONDS: number = CONFIG_DEFAULTS.BOSUN_READY_MAX_JOB_AGE_SECONDS;

  @OneOf('BOSUN_QUEUE_METRICS', QUEUE_METRICS_MODES, CONFIG_DEFAULTS.BOSUN_QUEUE_METRICS)
  BOSUN_QUEUE_METRICS: QueueMetricsMode = CONFIG_DEFAULTS.BOSUN_QUEUE_METRICS;

  @IntegerBetween('BOSUN_QUEUE_METRICS_INTERVAL_SECONDS', 1, 3600)
  BOSUN_QUEUE_METRICS_INTERVAL_SECONDS: number = CONFIG_DEFAULTS.BOSUN_QUEUE_METRICS_INTERVAL_SECONDS;
}

export const ENV_KEYS = [
  'DATABASE_URL', 'PORT', 'BOSUN_INSTANCE_ID', 'BOSUN_JWT_SECRET', 'BOSUN_JWKS_URL', 'BOSUN_QUEUES', 'LOG_LEVEL',
  'BOSUN_DB_POOL_MAX', 'BOSUN_DRAIN_TIMEOUT_SECONDS', 'BOSUN_LEASE_SECONDS',
  'BOSUN_READY_MAX_JOB_AGE_SECONDS', 'BOSUN_QUEUE_METRICS', 'BOSUN_QUEUE_METRICS_INTERVAL_SECONDS',
] as const;

/** The validated configuration every component receives. */
export interface BosunConfig {
  databaseUrl?: string;
  port: number;
  instanceId: string;
  jwtSecret?: string;
  jwksUrl?: string;
  /** Queues this worker serves; undefined means all declared queues. */
  queues?: string[];
  logLevel: LogLevel;
  dbPoolMax: number;
  drainTimeoutSeconds: number;
  leaseSeconds: number;
  /** A worker whose served queues' oldest ready job waited longer than this reports degraded (0: never). */
  readyMaxJobAgeSeconds: number;
  queueMetrics: QueueMetricsMode;
  queueMetricsIntervalSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Apps need a database; the local launcher does not (it starts its own). */
  requireDatabaseUrl?: boolean;
}

/** Validates the environment; throws a ConfigError naming the first bad variable, its rule and its value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): BosunConfig {
  const raw: Record<string, unknown> = {};
  for (const key of ENV_KEYS) if (env[key] !== undefined) raw[key] = env[key];

  const parsed = plainToInstance(BosunEnv, raw);
  const errors = validateSync(parsed, { stopAtFirstError: true });
  if (errors.length > 0) {
    const first = errors[0]!;
    const rule = Object.values(first.constraints ?? {})[0] ?? `${first.property} is invalid`;
    const shown = first.property === 'BOSUN_JWT_SECRET' ? '(hidden)' : JSON.stringify(String(env[first.property] ?? ''));
    throw new ConfigError(`${rule}, got ${shown}`, first.property);
  }
  if (options.requireDatabaseUrl && !parsed.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL is required: a postgres:// connection string', 'DATABASE_URL');
  }
  if (parsed.BOSUN_JWT_SECRET && parsed.BOSUN_JWKS_URL) {
    throw new ConfigError('BOSUN_JWT_SECRET and BOSUN_JWKS_URL are exclusive: set one of them', 'BOSUN_JWKS_URL');
  }
  return {
    databaseUrl: parsed.DATABASE_URL,
    port: parsed.PORT,
    instanceId: parsed.BOSUN_INSTANCE_ID ?? hostname(),
    jwtSecret: parsed.BOSUN_JWT_SECRET,
    jwksUrl: parsed.BOSUN_JWKS_URL,
    queues: parsed.BOSUN_QUEUES?.split(',').map((q) => q.trim()).filter(Boolean),
    logLevel: parsed.LOG_LEVEL,
    dbPoolMax: parsed.BOSUN_DB_POOL_MAX,
    drainTimeoutSeconds: parsed.BOSUN_DRAIN_TIMEOUT_SECONDS,
    leaseSeconds: parsed.BOSUN_LEASE_SECONDS,
    readyMaxJobAgeSeconds: parsed.BOSUN_READY_MAX_JOB_AGE_SECONDS,
    queueMetrics: parsed.BOSUN_QUEUE_METRICS,
    queueMetricsIntervalSeconds: parsed.BOSUN_QUEUE_METRICS_INTERVAL_SECONDS,
  };
}

/** For process entry points: a bad environment prints one line to stderr and exits 1, no stack trace. */
export function loadConfigOrExit(options: LoadConfigOptions = {}, env: NodeJS.ProcessEnv = process.env): BosunConfig {
  try {
    return loadConfig(env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`bosun: configuration error: ${error.message}\n`);
    process.exit(1);
  }
}

/** Environment for child processes of the local launcher: the parent's, plus what the child needs. */
export function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
