import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import * as sql from './migration.sql.js';

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** bosun migrations this call applied (empty when another process had already done it). */
  applied: number[];
  bosunVersion: number;
  pgBossVersion: number;
}

export interface SchemaStatus {
  ok: boolean;
  bosun: { current: number; expected: number };
  pgBoss: { current: number | null; expected: number };
  /** Human-readable reason when not ok, naming the command that fixes it. */
  message?: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The package root: the nearest folder above this file holding migrations/ and package.json (works from src and dist). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`bosun: cannot find the migrations folder above ${from}`);
    dir = parent;
  }
}

export function migrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

/** Reads NNNN_name.sql files in order; a gap or duplicate number is a packaging bug and refused. */
export function readMigrations(dir: string = migrationsDir()): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file, index) => {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`bosun: migration file ${file} must be named NNNN_lowercase_name.sql`);
    const version = Number(match[1]);
    if (version !== index + 1) throw new Error(`bosun: migration ${file} is out of sequence: expected number ${index + 1}`);
    const text = readFileSync(join(dir, file), 'utf8');
    return { version, name: match[2]!, sql: text, checksum: createHash('sha256').update(text).digest('hex').slice(0, 16) };
  });
  return migrations;
}

/** pg-boss's own schema version, read from its package.json (the number its migrations reach). */
export function expectedPgBossVersion(): number {
  const entry = fileURLToPath(import.meta.resolve('pg-boss'));
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { pgboss: { schema: number } };
  return pkg.pgboss.schema;
}

/**
 * Installs or upgrades pg-boss's schema and bosun's, under one advisory lock so that
 * several processes may run it at once: the first applies, the others wait and find nothing to do.
 */
export async function migrate(connectionString: string, log: (message: string) => void = () => undefined): Promise<MigrateResult> {
  const migrations = readMigrations();
  const client = new pg.Client({ connectionString, application_name: 'bosun-migrate' });
  await client.connect();
  try {
    await client.query(sql.LOCK, [sql.MIGRATION_LOCK_KEY]);
    const boss = new PgBoss({
      connectionString,
      max: 2,
      migrate: true,
      supervise: false,
      schedule: false,
      registerInstance: false,
      application_name: 'bosun-migrate',
    });
    boss.on('error', (error) => log(`pg-boss: ${error.message}`));
    await boss.start();
    const pgBossVersion = (await boss.schemaVersion()) ?? 0;
    await boss.stop({ graceful: false, close: true });

    await client.query(sql.CREATE_TABLE);
    const done = new Map((await client.query(sql.LIST)).rows.map((r) => [r.version as number, r.checksum as string]));
    const applied: number[] = [];
    for (const m of migrations) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) log(`migration ${m.version}_${m.name} changed since it was applied (checksum ${checksum} -> ${m.checksum}); not re-run`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(sql.RECORD, [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`bosun: migration ${m.version}_${m.name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(m.version);
      log(`applied migration ${m.version}_${m.name}`);
    }
    return { applied, bosunVersion: migrations.at(-1)?.version ?? 0, pgBossVersion };
  } finally {
    await client.query(sql.UNLOCK, [sql.MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** What the apps check at start: are both schemas at the version this code expects? */
export async function checkSchema(db: pg.Pool | pg.Client): Promise<SchemaStatus> {
  const expected = readMigrations().at(-1)?.version ?? 0;
  const expectedBoss = expectedPgBossVersion();
  const { rows: [exists] } = await db.query(sql.TABLE_EXISTS);
  const current = exists.exists ? ((await db.query(`SELECT coalesce(max(version), 0)::int AS v FROM bosun.migration`)).rows[0].v as number) : 0;
  const { rows: [boss] } = await db.query(`SELECT to_regclass('pgboss.version') IS NOT NULL AS exists`);
  const bossCurrent = boss.exists ? ((await db.query(`SELECT version::int AS v FROM pgboss.version`)).rows[0]?.v ?? null) : null;
  const status: SchemaStatus = {
    ok: current === expected && bossCurrent === expectedBoss,
    bosun: { current, expected },
    pgBoss: { current: bossCurrent, expected: expectedBoss },
  };
  if (current > expected) status.message = `the database schema (bosun ${current}) is newer than this code (${expected}): deploy the newer version`;
  else if (!status.ok) {
    status.message = `database schema is behind: bosun ${current}/${expected}, pg-boss ${bossCurrent ?? 'not installed'}/${expectedBoss}; run \`bosun migrate\``;
  }
  return status;
}
