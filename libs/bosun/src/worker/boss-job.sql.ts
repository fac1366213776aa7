/**
 * bosun's own statements on pg-boss's job table, for what pg-boss's public API has no call for.
 * Each is fenced to the attempt a worker holds (id + retry_count + state 'active'), like pg-boss's own settles.
 */

/** The NOTIFY channel pg-boss announces new jobs on (pg-boss derives it from its schema name the same way). */
export const NOTIFY_CHANNEL = `SELECT ('pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24)) AS channel`;

/**
 * Makes the attempt a worker holds its last, so the fail() that follows dead-letters it at once
 * (an invalid payload will not become valid by retrying). $1 queue, $2 id, $3 retry_count.
 */
export const EXHAUST_RETRIES = `
  UPDATE pgboss.job SET retry_limit = retry_count
  WHERE name = $1 AND id = $2::uuid AND retry_count = $3 AND state = 'active'
`;

/**
 * Hands jobs back to the queue without spending a retry (a drained worker interrupted them, they did not fail):
 * state retry, one more retry allowed, startable now, and a NOTIFY so another worker takes them at once.
 * $1 queue, $2 'id:retry_count' pairs, $3 output. Returns the ids released.
 */
export const RELEASE = `
  WITH released AS (
    UPDATE pgboss.job
    SET state = 'retry', retry_limit = retry_limit + 1, heartbeat_on = NULL, start_after = now(), output = $3::jsonb
    WHERE name = $1
      AND (id::text || ':' || retry_count::text) = ANY($2::text[])
      AND state = 'active'
    RETURNING id
  ), notified AS (
    SELECT pg_notify(('pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24)), $1)
    WHERE EXISTS (SELECT 1 FROM released)
  )
  SELECT id FROM released, (SELECT count(*) FROM notified) n
`;

/**
 * Active jobs whose worker is gone: no heartbeat within heartbeat_seconds, or running past
 * expire_seconds plus a grace (the owner's own timer normally wins that race). Jobs this process runs are
 * excluded: it settles those itself. $1 queues, $2 grace seconds, $3 ids held here, $4 limit.
 */
export const LAPSED = `
  SELECT id, name, retry_count AS "retryCount", retry_limit AS "retryLimit", dead_letter AS "deadLetter",
    CASE WHEN heartbeat_seconds IS NOT NULL AND heartbeat_on + heartbeat_seconds * interval '1s' < now()
         THEN 'heartbeat-lapsed' ELSE 'expired' END AS kind,
    heartbeat_seconds AS "heartbeatSeconds", expire_seconds AS "expireInSeconds"
  FROM pgboss.job
  WHERE name = ANY($1::text[])
    AND state = 'active'
    AND ((heartbeat_seconds IS NOT NULL AND heartbeat_on + heartbeat_seconds * interval '1s' < now())
      OR started_on + (expire_seconds + $2) * interval '1s' < now())
    AND NOT (id = ANY($3::uuid[]))
  LIMIT $4
`;
