import { Injectable } from '@nestjs/common';
import type { SchemaStatus } from '../db/migrate.js';

export type Phase = 'starting' | 'started' | 'draining' | 'stopped';

/** Something that must finish its work before the process exits (a worker's in-flight jobs, a leader's term). */
export interface DrainParticipant {
  drain(deadline: number): Promise<void>;
}

/** The process's phase, read by health probes and written by start-up and shutdown. */
@Injectable()
export class Lifecycle {
  phase: Phase = 'starting';
  schema?: SchemaStatus;
  /** The reason start-up is not complete (schema behind, database unreachable), for the startup probe. */
  startupProblem?: string;
  private readonly participants: DrainParticipant[] = [];

  get draining(): boolean {
    return this.phase === 'draining' || this.phase === 'stopped';
  }

  register(participant: DrainParticipant): void {
    this.participants.push(participant);
  }

  /** Flips readiness to 503 at once, then lets every participant finish within the drain timeout. */
  async drain(timeoutSeconds: number): Promise<void> {
    if (this.draining) return;
    this.phase = 'draining';
    const deadline = Date.now() + timeoutSeconds * 1000;
    await Promise.allSettled(this.participants.map((p) => p.drain(deadline)));
  }
}
