import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { loadConfigOrExit } from '../config/config.js';
import { migrate } from '../db/migrate.js';
import { startLocalCluster } from '../local/cluster.js';

/** `bosun`: the operator's command line. Each command reads its settings through loadConfig. */
export function buildCli(): Command {
  const program = new Command('bosun').description('bosun: a distributed worker cluster for NestJS on Postgres').exitOverride();

  program
    .command('migrate')
    .description("install or upgrade pg-boss's schema and bosun's (safe to run from several processes at once)")
    .action(async () => {
      const config = loadConfigOrExit({ requireDatabaseUrl: true });
      const result = await migrate(config.databaseUrl!, (m) => process.stdout.write(`${m}\n`));
      process.stdout.write(
        `bosun schema at version ${result.bosunVersion} (${result.applied.length} applied now), pg-boss schema at version ${result.pgBossVersion}\n`,
      );
    });

  program
    .command('local')
    .description('run a local cluster: embedded Postgres (unless DATABASE_URL is set), a scheduler and two workers')
    .option('--workers <n>', 'worker processes', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 16) throw new CommanderError(1, 'bosun.workers', `--workers must be an integer between 0 and 16, got "${v}"`);
      return n;
    })
    .option('--data-dir <path>', 'where the embedded Postgres keeps its data (default .bosun/pgdata)')
    .action(async (opts: { workers?: number; dataDir?: string }) => {
      const config = loadConfigOrExit({ requireDatabaseUrl: false });
      const cluster = await startLocalCluster({ config, workers: opts.workers, dataDir: opts.dataDir && resolve(opts.dataDir) });
      const width = Math.max(...cluster.processes.map((p) => p.name.length), 8);
      const lines = [
        '',
        `bosun local cluster is up in ${(cluster.startedInMs / 1000).toFixed(1)} s`,
        ...cluster.processes.map((p) => `  ${p.name.padEnd(width)}  ${p.url}   (health ${p.url}/health/ready, pid ${p.pid})`),
        `  ${'database'.padEnd(width)}  ${cluster.databaseUrl}`,
        'Press Ctrl-C to stop.',
        '',
      ];
      process.stdout.write(lines.join('\n'));
      const shutdown = () => {
        process.stdout.write('\nstopping the local cluster...\n');
        void cluster.stop();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      const code = await cluster.stopped;
      process.stdout.write('local cluster stopped\n');
      process.exit(code);
    });
  return program;
}

/** Runs the CLI; any error becomes one line on stderr and exit code 1. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    process.stderr.write(`bosun: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli(process.argv);
}
