import pg from 'pg';
import { createPool, withTransaction } from '../../libs/bosun/src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('withTransaction', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('pool');
    pool = createPool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('rejects when its connection is cut mid-transaction (a Postgres restart), without an unheard error event, and the pool drops that connection', async () => {
    let pid = 0;
    const cut = withTransaction(pool, async (client) => {
      pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const ended = new Promise((resolve) => client.once('end', resolve));
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      // The server's FATAL reaches the idle, checked-out client as an 'error' event, then the socket ends.
      await ended;
      await client.query('SELECT 1');
    });
    await expect(cut).rejects.toThrow();
    const next = await withTransaction(pool, async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number);
    expect(next).not.toBe(pid);
  });
});
