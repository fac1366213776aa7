import { Inject, Injectable } from '@nestjs/common';
import { BosunDatabase } from '../db/database.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import * as sql from './job-error.sql.js';

export type JobErrorKind = 'error' | 'timeout' | 'invalid-payload' | 'heartbeat-lapsed' | 'expired' | 'released';

/** One attempt's error, as kept in bosun.job_error. */
export interface JobErrorRecord {
  jobId: string;
  attempt: number;
  queue: string;
  kind: JobErrorKind;
  message: string;
  errorName: string | null;
  stack: string | null;
  /** The worker instance that ran the attempt; null when its worker was lost and another process noticed. */
  instance: string | null;
  createdAt: Date;
}

export type NewJobError = Omit<JobErrorRecord, 'createdAt' | 'errorName' | 'stack' | 'instance'> & {
  errorName?: string | null;
  stack?: string | null;
  instance?: string | null;
};

/** The per-attempt error history of jobs (the last five attempts each), readable through the library. */
@Injectable()
export class JobErrors {
  constructor(@Inject(BosunDatabase) private readonly db: BosunDatabase) {}

  /** Records one attempt's error on `db` (pass the transaction that failed the job so both land together). */
  async record(entry: NewJobError, db: Queryable = this.db.pool): Promise<void> {
    await db.query(sql.RECORD, [
      entry.jobId, entry.attempt, entry.queue, entry.kind, entry.message.slice(0, 10_000),
      entry.errorName ?? null, entry.stack?.slice(0, 20_000) ?? null, entry.instance ?? null,
    ]);
  }

  /** A job's errors, newest attempt first (at most five); a dead-lettered copy's id reads its source job's history. */
  async list(jobId: string): Promise<JobErrorRecord[]> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) {
      throw new TypeError(`job id must be a UUID, got ${JSON.stringify(jobId)}`);
    }
    const { rows } = await this.db.pool.query(sql.LIST, [jobId]);
    return rows as JobErrorRecord[];
  }

  /** Deletes histories past their job's retention; one process at a time does it. Returns rows deleted. */
  async prune(batch = 5_000): Promise<number> {
    return withTransaction(this.db.pool, async (client) => {
      const { rows: [lock] } = await client.query(sql.TRY_PRUNE_LOCK);
      if (!lock.locked) return 0;
      let total = 0;
      for (;;) {
        const { rowCount } = await client.query(sql.PRUNE, [batch]);
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < batch) return total;
      }
    });
  }
}
