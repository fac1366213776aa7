import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { emailQueue } from '../../libs/examples/src/jobs.js';
import { BosunClient } from '../../libs/bosun/src/queues/queue-client.js';
import { createTestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { alive, httpStatus, NODE, ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

interface Launched {
  out: () => string;
  databaseUrl: string;
  processes: Array<{ name: string; url: string; pid: number }>;
  upSeconds: number;
  interrupt(): Promise<number | null>;
  kill(): void;
}

/** Runs `bosun local` (what `npm start` runs after building) and waits for it to print the cluster. */
async function launch(args: string[], env: NodeJS.ProcessEnv): Promise<Launched> {
  const started = Date.now();
  const launcher = spawn(NODE, [join(ROOT, 'dist/libs/bosun/src/cli/main.js'), 'local', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  launcher.stdout.on('data', (d) => (out += d));
  launcher.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  await waitFor(() => out.includes('Press Ctrl-C to stop.') || launcher.exitCode !== null, 'the launcher to report the cluster up', 60_000, 100);
  expect(out).toContain('bosun local cluster is up in');
  const processes = [...out.matchAll(/^\s+(scheduler|worker-\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(health .* pid (\d+)\)$/gm)].map((m) => ({ name: m[1]!, url: m[2]!, pid: Number(m[3]) }));
  return {
    out: () => out,
    databaseUrl: /^\s+database\s+(postgres:\/\/\S+)$/m.exec(out)![1]!,
    processes,
    upSeconds: (Date.now() - started) / 1000,
    interrupt: async () => {
      launcher.kill('SIGINT');
      return exited;
    },
    kill: () => {
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
    },
  };
}

async function query(url: string, text: string, values: unknown[] = []) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(text, values)).rows;
  } finally {
    await db.end();
  }
}

describe('local cluster (npm start)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-local-'));
  chmodSync(dir, 0o755); // as root, the embedded server runs as `postgres`, which must reach its data folder
  const { DATABASE_URL: _, ...baseEnv } = process.env;
  const basePort = 31_000 + (process.pid % 1000) * 4;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts embedded Postgres, migrates, runs a scheduler and two workers, takes a job, stops everything on Ctrl-C, and reuses its data', async () => {
    const env = { ...baseEnv, PORT: String(basePort), LOG_LEVEL: 'warn' };
    const first = await launch(['--data-dir', join(dir, 'pgdata')], env);
    let jobId: string | null = null;
    try {
      process.stdout.write(`[local cluster] fresh embedded database: up in ${first.upSeconds.toFixed(1)} s\n`);
      expect(first.out()).toContain(`starting embedded Postgres (data in ${join(dir, 'pgdata')})`);
      expect(first.processes.map((p) => p.name)).toEqual(['scheduler', 'worker-1', 'worker-2']);
      for (const p of first.processes) expect(await httpStatus(`${p.url}/health/ready`)).toBe(200);
      const postmasterPid = Number(readFileSync(join(dir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(alive(postmasterPid)).toBe(true);

      const client = await startBosun({ connectionString: first.databaseUrl, migrate: false, queues: [emailQueue] });
      try {
        jobId = await client.app.get(BosunClient).queue(emailQueue).send({ to: 'ops@example.com', subject: 'from the test' });
      } finally {
        await client.app.close();
      }
      expect(await query(first.databaseUrl, `SELECT name, data FROM pgboss.job WHERE id = $1`, [jobId])).toEqual([
        { name: 'email', data: { to: 'ops@example.com', subject: 'from the test' } },
      ]);

      expect(await first.interrupt()).toBe(0);
      expect(first.out()).toContain('local cluster stopped');
      for (const pid of [...first.processes.map((p) => p.pid), postmasterPid]) expect(alive(pid)).toBe(false);
      expect(existsSync(join(dir, 'pgdata', 'postmaster.pid'))).toBe(false);
    } finally {
      first.kill();
    }

    const second = await launch(['--data-dir', join(dir, 'pgdata')], env);
    try {
      process.stdout.write(`[local cluster] reused embedded database: up in ${second.upSeconds.toFixed(1)} s\n`);
      const rows = await query(second.databaseUrl, `SELECT count(*)::int AS n FROM pgboss.job WHERE id = $1`, [jobId]);
      expect(rows).toEqual([{ n: 1 }]);
      expect(await second.interrupt()).toBe(0);
    } finally {
      second.kill();
    }
  });

  it('uses DATABASE_URL instead of the embedded database when it is set', async () => {
    const db = await createTestDatabase('local');
    const run = await launch(['--workers', '1'], { ...baseEnv, DATABASE_URL: db.url, PORT: String(basePort + 3), LOG_LEVEL: 'warn' });
    try {
      expect(run.out()).not.toContain('starting embedded Postgres');
      expect(run.databaseUrl).toBe(db.url);
      expect(run.processes.map((p) => p.name)).toEqual(['scheduler', 'worker-1']);
      expect(await query(db.url, `SELECT max(version)::int AS v FROM bosun.migration`)).toEqual([{ v: expect.any(Number) }]);
      expect(await run.interrupt()).toBe(0);
      for (const p of run.processes) expect(alive(p.pid)).toBe(false);
    } finally {
      run.kill();
      await db.drop();
    }
  });
});
