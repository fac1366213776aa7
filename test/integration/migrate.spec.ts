import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { checkSchema, migrate, readMigrations } from '../../libs/bosun/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { NODE, ROOT, spawnApp, waitForStatus } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [join(ROOT, 'bin', 'bosun.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bosun migrate', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('migrate');
  });
  afterEach(async () => {
    await db.drop();
  });

  it('runs twice in parallel in one process: one applies, both succeed, the schema is complete', async () => {
    const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);
    const expected = readMigrations().map((m) => m.version);
    expect([a.applied, b.applied].sort((x, y) => y.length - x.length)).toEqual([expected, []]);
    const status = await checkSchema(db.pool);
    expect(status.ok).toBe(true);
    expect(status.bosun.current).toBe(expected.at(-1));
    const { rows } = await db.pool.query(`SELECT version FROM bosun.migration ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(expected);
    const leader = await db.pool.query(`SELECT term FROM bosun.leader`);
    expect(leader.rows).toEqual([{ term: '0' }]);
  });

  it('runs as two `bosun migrate` processes at once: both exit 0, exactly one applies', async () => {
    const env = { DATABASE_URL: db.url };
    const results = await Promise.all([runCli(['migrate'], env), runCli(['migrate'], env)]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const appliedCounts = results.map((r) => Number(/\((\d+) applied now\)/.exec(r.stdout)?.[1])).sort();
    expect(appliedCounts).toEqual([0, readMigrations().length]);
    expect((await checkSchema(db.pool)).ok).toBe(true);
  });

  it('refuses to run without DATABASE_URL, naming the variable', async () => {
    const { DATABASE_URL: _, ...rest } = process.env;
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(NODE, [join(ROOT, 'bin', 'bosun.js'), 'migrate'], { env: rest as Record<string, string> });
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += d));
      c.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(child.code).toBe(1);
    expect(child.stderr.trim()).toBe('bosun: configuration error: DATABASE_URL is required: a postgres:// connection string');
  });

  it('an app on an unmigrated database fails its startup probe with the reason, then starts once migrated', async () => {
    const app = spawnApp('worker', { DATABASE_URL: db.url });
    try {
      await waitForStatus(`${app.url}/health/startup`, 503);
      // The first probes may answer before the schema was read at all ("not checked yet"): wait for the reason.
      const message = await waitFor(async () => {
        const res = await fetch(`${app.url}/health/startup`);
        const body = (await res.json()) as { error?: { schema?: { message?: string } } };
        const text = body.error?.schema?.message;
        return res.status === 503 && text && text !== 'not checked yet' ? text : undefined;
      }, 'the startup probe to name the schema check');
      expect(message).toMatch(/database schema is behind: bosun 0\/\d+, pg-boss not installed\/\d+; run `bosun migrate`/);
      // The log line is written asynchronously: it may trail the probe's answer by a moment.
      await waitFor(() => app.logs().some((l) => String(l.msg).includes('run `bosun migrate`')), 'the log line naming `bosun migrate`');
      await migrate(db.url);
      await waitForStatus(`${app.url}/health/startup`, 200);
      await waitForStatus(`${app.url}/health/ready`, 200);
    } finally {
      expect((await app.stop()).code).toBe(0);
    }
  });
});
