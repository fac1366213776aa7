import pg from 'pg';
import { createLogger } from '../../libs/bosun/src/logging/logger.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { BosunEvents } from '../../libs/bosun/src/runtime/events.js';
import { CLAIM_SESSION_OPTIONS, QUEUE_TABLE, claimStandard } from '../../libs/bosun/src/worker/fetch.sql.js';
import { JobErrors } from '../../libs/bosun/src/worker/job-errors.js';
import { resolveProcessorOptions } from '../../libs/bosun/src/worker/processor.decorator.js';
import { MAX_CLAIMS, QueueRunner } from '../../libs/bosun/src/worker/queue-runner.js';
import { PipelinedConnection } from '../../libs/bosun/src/db/pool.js';
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

describe('claims and completions', () => {
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
    const text = claimStandard(rows[0].table);
    const conn = new pg.Client({ connectionString: db.url, options: CLAIM_SESSION_OPTIONS });
    await conn.connect();
    try {
      const plan = async () => {
        await conn.query('BEGIN');
        try {
          const explained = await conn.query(`EXPLAIN (FORMAT JSON) ${text}`, [planQueue.name, 1000]);
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

  it('claims on one pipelined connection and settles on another, in batches, with at most two claims in flight', async () => {
    const total = 1200;
    await client.boss.boss.insert(cycleQueue.name, Array.from({ length: total }, (_, i) => ({ data: { i } })));
    const claimConn = new PipelinedConnection({ connectionString: db.url, options: CLAIM_SESSION_OPTIONS });
    const settleConn = new PipelinedConnection({ connectionString: db.url });
    const claims: number[] = [];
    const settles: number[] = [];
    let claimsInFlight = 0;
    let maxClaimsInFlight = 0;
    let handlersDuringClaim = 0;
    // The runner's two lanes, counted: each call is one statement.
    const claimDb = {
      async query(text: string, values: unknown[]) {
        claimsInFlight++;
        maxClaimsInFlight = Math.max(maxClaimsInFlight, claimsInFlight);
        try {
          const result = await claimConn.query(text, values);
          claims.push(result.rows[0].jobs.length);
          return result;
        } finally {
          claimsInFlight--;
        }
      },
    };
    const settleDb = {
      async query(text: string, values: unknown[]) {
        settles.push(String(values[1]).split(',').length);
        return settleConn.query(text, values);
      },
    };
    const handled = new Set<string>();
    // The metrics' observer sees every start and every completion, without events.
    const observed = { started: 0, completed: 0, inFlight: 0 };
    const events = new BosunEvents();
    events.observeJobs({
      forQueue: () => ({
        started: () => {
          observed.started++;
          observed.inFlight++;
        },
        finished: (outcome, _ms, startedHere) => {
          if (outcome === 'completed') observed.completed++;
          if (startedHere) observed.inFlight--;
        },
      }),
    });
    const runner = new QueueRunner(cycleQueue, (job) => {
      handled.add(job.id);
      if (claimsInFlight > 0) handlersDuringClaim++;
      // Half the jobs finish on a later tick, so completions arrive while statements are in flight.
      return job.data.i % 2 ? new Promise((r) => setTimeout(r, 1)) : undefined;
    }, resolveProcessorOptions(cycleQueue.name, { concurrency: 200, batchSize: 100 }), {
      boss: client.boss.boss,
      pool: db.pool,
      claimDb,
      settleDb,
      errors: client.app.get(JobErrors),
      events,
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
      await claimConn.end();
      await settleConn.end();
    }
    expect(handled.size).toBe(total);
    expect(observed).toEqual({ started: total, completed: total, inFlight: 0 });
    // Every completion went through the settle lane, batched; the claims filled batches of up to 100.
    expect(settles.reduce((n, c) => n + c, 0)).toBe(total);
    expect(settles.length).toBeLessThan(total / 2);
    expect(claims.reduce((n, c) => n + c, 0)).toBe(total);
    expect(Math.max(...claims)).toBeLessThanOrEqual(100);
    expect(maxClaimsInFlight).toBeLessThanOrEqual(MAX_CLAIMS);
    // The next claim was on its way while earlier jobs ran.
    expect(handlersDuringClaim).toBeGreaterThan(total / 2);
  });

  it('pipelines statements on one backend, one after another, and reconnects after the connection is cut', async () => {
    const conn = new PipelinedConnection({ connectionString: db.url });
    try {
      // Sent back to back: the second waits in the backend's input while the first sleeps, on the same session.
      const started = Date.now();
      const [a, b] = await Promise.all([
        conn.query(`SELECT pg_backend_pid() AS pid, clock_timestamp() AS at FROM pg_sleep(0.2)`),
        conn.query(`SELECT pg_backend_pid() AS pid, clock_timestamp() AS at`),
      ]);
      expect(b.rows[0].pid).toBe(a.rows[0].pid);
      expect(new Date(b.rows[0].at).getTime()).toBeGreaterThanOrEqual(new Date(a.rows[0].at).getTime());
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      await db.pool.query('SELECT pg_terminate_backend($1)', [a.rows[0].pid]);
      const next = await waitFor(async () => (await conn.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number, 'a statement on a new connection');
      expect(next).not.toBe(a.rows[0].pid);
    } finally {
      await conn.end();
    }
  });
});
