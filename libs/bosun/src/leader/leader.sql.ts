/** SQL for bosun.leader: one row holding the current leadership term (the fencing token) and its holder. */

/** Session advisory lock every scheduler races for; fits in int4 so pg_locks shows it as objid with classid 0. */
export const LEADER_LOCK_KEY = 730_211_402;

/** Standbys and the leader LISTEN here: 'resigned' wakes standbys at once; 'elected:<term>' is informational. */
export const LEADER_CHANNEL = 'bosun_leader';

export const TRY_LOCK = `SELECT pg_try_advisory_lock($1) AS locked`;
export const UNLOCK = `SELECT pg_advisory_unlock($1) AS unlocked`;

/** Taken right after winning the lock: a new term, so anything a previous leader still tries is refused. */
export const TAKE_TERM = `
  UPDATE bosun.leader SET term = term + 1, holder = $1, since = now()
  WHERE id
  RETURNING term::int AS term, since`;

/** The leader's heartbeat, on its lock connection: proves the session (and so the lock) is alive and the term is ours. */
export const HEARTBEAT = `
  SELECT l.term::int AS term, l.holder,
         EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1
                 AND pid = pg_backend_pid() AND granted) AS holds_lock,
         (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db_now_ms
  FROM bosun.leader l WHERE l.id`;

export const STATUS = `
  SELECT l.term::int AS term, l.holder, l.since,
         EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held
  FROM bosun.leader l WHERE l.id`;

/** Session settings on the lock connection: the server ends a session silent for the lease, releasing the lock. */
export function leaseSessionSettings(leaseSeconds: number): string {
  const ms = leaseSeconds * 1000;
  const probe = Math.max(1, Math.floor(leaseSeconds / 3));
  return [
    `SET idle_session_timeout = ${ms}`,
    `SET idle_in_transaction_session_timeout = ${ms}`,
    `SET tcp_keepalives_idle = ${probe}`,
    `SET tcp_keepalives_interval = ${probe}`,
    `SET tcp_keepalives_count = 2`,
    `SET tcp_user_timeout = ${ms}`,
  ].join('; ');
}
