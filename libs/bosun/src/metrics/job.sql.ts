/**
 * Read-only SQL on pg-boss's job table (schema pgboss) for gauges, readiness and autoscaling.
 * "Ready" is pg-boss's own definition: queued (created or retry), not blocked by a flow parent, start_after reached.
 */

/** Per queue (every queue pg-boss knows, or the $1 list when given): counts by state and the oldest ready job's wait. */
export const QUEUE_STATS = `
  SELECT q.name AS queue,
    count(j.id) FILTER (WHERE j.state < 'active' AND NOT j.blocked AND j.start_after <= now())::int AS ready,
    count(j.id) FILTER (WHERE j.state < 'active' AND NOT j.blocked AND j.start_after > now())::int AS deferred,
    count(j.id) FILTER (WHERE j.state < 'active' AND j.blocked)::int AS blocked,
    count(j.id) FILTER (WHERE j.state = 'active')::int AS active,
    count(j.id) FILTER (WHERE j.state = 'failed')::int AS failed,
    coalesce(extract(epoch FROM now() - min(j.start_after) FILTER (WHERE j.state < 'active' AND NOT j.blocked AND j.start_after <= now())), 0)::float8 AS oldest_ready_seconds
  FROM pgboss.queue q
  LEFT JOIN pgboss.job j ON j.name = q.name AND j.state IN ('created', 'retry', 'active', 'failed')
  WHERE $1::text[] IS NULL OR q.name = ANY($1::text[])
  GROUP BY q.name
  ORDER BY q.name`;

/** How long the oldest ready job of these queues ($1) has waited, in seconds (0 when none is ready). */
export const OLDEST_READY_SECONDS = `
  SELECT coalesce(extract(epoch FROM now() - min(start_after)), 0)::float8 AS seconds
  FROM pgboss.job
  WHERE name = ANY($1::text[]) AND state < 'active' AND NOT blocked AND start_after <= now()`;

/**
 * What a worker Deployment scales on (the KEDA postgresql trigger runs the same count, with its queues inline):
 * jobs ready to start now plus jobs running, over the queues ($1) the workers serve.
 */
export const READY_PLUS_ACTIVE = `
  SELECT count(*)::int AS jobs
  FROM pgboss.job
  WHERE name = ANY($1::text[])
    AND (state = 'active' OR (state < 'active' AND NOT blocked AND start_after <= now()))`;
