import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BosunConfig } from '../config/config.js';
import { migrate, packageRoot } from '../db/migrate.js';
import { ensureDatabase, freePort, postgresUserCanUse, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

export interface LocalClusterOptions {
  config: BosunConfig;
  /** Where the embedded cluster keeps its data; default `.bosun/pgdata` in the project. */
  dataDir?: string;
  workers?: number;
  /** Lines meant for the person at the terminal. */
  print?: (line: string) => void;
  /** Where children's JSON logs go (default: inherited stdout/stderr). */
  childStdio?: 'inherit' | 'ignore';
}

export interface ProcessInfo {
  name: string;
  url: string;
  pid: number;
}

export interface LocalCluster {
  databaseUrl: string;
  processes: ProcessInfo[];
  startedInMs: number;
  /** Resolves when the cluster has stopped, by stop() or because a process died. */
  stopped: Promise<number>;
  stop(): Promise<void>;
}

export const LOCAL_DEFAULTS = { workers: 2, pgPort: 54329, database: 'bosun', readyTimeoutMs: 60_000, stopTimeoutMs: 40_000 };

/** The project's .bosun/pgdata, unless (as root) the postgres user cannot reach it: then a folder under the temp dir. */
export function defaultDataDir(root = packageRoot()): string {
  const preferred = join(root, '.bosun', 'pgdata');
  if (postgresUserCanUse(join(root, '.bosun'))) return preferred;
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 12);
  const fallback = join(tmpdir(), `bosun-${hash}`);
  mkdirSync(fallback, { recursive: true, mode: 0o755 });
  return join(fallback, 'pgdata');
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url} exited with ${child.exitCode ?? child.signalCode} before it was ready`);
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} was not ready within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `npm start`: embedded Postgres (unless DATABASE_URL is set), migrations, one scheduler and N workers. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const began = Date.now();
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const root = packageRoot();
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = options.config.databaseUrl;
  if (!databaseUrl) {
    const dataDir = options.dataDir ?? defaultDataDir(root);
    print(`starting embedded Postgres (data in ${dataDir})`);
    embedded = await startEmbeddedPostgres({ dataDir, port: LOCAL_DEFAULTS.pgPort });
    await ensureDatabase(embedded.adminUrl, LOCAL_DEFAULTS.database);
    databaseUrl = embedded.urlFor(LOCAL_DEFAULTS.database);
  }
  const children: Array<{ info: ProcessInfo; child: ChildProcess }> = [];
  let stopping: Promise<void> | undefined;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));

  const stop = (code = 0) =>
    (stopping ??= (async () => {
      await Promise.all(children.map(({ child }) => stopChild(child, LOCAL_DEFAULTS.stopTimeoutMs)));
      await embedded?.stop();
      resolveStopped(code);
    })());

  try {
    const result = await migrate(databaseUrl);
    print(`database migrated (bosun schema ${result.bosunVersion}, pg-boss schema ${result.pgBossVersion})`);

    const basePort = options.config.port;
    const plan = [{ name: 'scheduler', app: 'scheduler' }, ...Array.from({ length: options.workers ?? LOCAL_DEFAULTS.workers }, (_, i) => ({ name: `worker-${i + 1}`, app: 'worker' }))];
    let next = basePort;
    for (const p of plan) {
      const port = await freePort(next);
      next = port + 1;
      const child = spawn(process.execPath, [join(root, 'dist', 'apps', p.app, 'main.js')], {
        env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), BOSUN_INSTANCE_ID: `local-${p.name}` },
        stdio: ['ignore', options.childStdio ?? 'inherit', options.childStdio ?? 'inherit'],
      });
      const info = { name: p.name, url: `http://127.0.0.1:${port}`, pid: child.pid ?? -1 };
      children.push({ info, child });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        print(`${p.name} exited unexpectedly (${code ?? signal}); stopping the local cluster`);
        void stop(1);
      });
    }
    await Promise.all(children.map(({ info, child }) => waitReady(info.url, child, LOCAL_DEFAULTS.readyTimeoutMs)));
  } catch (error) {
    await stop(1);
    throw error;
  }
  return { databaseUrl, processes: children.map((c) => c.info), startedInMs: Date.now() - began, stopped, stop: () => stop(0) };
}
