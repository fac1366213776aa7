import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/**
 * Typed library events: what happened in this process, for metrics, logs and user code.
 * Emitters never wait on listeners; a throwing listener is the listener's bug, not the emitter's.
 */
export interface BosunEventMap {
  /** A handler finished one attempt of a job. */
  'job.finished': [{ queue: string; jobId: string; attempt: number; outcome: 'completed' | 'failed' | 'retry' | 'dead-lettered' | 'aborted'; durationMs: number }];
  /** A handler started a job (for in-flight gauges and start latency). */
  'job.started': [{ queue: string; jobId: string; attempt: number; waitMs?: number }];
  /** This process won or lost leadership. */
  'leader.changed': [{ isLeader: boolean; term: number | null; instanceId: string; reason: string }];
  /** The leader inserted a scheduled job (lag = insert time - due instant). */
  'schedule.fired': [{ schedule: string; queue: string; dueAt: Date; lagMs: number; outcome: string }];
  /** A schedule run ended in the ledger with this outcome. */
  'schedule.run': [{ schedule: string; outcome: string }];
}

export type JobOutcome = BosunEventMap['job.finished'][0]['outcome'];

/** One queue's per-job observations, called by the worker without building an event per job. */
export interface QueueJobObserver {
  /** waitMs: from enqueued to start, when known. */
  started(waitMs?: number): void;
  /** startedHere: this process ran the attempt (a job.started came first), so in-flight counts go down. */
  finished(outcome: JobOutcome, durationMs: number, startedHere: boolean): void;
}

/** A sink for the worker's hot path (the metrics service); job.started/job.finished events still go to listeners. */
export interface JobObserver {
  forQueue(queue: string): QueueJobObserver;
}

@Injectable()
export class BosunEvents extends EventEmitter<BosunEventMap> {
  private jobObserver?: JobObserver;

  /** Registers (or, with undefined, removes) the one job observer. */
  observeJobs(observer: JobObserver | undefined): void {
    this.jobObserver = observer;
  }

  jobObserverFor(queue: string): QueueJobObserver | undefined {
    return this.jobObserver?.forQueue(queue);
  }
}
