import pg from 'pg';

/**
 * The claim statement for queues with the standard policy: pg-boss's own fetch (same filter, order, lock and update),
 * returning only the columns a Job needs, with created_on as epoch milliseconds. pg-boss's includeMetadata fetch
 * returns thirty columns and six timestamps per job; on a 20,000-job drain that costs about a fifth of the throughput.
 * Other policies (singleton, stately, key_strict_fifo...) use pg-boss's fetch, which knows their rules.
 * $1 queue name, $2 batch size. `table` is the queue's table as pgboss.queue names it.
 */
export function claimStandard(table: string): string {
  const t = `pgboss.${pg.escapeIdentifier(table)}`;
  return `
    WITH next AS (
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
    , claimed AS (
      UPDATE ${t} j SET
        state = 'active',
        started_on = pgboss.job_now(),
        heartbeat_on = pgboss.job_now(),
        retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
      FROM next
      WHERE j.name = $1 AND j.id = next.id
      RETURNING j.id, j.data, j.retry_count, j.retry_limit, j.priority, j.expire_seconds, j.heartbeat_seconds,
        j.created_on, j.singleton_key, j.dead_letter, j.source_name, j.source_id
    )
    SELECT coalesce(json_agg(json_build_array(id, data, retry_count, retry_limit, priority, expire_seconds,
      heartbeat_seconds, (extract(epoch FROM created_on) * 1000)::float8, singleton_key, dead_letter, source_name,
      source_id)), '[]') AS jobs
    FROM claimed
  `;
}

/**
 * Completes attempts as pg-boss's complete() does (fenced to the attempt, only while active; dependants are released
 * by pg-boss's background resolver either way), without aggregating the settled ids back to the client.
 * $1 queue name, $2 ids, $3 'id:retry_count' pairs. The row count is the number completed.
 */
export function completeAttempts(table: string): string {
  const t = `pgboss.${pg.escapeIdentifier(table)}`;
  return `
    UPDATE ${t}
    SET completed_on = pgboss.job_now(), state = 'completed', output = NULL
    WHERE name = $1
      AND id = ANY(string_to_array($2, ',')::uuid[])
      AND state = 'active'
      AND (id::text || ':' || retry_count::text) = ANY(string_to_array($3, ','))
  `;
}

/**
 * Planner settings of the connections claimStandard() runs on. Statistics taken while a queue was small make the
 * planner read every waiting job and sort them for each claim (bitmap scan), or hash-join the claimed rows against
 * the whole table once it is analyzed; the claim wants the ordered index scan that stops after $2 rows and a
 * primary-key lookup per claimed row, whatever the statistics say.
 */
export const CLAIM_SESSION_OPTIONS = '-c enable_bitmapscan=off -c enable_hashjoin=off -c enable_mergejoin=off';

/** The queue's policy and table, read once when its runner starts. $1 queue name. */
export const QUEUE_TABLE = `SELECT policy, table_name AS "table" FROM pgboss.queue WHERE name = $1`;
