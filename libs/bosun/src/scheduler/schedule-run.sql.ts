/** SQL for bosun.schedule_run: the run ledger, one row per (schedule, due instant). */

/**
 * In the fire transaction: holds the leader row (a takeover's UPDATE waits) and proves the term is still current.
 * Also bounds the transaction's idle time by the lease ($2 ms): a frozen leader must not hold that share lock
 * (and so block a takeover) past the lease.
 */
export const CHECK_TERM = `
  SELECT term, set_config('idle_in_transaction_session_timeout', $2, true) AS idle_timeout
  FROM bosun.leader WHERE id AND term = $1 FOR SHARE`;

/** Writes ledger rows; a (schedule, due_at) already there is left alone and not returned, so its job is not sent again. */
export const INSERT_RUNS = `
  INSERT INTO bosun.schedule_run (schedule, due_at, term, outcome, reason, queue, job_id, lag_ms)
  SELECT v.schedule, v.due_at, $1, v.outcome, v.reason, v.queue, v.job_id,
         CASE WHEN v.outcome = 'enqueued' THEN (extract(epoch FROM clock_timestamp() - v.due_at) * 1000)::int END
  FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::uuid[])
       AS v(schedule, due_at, outcome, reason, queue, job_id)
  ON CONFLICT (schedule, due_at) DO NOTHING
  RETURNING schedule, due_at, outcome, job_id, lag_ms`;

/** For overlap: per schedule, whether a fired run's job is still queued or active, and how many runs wait. */
export const OPEN_RUNS = `
  SELECT r.schedule,
         bool_or(r.outcome IN ('enqueued', 'active') AND EXISTS (
           SELECT 1 FROM pgboss.job j WHERE j.name = r.queue AND j.id = r.job_id AND j.state IN ('created', 'retry', 'active'))) AS pending,
         count(*) FILTER (WHERE r.outcome = 'waiting')::int AS waiting
  FROM bosun.schedule_run r
  WHERE r.schedule = ANY($1::text[]) AND r.outcome IN ('enqueued', 'active', 'waiting')
  GROUP BY r.schedule`;

/** Ledger catches up with pg-boss: started, completed, failed or cancelled jobs of fired runs (a deleted job counts as finished). */
export const SETTLE = `
  WITH open AS (
    SELECT r.schedule, r.due_at, r.outcome, j.state::text AS state, j.started_on, j.completed_on, (j.id IS NULL) AS gone
    FROM bosun.schedule_run r
    LEFT JOIN pgboss.job j ON j.name = r.queue AND j.id = r.job_id
    WHERE r.outcome IN ('enqueued', 'active') AND r.job_id IS NOT NULL
  )
  UPDATE bosun.schedule_run r SET
    outcome = CASE WHEN o.gone THEN 'completed'
                   WHEN o.state IN ('completed', 'failed', 'cancelled') THEN o.state
                   WHEN o.state = 'active' THEN 'active' ELSE r.outcome END,
    started_at = coalesce(o.started_on, r.started_at),
    finished_at = CASE WHEN o.state IN ('completed', 'failed', 'cancelled') THEN o.completed_on ELSE r.finished_at END,
    duration_ms = CASE WHEN o.state IN ('completed', 'failed', 'cancelled') AND o.started_on IS NOT NULL
                       THEN (extract(epoch FROM o.completed_on - o.started_on) * 1000)::int ELSE r.duration_ms END
  FROM open o
  WHERE r.schedule = o.schedule AND r.due_at = o.due_at
    AND (o.gone OR o.state IN ('completed', 'failed', 'cancelled') OR (o.state = 'active' AND r.outcome = 'enqueued'))
  RETURNING r.schedule, r.due_at, r.outcome, r.duration_ms`;

/** Oldest waiting run per schedule whose previous run has finished (overlap: queue). */
export const READY_WAITING = `
  SELECT DISTINCT ON (w.schedule) w.schedule, w.due_at, w.queue
  FROM bosun.schedule_run w
  WHERE w.outcome = 'waiting'
    AND NOT EXISTS (
      SELECT 1 FROM bosun.schedule_run r JOIN pgboss.job j ON j.name = r.queue AND j.id = r.job_id
      WHERE r.schedule = w.schedule AND r.outcome IN ('enqueued', 'active') AND j.state IN ('created', 'retry', 'active'))
  ORDER BY w.schedule, w.due_at`;

/** A waiting run is released: it gets its job now. */
export const RELEASE_WAITING = `
  UPDATE bosun.schedule_run SET outcome = 'enqueued', job_id = $3, fired_at = clock_timestamp(),
         lag_ms = (extract(epoch FROM clock_timestamp() - due_at) * 1000)::int
  WHERE schedule = $1 AND due_at = $2 AND outcome = 'waiting'
  RETURNING schedule`;

export const HISTORY = `
  SELECT schedule, due_at, term, outcome, reason, queue, job_id, fired_at, lag_ms, started_at, finished_at, duration_ms
  FROM bosun.schedule_run WHERE schedule = $1 AND ($2::timestamptz IS NULL OR due_at < $2)
  ORDER BY due_at DESC LIMIT $3`;
