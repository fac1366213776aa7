import pg from 'pg';

/**
 * One round trip for a standard queue: completes the attempts that finished and claims the next jobs, in one
 * statement and one commit. The claim is pg-boss's own fetch (same filter, order, lock and update), returning only the
 * columns a Job needs, with created_on as epoch milliseconds; the completion is pg-boss's complete() (fenced to the
 * attempt, only while active; dependants are released by pg-boss's background resolver either way). The two touch
 * disjoint rows (active versus waiting) of one snapshot. Other policies (singleton, stately, key_strict_fifo...) use
 * pg-boss's fetch, which knows their rules.
 * $1 queue name, $2 jobs to claim (0 to only complete), $3 ids to complete, $4 their 'id:retry_count' pairs.
 * `table` is the queue's table as pgboss.queue names it.
 */
export function settleAndClaim(table: string): string {
  const t = `pgboss.${pg.escapeIdentifier(table)}`;
  return `
    WITH done AS (
      UPDATE ${t}
      SET completed_on = pgboss.job_now(), state = 'completed', output = NULL
      WHERE name = $1
        AND id = ANY($3::uuid[])
        AND state = 'active'
        AND (id::text || ':' || retry_count::text) = ANY($4::text[])
      RETURNING 1
    ), next AS (
      SELECT j.id
      FROM ${t} j
      WHERE j.name = $1
        AND j.state < 'active'
        AND NOT j.blocked
        AND j.start_after <= pgboss.job_now()
      ORDER BY j.priority DESC, j.created_on
      LIMIT $2
      FOR UPDATE OF j SKIP LOCKED
    )
    UPDATE ${t} j SET
      state = 'active',
      started_on = pgboss.job_now(),
      heartbeat_on = pgboss.job_now(),
      retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
    FROM next
    WHERE j.name = $1 AND j.id = next.id
    RETURNING j.id, j.data, j.retry_count AS "retryCount", j.retry_limit AS "retryLimit", j.priority,
      j.expire_seconds AS "expireInSeconds", j.heartbeat_seconds AS "heartbeatSeconds",
      (extract(epoch FROM j.created_on) * 1000)::float8 AS "createdMs", j.singleton_key AS "singletonKey",
      j.dead_letter AS "deadLetter", j.source_name AS "sourceName", j.source_id AS "sourceId"
  `;
}

/**
 * Completes attempts as settleAndClaim() does, alone: for queues whose jobs pg-boss's fetch claims.
 * $1 queue name, $2 ids, $3 'id:retry_count' pairs. The row count is the number completed.
 */
export function completeAttempts(table: string): string {
  const t = `pgboss.${pg.escapeIdentifier(table)}`;
  return `
    UPDATE ${t}
    SET completed_on = pgboss.job_now(), state = 'completed', output = NULL
    WHERE name = $1
      AND id = ANY($2::uuid[])
      AND state = 'active'
      AND (id::text || ':' || retry_count::text) = ANY($3::text[])
  `;
}

/**
 * Planner settings of the connections settleAndClaim() runs on. Statistics taken while a queue was small make the
 * planner read every waiting job and sort them for each claim (bitmap scan), or hash-join the claimed rows against
 * the whole table once it is analyzed; the claim wants the ordered index scan that stops after $2 rows and a
 * primary-key lookup per claimed row, whatever the statistics say.
 */
export const CYCLE_SESSION_OPTIONS = '-c enable_bitmapscan=off -c enable_hashjoin=off -c enable_mergejoin=off';

/** The queue's policy and table, read once when its runner starts. $1 queue name. */
export const QUEUE_TABLE = `SELECT policy, table_name AS "table" FROM pgboss.queue WHERE name = $1`;
