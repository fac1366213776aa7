import pg from 'pg';
import { createLogger } from '../../libs/bosun/src/logging/logger.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../../libs/bosun/src/runtime/events.js';
import { CYCLE_SESSION_OPTIONS, QUEUE_TABLE, settleAndClaim } from '../../libs/bosun/src/worker/fetch.sql.js';
import { JobErrors } from '../../libs/bosun/src/worker/job-errors.js';
import { resolveProcessorOptions } from '../../libs/bosun/src/worker/processor.decorator.js';
import { MAX_CYCLES, QueueRunner } from '../../libs/bosun/src/worker/queue-runner.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';
import { waitFor } from '../support/wait.js';

const cycleQueue = defineQueue('c-cycle', { retryLimit: 0 });
const planQueue = defineQueue('c-plan', { retryLimit: 0 });

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): string[] => [`${n['Node Type']}${n['Index Name'] ? `:${n['Index Name']}` : ''}`, ...(n.Plans ?? []).flatMap(nodes)];

describe('claim cycles', () => {
  let db: TestDatabase;
  let client: Awaited<ReturnType<typeof startBosun>>;

  beforeAll(async () => {
    db = await createTestDatabase('claim_cycle');
    client = await startBosun({ connectionString: db.url, queues: [cycleQueue, planQueue] });
  });
  afterAll(async () => {
    await client?.app.close();
    await db?.drop();
  });

  it('claims through an ordered index scan whatever the statistics say (no sort of every waiting job)', async () => {
    await client.boss.boss.insert(planQueue.name, Array.from({ length: 5000 }, (_, i) => ({ data: { i }, priority: i % 3 })));
    const { rows } = await db.pool.query(QUEUE_TABLE, [planQueue.name]);
    const text = settleAndClaim(rows[0].table);
    const conn = new pg.Client({ connectionString: db.url, options: CYCLE_SESSION_OPTIONS });
    await conn.connect();
    try {
      const plan = async () => {
        await conn.query('BEGIN');
        try {
          const explained = await conn.query(`EXPLAIN (FORMAT JSON) ${text}`, [planQueue.name, 1000, [], []]);
          return nodes(explained.rows[0]['QUERY PLAN'][0].Plan);
        } finally {
          await conn.query('ROLLBACK');
        }
      };
      // Statistics from before the burst (the table was empty when the queue was created), then fresh ones.
      for (const when of ['stale statistics', 'after ANALYZE']) {
        if (when === 'after ANALYZE') await db.pool.query(`ANALYZE pgboss.${pg.escapeIdentifier(rows[0].table)}`);
        const found = await plan();
        expect({ when, sorts: found.filter((n) => /Sort|Bitmap|Seq Scan|Hash|Merge/.test(n)) }).toEqual({ when, sorts: [] });
        expect(found.some((n) => n.startsWith('Index Scan:') && n !== `Index Scan:${rows[0].table}_pkey`)).toBe(true);
      }
    } finally {
      await conn.end();
    }
  });

  it('settles finished jobs and claims the next ones in one statement, at most two in flight', async () => {
    const total = 1200;
    await client.boss.boss.insert(cycleQueue.name, Array.from({ length: total }, (_, i) => ({ data: { i } })));
    const real = new pg.Pool({ connectionString: db.url, max: MAX_CYCLES, options: CYCLE_SESSION_OPTIONS });
    const calls: Array<{ claim: number; settled: number }> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    // The runner's cycle pool, counted: each call is one statement.
    const cyclePool = {
      async query(text: string, values: unknown[]) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          const result = await real.query(text, values);
          calls.push({ claim: values[1] as number, settled: (values[2] as string[]).length });
          return result;
        } finally {
          inFlight--;
        }
      },
    } as unknown as pg.Pool;
    const handled = new Set<string>();
    const runner = new QueueRunner(cycleQueue, (job) => {
      handled.add(job.id);
      // Half the jobs finish on a later tick, so completions arrive while cycles are in flight.
      return job.data.i % 2 ? new Promise((r) => setTimeout(r, 1)) : undefined;
    }, resolveProcessorOptions(cycleQueue.name, { concurrency: 200, batchSize: 100 }), {
      boss: client.boss.boss,
      pool: db.pool,
      cyclePool,
      errors: client.app.get(JobErrors),
      events: new BosunEvents(),
      logger: createLogger({ level: 'silent' }),
      instanceId: 'cycle-test',
    });
    runner.start();
    try {
      await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`, [cycleQueue.name]);
        return rows[0].n === total;
      }, `the ${total} jobs to be recorded completed`, 30_000);
    } finally {
      await runner.stop();
      await real.end();
    }
    expect(handled.size).toBe(total);
    // Every completion rode in a cycle statement; most of those statements also claimed the next jobs.
    expect(calls.reduce((n, c) => n + c.settled, 0)).toBe(total);
    const both = calls.filter((c) => c.claim > 0 && c.settled > 0).length;
    expect(both).toBeGreaterThanOrEqual(Math.floor(total / 100 / 2));
    expect(calls.length).toBeLessThan(total / 100 * 3);
    expect(maxInFlight).toBeLessThanOrEqual(MAX_CYCLES);
  });
});
