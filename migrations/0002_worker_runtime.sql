-- Worker runtime: the last attempts' errors of each job (pg-boss keeps only the latest output).
CREATE TABLE bosun.job_error (
  job_id      uuid        NOT NULL,
  attempt     integer     NOT NULL,
  queue       text        NOT NULL,
  -- error | timeout | invalid-payload | heartbeat-lapsed | expired | released
  kind        text        NOT NULL,
  message     text        NOT NULL,
  error_name  text,
  stack       text,
  -- the worker instance that ran the attempt (null when the worker was lost and another noticed)
  instance    text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- kept as long as the job itself may be: its queued retention plus its retention once finished
  keep_until  timestamptz NOT NULL,
  PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_error_keep_until_idx ON bosun.job_error (keep_until);
