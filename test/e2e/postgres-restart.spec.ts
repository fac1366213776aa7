import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pgDriver from 'pg';
import { join } from 'node:path';
import { migrate } from '../../libs/bosun/src/db/migrate.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../../libs/bosun/src/local/embedded-postgres.js';
import { emailQueue } from '../../libs/examples/src/jobs.js';
import { BosunClient } from '../../libs/bosun/src/queues/queue-client.js';
import { startBosun } from '../support/nest.js';
import { alive, httpStatus, spawnApp, waitForStatus, type AppProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * A real Postgres server stopped and started again under running apps (its own embedded server, so the
 * machine's stays up for the other test files): both apps stay alive, go unready, and come back ready
 * without a restart, and the worker processes a job sent after the restart.
 */
describe('Postgres restart under running apps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-restart-'));
  chmodSync(dir, 0o755); // as root the server runs as `postgres`, which must reach its data folder
  let pg: EmbeddedPostgres | undefined;
  const apps: AppProcess[] = [];
  afterAll(async () => {
    for (const a of apps) await a.stop('SIGKILL');
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('apps survive a stop and start of the server and are ready again with the same pids', async () => {
    pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data') });
    const port = pg.port;
    await ensureDatabase(pg.adminUrl, 'bosun');
    const url = pg.urlFor('bosun');
    await migrate(url);
    const scheduler = spawnApp('scheduler', { DATABASE_URL: url, BOSUN_INSTANCE_ID: 'restart-s', LOG_LEVEL: 'warn' });
    const worker = spawnApp('worker', { DATABASE_URL: url, BOSUN_INSTANCE_ID: 'restart-w', LOG_LEVEL: 'warn' });
    apps.push(scheduler, worker);
    for (const a of apps) await waitForStatus(`${a.url}/health/ready`, 200);
    const pids = apps.map((a) => a.child.pid!);

    await pg.stop();
    for (const a of apps) {
      await waitForStatus(`${a.url}/health/ready`, 503);
      expect(await httpStatus(`${a.url}/health/live`)).toBe(200);
    }

    pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port });
    expect(pg.port).toBe(port);
    for (const a of apps) await waitForStatus(`${a.url}/health/ready`, 200, 60_000);
    expect(apps.map((a) => a.child.pid)).toEqual(pids);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    const client = await startBosun({ connectionString: url, migrate: false, queues: [emailQueue] });
    try {
      const id = await client.app.get(BosunClient).queue(emailQueue).send({ to: 'ops@example.com', subject: 'after the restart' });
      const db = pg;
      await waitFor(async () => {
        const c = new pgDriver.Client({ connectionString: db.urlFor('bosun') });
        await c.connect();
        try {
          return (await c.query(`SELECT state FROM pgboss.job WHERE id = $1`, [id])).rows[0]?.state === 'completed';
        } finally {
          await c.end();
        }
      }, 'the worker to complete a job sent after the restart', 30_000);
    } finally {
      await client.app.close();
    }
    const codes = await Promise.all(apps.map((a) => a.stop()));
    expect(codes.map((c) => c.code)).toEqual([0, 0]);
  });
});
