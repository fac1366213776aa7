/** SQL for bosun.schedule: schedules declared in code (synced by the leader) or created at run time. */

export const SCHEDULE_CHANNEL = 'bosun_schedule';

const COLUMNS = `name, kind, expression, tz, queue, data, priority, job_options, misfire, catch_up_seconds,
  misfire_grace_seconds, overlap, description, source, active, paused, paused_at, declaration_hash,
  fired_through, last_run_at, created_at, updated_at`;

export const SELECT_ALL = `SELECT ${COLUMNS} FROM bosun.schedule ORDER BY name`;
export const SELECT_ONE = `SELECT ${COLUMNS} FROM bosun.schedule WHERE name = $1`;
/** What the leader keeps timers for. */
export const SELECT_RUNNABLE = `SELECT ${COLUMNS} FROM bosun.schedule WHERE active AND NOT paused`;
export const SELECT_SOME = `SELECT ${COLUMNS} FROM bosun.schedule WHERE active AND NOT paused AND name = ANY($1::text[])`;

/**
 * Sync of one code declaration ($1..$13, $14 = paused when created, $15 = hash). A new row starts paused if the code
 * says enabled: false; an existing row keeps its paused flag (a runtime pause survives deploys). A changed or
 * re-declared schedule counts from now: instants of its new timing before now are not caught up.
 */
export const UPSERT_CODE = `
  INSERT INTO bosun.schedule (name, kind, expression, tz, queue, data, priority, job_options, misfire, catch_up_seconds,
                              misfire_grace_seconds, overlap, description, source, paused, paused_at, declaration_hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'code', $14, CASE WHEN $14 THEN now() END, $15)
  ON CONFLICT (name) DO UPDATE SET
    kind = excluded.kind, expression = excluded.expression, tz = excluded.tz, queue = excluded.queue, data = excluded.data,
    priority = excluded.priority, job_options = excluded.job_options, misfire = excluded.misfire,
    catch_up_seconds = excluded.catch_up_seconds, misfire_grace_seconds = excluded.misfire_grace_seconds,
    overlap = excluded.overlap, description = excluded.description, source = 'code', active = true,
    declaration_hash = excluded.declaration_hash, updated_at = now(),
    fired_through = CASE WHEN bosun.schedule.active AND bosun.schedule.kind = excluded.kind
                              AND bosun.schedule.expression = excluded.expression AND bosun.schedule.tz = excluded.tz
                         THEN bosun.schedule.fired_through ELSE greatest(bosun.schedule.fired_through, now()) END
  WHERE bosun.schedule.declaration_hash IS DISTINCT FROM excluded.declaration_hash OR NOT bosun.schedule.active
     OR bosun.schedule.source <> 'code'
  RETURNING name, (xmax = 0) AS created`;

/** Code schedules no longer declared stop firing but keep their row and history. */
export const DEACTIVATE_MISSING = `
  UPDATE bosun.schedule SET active = false, updated_at = now()
  WHERE source = 'code' AND active AND NOT (name = ANY($1::text[]))
  RETURNING name`;

export const INSERT_RUNTIME = `
  INSERT INTO bosun.schedule (name, kind, expression, tz, queue, data, priority, job_options, misfire, catch_up_seconds,
                              misfire_grace_seconds, overlap, description, source, paused, paused_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'runtime', $14, CASE WHEN $14 THEN now() END)
  RETURNING ${COLUMNS}`;

/** A runtime change of any schedule's definition; a new timing counts from now. */
export const UPDATE_DEFINITION = `
  UPDATE bosun.schedule SET
    kind = $2, expression = $3, tz = $4, queue = $5, data = $6, priority = $7, job_options = $8, misfire = $9,
    catch_up_seconds = $10, misfire_grace_seconds = $11, overlap = $12, description = $13, updated_at = now(),
    fired_through = CASE WHEN kind = $2 AND expression = $3 AND tz = $4 THEN fired_through ELSE greatest(fired_through, now()) END
  WHERE name = $1
  RETURNING ${COLUMNS}`;

export const PAUSE = `
  UPDATE bosun.schedule SET paused = true, paused_at = now(), updated_at = now()
  WHERE name = $1 RETURNING ${COLUMNS}`;

/** Instants that fell during the pause are not misfires: the schedule counts from now again. */
export const RESUME = `
  UPDATE bosun.schedule SET paused = false, paused_at = NULL, fired_through = greatest(fired_through, now()), updated_at = now()
  WHERE name = $1 RETURNING ${COLUMNS}`;

export const DELETE = `DELETE FROM bosun.schedule WHERE name = $1 RETURNING name`;

export const NOTIFY = `SELECT pg_notify('${SCHEDULE_CHANNEL}', $1)`;

/** Fire transaction: every due instant up to `through` is handled; last_run_at moves with each fired one. */
export const ADVANCE = `
  UPDATE bosun.schedule s SET fired_through = greatest(s.fired_through, v.through),
         last_run_at = CASE WHEN v.fired THEN greatest(s.last_run_at, v.through) ELSE s.last_run_at END
  FROM unnest($1::text[], $2::timestamptz[], $3::boolean[]) AS v(name, through, fired)
  WHERE s.name = v.name`;

export const DB_NOW = `SELECT now() AS now`;
