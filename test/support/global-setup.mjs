// Finds a Postgres for the suite: BOSUN_TEST_DATABASE_URL, the machine's on 127.0.0.1:5432, or an embedded one.
// Plain ESM importing the build (npm test builds first): jest loads global setup outside its transform.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAnswers, startEmbeddedPostgres } from '../../dist/libs/bosun/src/local/embedded-postgres.js';

export default async function globalSetup() {
  const candidate = process.env.BOSUN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await postgresAnswers(candidate)) {
    process.env.BOSUN_TEST_ADMIN_URL = candidate;
    return;
  }
  const base = join(tmpdir(), `bosun-test-pg-${process.pid}`);
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const pg = await startEmbeddedPostgres({ dataDir: join(base, 'data') });
  process.env.BOSUN_TEST_ADMIN_URL = pg.adminUrl;
  globalThis.__bosunEmbedded = pg;
  process.stdout.write(`\n[bosun tests] no Postgres at ${candidate}; using embedded Postgres on port ${pg.port}\n`);
}
