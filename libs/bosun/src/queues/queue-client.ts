import { Inject, Injectable } from '@nestjs/common';
import type { JobInsert, SendOptions as BossSendOptions } from 'pg-boss';
import { BossService } from '../boss/boss.service.js';
import type { QueueDefinition, QueueOptions } from './define-queue.js';
import { validatePayload } from './payload.js';
import { QueueRegistry } from './queue-registry.js';
import { toBossDb, type TransactionLike } from './transaction.js';

/** Queue options a single job may override. */
type JobOverrides = Pick<QueueOptions, 'retryLimit' | 'retryDelay' | 'retryBackoff' | 'retryDelayMax' | 'expireInSeconds' | 'heartbeatSeconds' | 'deadLetter' | 'retentionSeconds' | 'deleteAfterSeconds'>;

/** Per-job options; anything left out comes from the queue's declaration. */
export interface SendOptions extends JobOverrides {
  /** Higher runs first. */
  priority?: number;
  /** Do not start before this instant (a Date, an ISO string, or seconds from now). */
  startAfter?: Date | string | number;
  /** Dedupe key: with singletonSeconds, one job per key per window; with singleton/stately policies, one per key. */
  singletonKey?: string;
  singletonSeconds?: number;
  singletonNextSlot?: boolean;
  /** Your own job id (a UUID). */
  id?: string;
  /** Send inside the caller's transaction: the job exists only if that transaction commits. */
  db?: TransactionLike;
}

export type BulkJob<T> = { data: T } & Omit<SendOptions, 'db'>;

const PER_JOB_KEYS = [
  'priority', 'startAfter', 'singletonKey', 'singletonSeconds', 'singletonNextSlot', 'id', 'retryLimit', 'retryDelay',
  'retryBackoff', 'retryDelayMax', 'expireInSeconds', 'heartbeatSeconds', 'deadLetter', 'retentionSeconds', 'deleteAfterSeconds',
] as const;

export class SendOptionError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'SendOptionError';
  }
}

function checkOptions(queue: string, o: Omit<SendOptions, 'db'>): void {
  const bad = (field: string, rule: string, value: unknown) => {
    throw new SendOptionError(`send to ${queue}: ${field} ${rule}, got ${JSON.stringify(value)}`, field);
  };
  for (const key of Object.keys(o)) if (!(PER_JOB_KEYS as readonly string[]).includes(key)) bad(key, 'is not a send option', (o as any)[key]);
  if (o.priority !== undefined && !Number.isInteger(o.priority)) bad('priority', 'must be an integer', o.priority);
  if (o.startAfter !== undefined) {
    const v = o.startAfter;
    const ok = (v instanceof Date && !Number.isNaN(v.getTime())) || (typeof v === 'number' && v >= 0 && Number.isFinite(v)) || (typeof v === 'string' && !Number.isNaN(Date.parse(v)));
    if (!ok) bad('startAfter', 'must be a Date, an ISO date string or a number of seconds >= 0', v);
  }
  if (o.singletonKey !== undefined && (typeof o.singletonKey !== 'string' || o.singletonKey.length === 0)) bad('singletonKey', 'must be a non-empty string', o.singletonKey);
  if (o.singletonSeconds !== undefined && !(Number.isInteger(o.singletonSeconds) && o.singletonSeconds > 0)) bad('singletonSeconds', 'must be an integer > 0', o.singletonSeconds);
  if (o.id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(o.id)) bad('id', 'must be a UUID', o.id);
}

/** Sends jobs to one queue, validating each payload against the queue's payload class first. */
export class QueueClient<T extends object = object> {
  constructor(
    readonly definition: QueueDefinition<T>,
    private readonly bossService: BossService,
  ) {}

  get name(): string {
    return this.definition.name;
  }

  private bossOptions(options: Omit<SendOptions, 'db'>): BossSendOptions {
    const out: Record<string, unknown> = {};
    for (const key of PER_JOB_KEYS) if (options[key] !== undefined) out[key] = options[key];
    if (out.priority === undefined && this.definition.options.priority !== undefined) out.priority = this.definition.options.priority;
    return out as BossSendOptions;
  }

  /** Enqueues one job; resolves to its id, or null when a singleton key deduplicated it. */
  async send(data: T, options: SendOptions = {}): Promise<string | null> {
    const { db, ...rest } = options;
    checkOptions(this.name, rest);
    const payload = validatePayload(this.name, this.definition.options.payload, data);
    await this.bossService.whenStarted();
    return this.bossService.boss.send(this.name, { ...payload }, { ...this.bossOptions(rest), db: toBossDb(db) });
  }

  /** Enqueues one job that may not start before startAfter. */
  sendAfter(data: T, startAfter: Date | string | number, options: SendOptions = {}): Promise<string | null> {
    return this.send(data, { ...options, startAfter });
  }

  /** Enqueues many jobs in one statement; all payloads are validated first, and one bad payload sends none. */
  async sendMany(jobs: ReadonlyArray<BulkJob<T>>, options: { db?: TransactionLike } = {}): Promise<string[]> {
    if (!Array.isArray(jobs)) throw new SendOptionError(`sendMany to ${this.name}: jobs must be an array`, 'jobs');
    const inserts: JobInsert[] = jobs.map((job, index) => {
      if (!job || typeof job !== 'object' || !('data' in job)) throw new SendOptionError(`sendMany to ${this.name}: job ${index} must be { data, ...options }`, `jobs.${index}`);
      const { data, ...rest } = job;
      checkOptions(this.name, rest);
      const payload = validatePayload(this.name, this.definition.options.payload, data, index);
      return { ...(this.bossOptions(rest) as JobInsert), data: { ...payload } };
    });
    if (inserts.length === 0) return [];
    await this.bossService.whenStarted();
    return (await this.bossService.boss.insert(this.name, inserts, { db: toBossDb(options.db), returnId: true })) ?? [];
  }
}

/** Injectable entry point for code that sends to queues it did not inject one by one. */
@Injectable()
export class BosunClient {
  private readonly clients = new Map<string, QueueClient<any>>();

  constructor(
    @Inject(BossService) private readonly bossService: BossService,
    @Inject(QueueRegistry) private readonly registry: QueueRegistry,
  ) {}

  /** The client for a declared queue (by definition or by name). */
  queue<T extends object>(queue: QueueDefinition<T> | string): QueueClient<T> {
    const name = typeof queue === 'string' ? queue : queue.name;
    let client = this.clients.get(name);
    if (!client) {
      const def = typeof queue === 'string' ? this.registry.get(name) : this.registry.register(queue);
      if (!def) throw new SendOptionError(`queue ${name} is not declared: add it to BosunModule.forRoot({ queues }) or forFeature`, 'queue');
      client = new QueueClient(def, this.bossService);
      this.clients.set(name, client);
    }
    return client as QueueClient<T>;
  }
}
