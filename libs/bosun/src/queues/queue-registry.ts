import { Inject, Injectable } from '@nestjs/common';
import type { PgBoss, Queue } from 'pg-boss';
import { BOSUN_OPTIONS, type BosunModuleOptions } from '../module/options.js';
import { defineQueue, QUEUE_DEFAULTS, type QueueDefinition } from './define-queue.js';

export class QueueDeclarationError extends Error {
  constructor(message: string, readonly queue: string, readonly field: string) {
    super(message);
    this.name = 'QueueDeclarationError';
  }
}

/** The options bosun asks pg-boss to hold for a queue: declared values, else the documented defaults. */
export function desiredQueueOptions(def: QueueDefinition<any>) {
  const o = def.options;
  return {
    policy: o.policy ?? QUEUE_DEFAULTS.policy,
    partition: o.partition ?? false,
    retryLimit: o.retryLimit ?? QUEUE_DEFAULTS.retryLimit,
    retryDelay: o.retryDelay ?? QUEUE_DEFAULTS.retryDelay,
    retryBackoff: o.retryBackoff ?? QUEUE_DEFAULTS.retryBackoff,
    retryDelayMax: o.retryDelayMax ?? null,
    expireInSeconds: o.expireInSeconds ?? QUEUE_DEFAULTS.expireInSeconds,
    retentionSeconds: o.retentionSeconds ?? QUEUE_DEFAULTS.retentionSeconds,
    deleteAfterSeconds: o.deleteAfterSeconds ?? QUEUE_DEFAULTS.deleteAfterSeconds,
    heartbeatSeconds: o.heartbeatSeconds ?? QUEUE_DEFAULTS.heartbeatSeconds,
    deadLetter: o.deadLetter ?? null,
    notify: true,
  };
}

const MUTABLE = ['retryLimit', 'retryDelay', 'retryBackoff', 'retryDelayMax', 'expireInSeconds', 'retentionSeconds', 'deleteAfterSeconds', 'heartbeatSeconds', 'deadLetter', 'notify'] as const;

/** Every queue this process knows of, from forRoot, forFeature and processors; created or updated at start. */
@Injectable()
export class QueueRegistry {
  private readonly defs = new Map<string, QueueDefinition<any>>();

  constructor(@Inject(BOSUN_OPTIONS) options: BosunModuleOptions) {
    for (const def of options.queues ?? []) this.register(def);
  }

  /** Declaring a queue twice is fine when the declarations agree; two different declarations are a bug. */
  register(def: QueueDefinition<any>): QueueDefinition<any> {
    const known = this.defs.get(def.name);
    if (!known) {
      this.defs.set(def.name, def);
      return def;
    }
    if (known === def) return known;
    const a = JSON.stringify(desiredQueueOptions(known));
    const b = JSON.stringify(desiredQueueOptions(def));
    const sameOptions = a === b && (known.options.priority ?? 0) === (def.options.priority ?? 0);
    // A bare name (e.g. @Processor('email')) adopts the full declaration made elsewhere.
    const bare = Object.keys(def.options).length === 0;
    if (bare) return known;
    if (Object.keys(known.options).length === 0) {
      this.defs.set(def.name, def);
      return def;
    }
    if (!sameOptions || (known.options.payload && def.options.payload && known.options.payload !== def.options.payload)) {
      throw new QueueDeclarationError(`queue ${def.name} is declared twice with different options`, def.name, 'options');
    }
    return known;
  }

  get(name: string): QueueDefinition<any> | undefined {
    return this.defs.get(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  all(): QueueDefinition<any>[] {
    return [...this.defs.values()];
  }

  /** Creates missing queues (dead letters first) and brings existing ones in line with their declarations. */
  async ensureQueues(boss: PgBoss, _filter?: string[]): Promise<void> {
    for (const def of this.all()) {
      if (def.options.deadLetter && !this.defs.has(def.options.deadLetter)) this.register(defineQueue(def.options.deadLetter));
    }
    const ordered = this.all().sort((a, b) => Number(!!a.options.deadLetter) - Number(!!b.options.deadLetter));
    for (const def of ordered) await this.ensureQueue(boss, def);
  }

  private async ensureQueue(boss: PgBoss, def: QueueDefinition<any>): Promise<void> {
    const want = desiredQueueOptions(def);
    let have = await boss.getQueue(def.name);
    if (!have) {
      const { retryDelayMax, heartbeatSeconds, deadLetter, ...rest } = want;
      const create: Omit<Queue, 'name'> = { ...rest };
      if (retryDelayMax !== null) create.retryDelayMax = retryDelayMax;
      if (heartbeatSeconds !== null) create.heartbeatSeconds = heartbeatSeconds;
      if (deadLetter !== null) create.deadLetter = deadLetter;
      await boss.createQueue(def.name, create);
      have = await boss.getQueue(def.name);
      if (!have) throw new QueueDeclarationError(`queue ${def.name} could not be created`, def.name, 'name');
    }
    if ((have.policy ?? 'standard') !== want.policy) {
      throw new QueueDeclarationError(
        `queue ${def.name}: policy is "${have.policy}" in the database but declared "${want.policy}"; a queue's policy cannot change, declare a new queue instead`,
        def.name,
        'policy',
      );
    }
    const changes: Record<string, unknown> = {};
    for (const key of MUTABLE) {
      const current = (have as unknown as Record<string, unknown>)[key] ?? null;
      if (current !== want[key]) changes[key] = want[key];
    }
    if (Object.keys(changes).length > 0) await boss.updateQueue(def.name, changes);
  }
}
