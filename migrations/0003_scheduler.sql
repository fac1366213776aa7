-- The scheduler's tables: schedules (declared in code or created at run time) and the run ledger.

CREATE TABLE bosun.schedule (
  name                  text PRIMARY KEY,
  kind                  text NOT NULL CHECK (kind IN ('cron', 'every', 'daily', 'weekly', 'monthly')),
  expression            text NOT NULL,
  tz                    text NOT NULL DEFAULT 'UTC',
  queue                 text NOT NULL,
  data                  jsonb,
  priority              integer,
  job_options           jsonb NOT NULL DEFAULT '{}',
  misfire               text NOT NULL DEFAULT 'latest' CHECK (misfire IN ('skip', 'latest', 'all')),
  catch_up_seconds      integer NOT NULL DEFAULT 3600 CHECK (catch_up_seconds >= 0),
  misfire_grace_seconds integer NOT NULL DEFAULT 5 CHECK (misfire_grace_seconds >= 0),
  overlap               text NOT NULL DEFAULT 'allow' CHECK (overlap IN ('allow', 'skip', 'queue')),
  description           text,
  -- 'code': declared with @Scheduled or module options (synced by the leader); 'runtime': created through the library/API.
  source                text NOT NULL CHECK (source IN ('code', 'runtime')),
  -- false once a code schedule is no longer declared; it keeps its history and comes back if declared again.
  active                boolean NOT NULL DEFAULT true,
  paused                boolean NOT NULL DEFAULT false,
  paused_at             timestamptz,
  -- fingerprint of the code declaration last synced, so unchanged schedules are not rewritten.
  declaration_hash      text,
  -- every due instant <= fired_through has a ledger row (or fell before creation or during a pause).
  fired_through         timestamptz NOT NULL DEFAULT now(),
  last_run_at           timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The run ledger: one row per (schedule, due instant). The primary key makes a fire exactly-once across failover.
CREATE TABLE bosun.schedule_run (
  schedule     text NOT NULL REFERENCES bosun.schedule (name) ON DELETE CASCADE,
  due_at       timestamptz NOT NULL,
  -- leadership term that wrote the row (the fencing token checked in the same transaction).
  term         bigint NOT NULL,
  -- enqueued | waiting (overlap: queue) | skipped | active | completed | failed | cancelled
  outcome      text NOT NULL CHECK (outcome IN ('enqueued', 'waiting', 'skipped', 'active', 'completed', 'failed', 'cancelled')),
  -- why skipped: overlap | misfire; 'manual' for a run started by hand.
  reason       text,
  queue        text NOT NULL,
  job_id       uuid,
  fired_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  lag_ms       integer,
  started_at   timestamptz,
  finished_at  timestamptz,
  duration_ms  integer,
  PRIMARY KEY (schedule, due_at)
);
CREATE INDEX schedule_run_open_idx ON bosun.schedule_run (schedule, due_at) WHERE outcome IN ('enqueued', 'waiting', 'active');
CREATE INDEX schedule_run_job_idx ON bosun.schedule_run (job_id) WHERE job_id IS NOT NULL;
