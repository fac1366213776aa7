import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';
import { currentJobContext } from './job-context.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LogLevel;
  instanceId?: string;
  role?: string;
  /** Defaults to stdout; tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

/** Loggers made here already add the job context through their mixin; others get it as child bindings. */
const withJobMixin = new WeakSet<Logger>();
let rootLogger: Logger | undefined;

/** JSON lines with level, time (ISO), instance and role on every line, plus queue/jobId/attempt inside a job handler. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { instance: options.instanceId, role: options.role },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A copy: pino merges the line's own fields into what the mixin returns.
      mixin: () => ({ ...currentJobContext() }),
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 1, sync: false }),
  );
  withJobMixin.add(logger);
  rootLogger ??= logger;
  return logger;
}

/** Makes this the logger `logger()` returns when called without one (the apps' process logger). */
export function setRootLogger(logger: Logger): void {
  rootLogger = logger;
}

/**
 * The logger to use inside a job handler: `base` (or the process's root logger) carrying the current job's
 * queue, jobId and attempt; outside a handler, the logger itself.
 */
export function logger(base?: Logger): Logger {
  const target = base ?? (rootLogger ??= createLogger());
  if (withJobMixin.has(target)) return target;
  const context = currentJobContext();
  return context ? target.child({ ...context }) : target;
}

/** Routes Nest's own log calls into the same JSON lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.write('info', message, context);
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }
  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string) {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
