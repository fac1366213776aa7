/** What a processor's process(job) receives: one attempt of one job, its data validated against the queue's payload class. */
export interface Job<T extends object = object> {
  readonly id: string;
  readonly queue: string;
  /** The payload, an instance of the queue's payload class (validated on receive). */
  readonly data: T;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** How many retries the job may have in all (attempts = retryLimit + 1). */
  readonly retryLimit: number;
  readonly priority: number;
  /** Aborted when the attempt times out (expireInSeconds), the worker loses its claim, or a drain runs out of time. */
  readonly signal: AbortSignal;
  readonly createdOn: Date;
  readonly expireInSeconds: number;
  readonly heartbeatSeconds: number | null;
  readonly singletonKey: string | null;
  /** For a job in a dead letter queue: the queue and job it came from. */
  readonly sourceQueue: string | null;
  readonly sourceId: string | null;
}

/** Why an attempt ended early; the AbortSignal's reason is one of these. */
export class JobAbortedError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'claim-lost' | 'shutdown',
  ) {
    super(message);
    this.name = 'JobAbortedError';
  }
}

export interface DescribedError {
  message: string;
  name?: string;
  stack?: string;
}

/** A readable account of anything a handler threw: Errors as they are, strings as messages, other values as JSON. */
export function describeError(value: unknown): DescribedError {
  if (value instanceof Error) {
    const message = value.message || value.name || 'Error without a message';
    const cause = value.cause === undefined ? '' : ` (cause: ${describeError(value.cause).message})`;
    return { message: message + cause, name: value.name, stack: value.stack };
  }
  if (typeof value === 'string') return { message: value || '(empty string thrown)', name: 'string' };
  if (value === undefined) return { message: 'handler threw undefined', name: 'undefined' };
  if (value === null) return { message: 'handler threw null', name: 'null' };
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text === '{}' && typeof value === 'object') text = String(value);
  return { message: `handler threw a non-Error value: ${text}`, name: typeof value };
}
