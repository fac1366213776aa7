/** SQL for bosun.migration: the ledger of applied bosun migrations. */

/** Any constant works; it only has to be the same in every process that migrates. */
export const MIGRATION_LOCK_KEY = 7_302_114_001;

export const LOCK = `SELECT pg_advisory_lock($1)`;
export const UNLOCK = `SELECT pg_advisory_unlock($1)`;

export const CREATE_TABLE = `
  CREATE SCHEMA IF NOT EXISTS bosun;
  CREATE TABLE IF NOT EXISTS bosun.migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

export const TABLE_EXISTS = `SELECT to_regclass('bosun.migration') IS NOT NULL AS exists`;

export const LIST = `SELECT version, name, checksum, applied_at FROM bosun.migration ORDER BY version`;

export const RECORD = `INSERT INTO bosun.migration (version, name, checksum) VALUES ($1, $2, $3)`;
