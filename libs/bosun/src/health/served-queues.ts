import { Inject, Injectable } from '@nestjs/common';
import { BOSUN_OPTIONS, type BosunModuleOptions } from '../module/options.js';
import { QueueRegistry } from '../queues/queue-registry.js';

/**
 * The queues this worker process serves, for its readiness backlog check. By default the declared queues
 * narrowed by BOSUN_QUEUES, without dead-letter queues unless listed there (dead letters wait for people, not
 * workers); the worker runtime sets the exact list once it knows its processors.
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
    if (filter) return names.filter((n) => filter.includes(n));
    const deadLetters = new Set(this.registry.all().map((d) => d.options.deadLetter).filter(Boolean));
    return names.filter((n) => !deadLetters.has(n));
  }
}
