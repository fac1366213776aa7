import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { toDefinition, type QueueDefinition } from '../queues/define-queue.js';
import type { Job } from './job.js';

export interface ProcessorOptions {
  /** Jobs of this queue this process runs at once (per queue, per process). Default 10. */
  concurrency?: number;
  /** Most jobs one claim takes (two claims may be in flight); never more than the free slots. Default: half the concurrency (rounded up), at most 1000, so the next claim is on its way while a batch runs. */
  batchSize?: number;
  /** Fallback polling when no NOTIFY arrives (retries coming due, delayed jobs, a lost listener). Default 2. */
  pollingIntervalSeconds?: number;
}

export const PROCESSOR_DEFAULTS = { concurrency: 10, maxBatchSize: Number(process.env.XMB ?? 1000), pollingIntervalSeconds: 2 };

export interface ProcessorMetadata {
  queue: QueueDefinition<any>;
  options: Required<ProcessorOptions>;
}

export const PROCESSOR_METADATA = Symbol('bosun:processor');

/** A class @Processor accepts: it has process(job) for the queue's payload type. */
export type ProcessorClass<T extends object> = new (...args: any[]) => { process(job: Job<T>): unknown };

export class ProcessorOptionsError extends Error {
  constructor(message: string, readonly queue: string, readonly field: string) {
    super(message);
    this.name = 'ProcessorOptionsError';
  }
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

export function resolveProcessorOptions(queue: string, o: ProcessorOptions = {}): Required<ProcessorOptions> {
  const bad = (field: string, rule: string, value: unknown) => {
    throw new ProcessorOptionsError(`@Processor(${queue}): ${field} ${rule}, got ${JSON.stringify(value)}`, queue, field);
  };
  for (const key of Object.keys(o)) if (!['concurrency', 'batchSize', 'pollingIntervalSeconds'].includes(key)) bad(key, 'is not a processor option', (o as any)[key]);
  if (o.concurrency !== undefined && !isInt(o.concurrency, 1, 10_000)) bad('concurrency', 'must be an integer between 1 and 10000', o.concurrency);
  if (o.batchSize !== undefined && !isInt(o.batchSize, 1, PROCESSOR_DEFAULTS.maxBatchSize)) bad('batchSize', `must be an integer between 1 and ${PROCESSOR_DEFAULTS.maxBatchSize}`, o.batchSize);
  if (o.pollingIntervalSeconds !== undefined && !(typeof o.pollingIntervalSeconds === 'number' && o.pollingIntervalSeconds >= 0.1 && o.pollingIntervalSeconds <= 3600)) {
    bad('pollingIntervalSeconds', 'must be a number of seconds between 0.1 and 3600', o.pollingIntervalSeconds);
  }
  const concurrency = o.concurrency ?? PROCESSOR_DEFAULTS.concurrency;
  return {
    concurrency,
    batchSize: Math.min(o.batchSize ?? Math.ceil(concurrency / 2), concurrency, PROCESSOR_DEFAULTS.maxBatchSize),
    pollingIntervalSeconds: o.pollingIntervalSeconds ?? PROCESSOR_DEFAULTS.pollingIntervalSeconds,
  };
}

/**
 * Marks a provider as the processor of a queue: its process(job) runs each job, `concurrency` at a time per process.
 * The class is made injectable; list it in a module's providers (any module the app imports).
 */
export function Processor<T extends object>(queue: QueueDefinition<T> | string, options: ProcessorOptions = {}) {
  const definition = toDefinition<T>(queue);
  const metadata: ProcessorMetadata = { queue: definition, options: resolveProcessorOptions(definition.name, options) };
  return (target: ProcessorClass<T>): void => {
    Reflect.defineMetadata(PROCESSOR_METADATA, metadata, target);
    Injectable()(target);
  };
}

export function getProcessorMetadata(target: unknown): ProcessorMetadata | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getMetadata(PROCESSOR_METADATA, target) as ProcessorMetadata | undefined;
}
