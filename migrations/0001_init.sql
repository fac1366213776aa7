-- bosun's own schema. pg-boss keeps its tables in schema pgboss.
CREATE SCHEMA IF NOT EXISTS bosun;

-- One row: the current leadership term (a fencing token) and who holds it.
CREATE TABLE bosun.leader (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  term      bigint NOT NULL DEFAULT 0,
  holder    text,
  since     timestamptz
);
INSERT INTO bosun.leader (id, term) VALUES (true, 0);
