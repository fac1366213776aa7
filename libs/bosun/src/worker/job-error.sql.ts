/** SQL for bosun.job_error: the last attempts' errors of each job. Parameterised always. */

/** How many attempts' errors are kept per job. */
export const KEPT_ATTEMPTS = 5;

/**
 * Records one attempt's error and drops attempts older than the last five, in one statement.
 * keep_until follows the job's own retention (queued retention + finished retention), read from its row.
 * $1 job id, $2 attempt, $3 queue, $4 kind, $5 message, $6 error name, $7 stack, $8 instance.
 */
export const RECORD = `
  WITH job AS (
    SELECT keep_until, deletion_seconds FROM pgboss.job WHERE id = $1::uuid AND name = $3
  ),
  ins AS (
    INSERT INTO bosun.job_error (job_id, attempt, queue, kind, message, error_name, stack, instance, keep_until)
    VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8,
      coalesce(
        (SELECT greatest(keep_until, now()) + deletion_seconds * interval '1s' FROM job),
        now() + interval '14 days'))
    ON CONFLICT (job_id, attempt) DO UPDATE
      SET kind = EXCLUDED.kind, message = EXCLUDED.message, error_name = EXCLUDED.error_name,
          stack = EXCLUDED.stack, instance = EXCLUDED.instance, created_at = now(), keep_until = EXCLUDED.keep_until
    RETURNING job_id
  )
  DELETE FROM bosun.job_error WHERE job_id = $1::uuid AND attempt <= $2 - ${KEPT_ATTEMPTS}
`;

/**
 * The history of a job, newest attempt first. A dead-lettered copy resolves to the job it came from,
 * so the history reads the same from either id. $1 job id.
 */
export const LIST = `
  SELECT job_id AS "jobId", attempt, queue, kind, message, error_name AS "errorName", stack, instance,
         created_at AS "createdAt"
  FROM bosun.job_error
  WHERE job_id = $1::uuid
     OR job_id = (SELECT source_id FROM pgboss.job WHERE id = $1::uuid AND source_id IS NOT NULL LIMIT 1)
  ORDER BY created_at DESC, attempt DESC
`;

/** Deletes a bounded batch of expired rows (called until it deletes fewer than the limit). $1 limit. */
export const PRUNE = `
  DELETE FROM bosun.job_error
  WHERE ctid IN (SELECT ctid FROM bosun.job_error WHERE keep_until < now() LIMIT $1)
`;

/** One pruner at a time across the cluster: a transaction-scoped try-lock. */
export const TRY_PRUNE_LOCK = `SELECT pg_try_advisory_xact_lock(hashtext('bosun.job_error.prune')) AS locked`;
