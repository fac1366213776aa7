import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { BosunEvents, type BosunEventMap } from '../runtime/events.js';

/** What readiness and metrics say about leadership; a detail, never a reason to fail a probe. */
export interface LeadershipStatus {
  isLeader: boolean;
  term: number | null;
  /** The current leader's instance id, when known (the scheduler can provide it). */
  leaderId?: string | null;
  since?: Date | string | null;
}

/**
 * Leadership as this process last heard it: from `leader.changed` events by default; the scheduler may plug in
 * a richer source with `useProvider` (e.g. reading the leader row for the leader's id and since).
 */
@Injectable()
export class LeadershipState implements OnModuleInit, OnModuleDestroy {
  private last?: LeadershipStatus;
  private provider?: () => LeadershipStatus | undefined;
  private readonly onChange = (...[event]: BosunEventMap['leader.changed']) => {
    this.last = { isLeader: event.isLeader, term: event.term, leaderId: event.isLeader ? event.instanceId : null };
  };

  constructor(private readonly events: BosunEvents) {}

  onModuleInit(): void {
    this.events.on('leader.changed', this.onChange);
  }

  onModuleDestroy(): void {
    this.events.off('leader.changed', this.onChange);
  }

  /** Replaces the event-fed status with the scheduler's own view. */
  useProvider(provider: () => LeadershipStatus | undefined): void {
    this.provider = provider;
  }

  /** Undefined until something (an event or a provider) has said anything: a worker or client has no leadership. */
  status(): LeadershipStatus | undefined {
    return this.provider ? this.provider() : this.last;
  }
}
