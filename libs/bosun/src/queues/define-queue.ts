import type { QueuePolicy } from 'pg-boss';

/** A payload class: class-validator decorators on its properties describe a valid job. */
export type PayloadClass<T extends object = object> = new (...args: any[]) => T;

export const QUEUE_POLICIES = ['standard', 'short', 'singleton', 'stately', 'exclusive', 'key_strict_fifo'] as const;

export const QUEUE_DEFAULTS = {
  priority: 0,
  retryLimit: 2,
  retryDelay: 0,
  retryBackoff: false,
  expireInSeconds: 15 * 60,
  /** Workers touch running jobs every heartbeatSeconds / 2; a job whose worker died runs again once this lapses (not after expireInSeconds). */
  heartbeatSeconds: 30,
  retentionSeconds: 14 * 24 * 3600,
  deleteAfterSeconds: 7 * 24 * 3600,
  policy: 'standard' as QueuePolicy,
};

export interface QueueOptions<T extends object = object> {
  /** The payload class; jobs are validated against it at send and again at receive. */
  payload?: PayloadClass<T>;
  /** Priority a job gets when its sender gives none; higher runs first. */
  priority?: number;
  retryLimit?: number;
  retryDelay?: number;
  retryBackoff?: boolean;
  retryDelayMax?: number;
  expireInSeconds?: number;
  heartbeatSeconds?: number;
  /** Name of the queue failed jobs are moved to once retries are exhausted; created if not declared. */
  deadLetter?: string;
  policy?: QueuePolicy;
  /** How long a job may wait in created/retry before it is deleted. */
  retentionSeconds?: number;
  /** How long a finished job (and its error history) is kept. */
  deleteAfterSeconds?: number;
  /** Give the queue its own table partition (a busy queue that should not slow its neighbours). */
  partition?: boolean;
}

/** The one definition of a queue: name, payload type and options; the token senders and processors use. */
export interface QueueDefinition<T extends object = object> {
  readonly name: string;
  readonly options: Readonly<QueueOptions<T>>;
  /** Phantom field carrying the payload type; never set at run time. */
  readonly __payload?: T;
}

export class QueueDefinitionError extends Error {
  constructor(
    message: string,
    readonly queue: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'QueueDefinitionError';
  }
}

const NAME = /^[\w.\-/]+$/;

function check(queue: string, field: string, ok: boolean, rule: string, value: unknown): void {
  if (!ok) throw new QueueDefinitionError(`queue ${queue}: ${field} ${rule}, got ${JSON.stringify(value)}`, queue, field);
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Checks every option against pg-boss's rules up front, so a bad declaration fails at import, naming the field. */
export function validateQueueOptions(name: string, o: QueueOptions<any>): void {
  check(name, 'name', typeof name === 'string' && NAME.test(name) && name.length <= 100, 'must be 1-100 letters, digits, _ . - or /', name);
  const has = (k: keyof QueueOptions) => o[k] !== undefined;
  if (has('payload')) check(name, 'payload', typeof o.payload === 'function', 'must be a class', String(o.payload));
  if (has('priority')) check(name, 'priority', isInt(o.priority, -2_147_483_648, 2_147_483_647), 'must be an integer', o.priority);
  if (has('retryLimit')) check(name, 'retryLimit', isInt(o.retryLimit, 0, 1_000_000), 'must be an integer >= 0', o.retryLimit);
  if (has('retryDelay')) check(name, 'retryDelay', isInt(o.retryDelay, 0), 'must be an integer number of seconds >= 0', o.retryDelay);
  if (has('retryBackoff')) check(name, 'retryBackoff', typeof o.retryBackoff === 'boolean', 'must be true or false', o.retryBackoff);
  if (has('retryDelayMax')) {
    check(name, 'retryDelayMax', isInt(o.retryDelayMax, 0), 'must be an integer number of seconds >= 0', o.retryDelayMax);
    check(name, 'retryDelayMax', o.retryBackoff === true, 'needs retryBackoff: true', o.retryDelayMax);
  }
  if (has('expireInSeconds')) check(name, 'expireInSeconds', isInt(o.expireInSeconds, 1, 24 * 3600), 'must be an integer between 1 and 86400', o.expireInSeconds);
  if (has('heartbeatSeconds')) check(name, 'heartbeatSeconds', isInt(o.heartbeatSeconds, 10, 24 * 3600), 'must be an integer >= 10', o.heartbeatSeconds);
  if (has('deadLetter')) {
    check(name, 'deadLetter', typeof o.deadLetter === 'string' && NAME.test(o.deadLetter), 'must be a queue name', o.deadLetter);
    check(name, 'deadLetter', o.deadLetter !== name, 'cannot be the queue itself', o.deadLetter);
  }
  if (has('policy')) check(name, 'policy', (QUEUE_POLICIES as readonly string[]).includes(o.policy as string), `must be one of ${QUEUE_POLICIES.join(', ')}`, o.policy);
  if (has('retentionSeconds')) check(name, 'retentionSeconds', isInt(o.retentionSeconds, 1), 'must be an integer >= 1', o.retentionSeconds);
  if (has('deleteAfterSeconds')) check(name, 'deleteAfterSeconds', isInt(o.deleteAfterSeconds, 0), 'must be an integer >= 0 (0 keeps finished jobs forever)', o.deleteAfterSeconds);
  if (has('partition')) check(name, 'partition', typeof o.partition === 'boolean', 'must be true or false', o.partition);
}

export function defineQueue<T extends object = object>(name: string, options: QueueOptions<T> = {}): QueueDefinition<T> {
  validateQueueOptions(name, options);
  return Object.freeze({ name, options: Object.freeze({ ...options }) });
}

/** A queue named only by a string (e.g. `@Processor('email')`) gets a definition with defaults. */
export function toDefinition<T extends object>(queue: string | QueueDefinition<T>): QueueDefinition<T> {
  return typeof queue === 'string' ? defineQueue<T>(queue) : queue;
}
