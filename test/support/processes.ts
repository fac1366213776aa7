import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** Node 24 from node_modules (the suite itself may run on it already; children must too). */
export const NODE = process.execPath;

export interface AppProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything the process wrote, stdout then stderr interleaved as it came. */
  output(): string;
  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Each jest worker process gets its own block of 100 ports (below the ephemeral range), used round-robin: with
 * pid % 5000 * 2, workers with adjacent pids overlapped from their third app on, and an app that lost the port
 * race exited 1 while the test talked to another file's app on that port.
 */
const PORT_BLOCK = 100;
const portBase = 20_000 + (process.pid % 120) * PORT_BLOCK;
let portCount = 0;
const nextFreePort = () => portBase + (portCount++ % PORT_BLOCK);

export function spawnApp(app: 'scheduler' | 'worker', env: Record<string, string>): AppProcess {
  return spawnScript(join('apps', app, 'main.js'), env);
}

/** Spawns a built entry point under dist/ (an app, or a fixture such as bench/sim/main.js). */
export function spawnScript(script: string, env: Record<string, string>): AppProcess {
  const port = env.PORT ? Number(env.PORT) : nextFreePort();
  const child = spawn(NODE, [join(ROOT, 'dist', script)], {
    env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export function waitForStatus(url: string, status: number, timeoutMs = 30_000): Promise<true> {
  return waitFor(async () => (await httpStatus(url)) === status, `${url} to answer ${status}`, timeoutMs, 100) as Promise<true>;
}

/** True while a pid is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
