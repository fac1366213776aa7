import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line inside a job handler says about the job. */
export interface JobContext {
  queue: string;
  jobId: string;
  attempt: number;
}

const storage = new AsyncLocalStorage<JobContext>();

/**
 * Runs fn with the job's context attached to everything it awaits: every log line written through a bosun
 * logger (createLogger or logger()) inside it carries queue, jobId and attempt. The worker runtime wraps
 * each handler call in it.
 */
export function runWithJobContext<T>(context: JobContext, fn: () => T): T {
  return storage.run({ queue: context.queue, jobId: context.jobId, attempt: context.attempt }, fn);
}

/** The job being handled in this async context, or undefined outside a handler. */
export function currentJobContext(): JobContext | undefined {
  return storage.getStore();
}
