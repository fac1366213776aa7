import { Inject, Injectable } from '@nestjs/common';
import { BOSUN_OPTIONS, type BosunModuleOptions } from '../module/options.js';
import { QueueRegistry } from '../queues/queue-registry.js';

/**
 * The queues this worker process serves, for its readiness backlog check. By default the declared queues
 * (narrowed by BOSUN_QUEUES); the worker runtime sets the exact list once it knows its processors.
 */
@Injectable()
export class ServedQueues {
  private explicit?: string[];

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    private readonly registry: QueueRegistry,
  ) {}

  set(queues: string[]): void {
    this.explicit = [...queues];
  }

  /** Empty outside the worker role: schedulers and clients serve no queue. */
  list(): string[] {
    if (this.options.role !== 'worker') return [];
    if (this.explicit) return this.explicit;
    const filter = this.options.queueFilter;
    const names = this.registry.names();
    return filter ? names.filter((n) => filter.includes(n)) : names;
  }
}
