import { Injectable, Module } from '@nestjs/common';
import { IsEmail, IsInt, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { defineQueue, QueueDefinitionError } from '../../libs/bosun/src/queues/define-queue.js';
import { InjectQueue } from '../../libs/bosun/src/queues/inject-queue.js';
import { PayloadValidationError } from '../../libs/bosun/src/queues/payload.js';
import { BosunClient, QueueClient, SendOptionError } from '../../libs/bosun/src/queues/queue-client.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';

class Address {
  @IsString() @MaxLength(10) postcode!: string;
}
class SendEmail {
  @IsEmail() to!: string;
  @IsString() @MaxLength(20) subject!: string;
}
class Invoice {
  @IsInt() @Min(1) @Max(1000) amount!: number;
  @ValidateNested() @Type(() => Address) address!: Address;
}

const emailQueue = defineQueue('t-email', { payload: SendEmail, retryLimit: 4, retryDelay: 3, retryBackoff: true, retryDelayMax: 60, expireInSeconds: 30, heartbeatSeconds: 15, deadLetter: 't-email-dead', retentionSeconds: 3600, deleteAfterSeconds: 600, priority: 2 });
const invoiceQueue = defineQueue('t-invoice', { payload: Invoice });

@Injectable()
class Mailer {
  constructor(@InjectQueue(emailQueue) readonly email: QueueClient<SendEmail>) {}
}
@Module({ imports: [BosunModule.forFeature([emailQueue])], providers: [Mailer] })
class MailModule {}

async function job(db: TestDatabase, id: string) {
  const { rows } = await db.pool.query(`SELECT * FROM pgboss.job WHERE id = $1`, [id]);
  return rows[0];
}
async function countJobs(db: TestDatabase, name: string): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1`, [name]);
  return rows[0].n;
}

describe('queue client', () => {
  let db: TestDatabase;
  let ctx: Awaited<ReturnType<typeof startBosun>>;
  let email: QueueClient<SendEmail>;
  let invoices: QueueClient<Invoice>;

  beforeAll(async () => {
    db = await createTestDatabase('client');
    ctx = await startBosun({ connectionString: db.url, queues: [invoiceQueue] }, [MailModule]);
    email = ctx.app.get(Mailer).email;
    invoices = ctx.app.get(BosunClient).queue(invoiceQueue);
  });
  afterAll(async () => {
    await ctx?.app.close();
    await db?.drop();
  });

  it('creates declared queues (and their dead letter queue) with their options', async () => {
    const { rows } = await db.pool.query(`SELECT name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds, heartbeat_seconds, dead_letter, retention_seconds, deletion_seconds, notify FROM pgboss.queue ORDER BY name`);
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(Object.keys(byName)).toEqual(['t-email', 't-email-dead', 't-invoice']);
    expect(byName['t-email']).toMatchObject({ policy: 'standard', retry_limit: 4, retry_delay: 3, retry_backoff: true, retry_delay_max: 60, expire_seconds: 30, heartbeat_seconds: 15, dead_letter: 't-email-dead', retention_seconds: 3600, deletion_seconds: 600, notify: true });
  });

  it('sends with every option and stores each on the job', async () => {
    const startAfter = new Date(Date.now() + 3_600_000);
    const id = await email.send(
      { to: 'ops@example.com', subject: 'Digest' },
      { priority: 7, startAfter, singletonKey: 'digest-1', retryLimit: 9, retryDelay: 2, retryBackoff: true, retryDelayMax: 30, expireInSeconds: 45, deleteAfterSeconds: 120, retentionSeconds: 7200 },
    );
    expect(id).toEqual(expect.any(String));
    const row = await job(db, id!);
    expect(row).toMatchObject({ name: 't-email', state: 'created', priority: 7, singleton_key: 'digest-1', retry_limit: 9, retry_delay: 2, retry_backoff: true, retry_delay_max: 30, expire_seconds: 45, deletion_seconds: 120, data: { to: 'ops@example.com', subject: 'Digest' } });
    expect(Math.abs(new Date(row.start_after).getTime() - startAfter.getTime())).toBeLessThan(1000);
  });

  it('applies the queue defaults (priority, retries) when the sender gives none', async () => {
    const id = await email.send({ to: 'a@example.com', subject: 'hi' });
    expect(await job(db, id!)).toMatchObject({ priority: 2, retry_limit: 4, retry_delay: 3, retry_backoff: true, expire_seconds: 30, heartbeat_seconds: 15, dead_letter: 't-email-dead' });
  });

  it('sendAfter defers by seconds or to a date', async () => {
    const before = Date.now();
    const id = await email.sendAfter({ to: 'b@example.com', subject: 'later' }, 120);
    const row = await job(db, id!);
    const delay = new Date(row.start_after).getTime() - before;
    expect(delay).toBeGreaterThan(110_000);
    expect(delay).toBeLessThan(130_000);
  });

  it('deduplicates on a singleton key within its window', async () => {
    const first = await email.send({ to: 'c@example.com', subject: 'once' }, { singletonKey: 'once', singletonSeconds: 300 });
    const second = await email.send({ to: 'c@example.com', subject: 'once' }, { singletonKey: 'once', singletonSeconds: 300 });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE singleton_key = 'once'`);
    expect(rows[0].n).toBe(1);
  });

  it('sends many jobs in one call, each with its own options', async () => {
    const before = await countJobs(db, 't-invoice');
    const ids = await invoices.sendMany(Array.from({ length: 250 }, (_, i) => ({ data: { amount: i + 1, address: { postcode: 'E1' } }, priority: i % 3 })));
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(await countJobs(db, 't-invoice')).toBe(before + 250);
    const { rows } = await db.pool.query(`SELECT priority, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) GROUP BY priority ORDER BY priority`, [ids]);
    expect(rows).toEqual([{ priority: 0, n: 84 }, { priority: 1, n: 83 }, { priority: 2, n: 83 }]);
  });

  it('sends inside the caller transaction: committed jobs exist', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TABLE IF NOT EXISTS orders (id int)');
      await client.query('INSERT INTO orders VALUES (1)');
      const id = await email.send({ to: 'tx@example.com', subject: 'commit' }, { db: client });
      expect(await job(db, id!)).toBeUndefined(); // not visible outside the transaction yet
      await client.query('COMMIT');
      expect(await job(db, id!)).toMatchObject({ state: 'created' });
    } finally {
      client.release();
    }
  });

  it('sends inside the caller transaction: a rollback leaves no job', async () => {
    const before = await countJobs(db, 't-email');
    const client = await db.pool.connect();
    let id: string | null = null;
    try {
      await client.query('BEGIN');
      id = await email.send({ to: 'tx@example.com', subject: 'rollback' }, { db: client });
      const many = await email.sendMany([{ data: { to: 'x@example.com', subject: 'r1' } }, { data: { to: 'y@example.com', subject: 'r2' } }], { db: client });
      expect(many).toHaveLength(2);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(id).toEqual(expect.any(String));
    expect(await job(db, id!)).toBeUndefined();
    expect(await countJobs(db, 't-email')).toBe(before);
  });

  it('refuses an invalid payload, naming the field, and enqueues nothing', async () => {
    const before = await countJobs(db, 't-email');
    await expect(email.send({ to: 'not-an-email', subject: 'x' })).rejects.toThrow(new PayloadValidationError('t-email', [{ field: 'to', messages: ['to must be an email'] }]));
    await expect(email.send({ to: 'a@example.com', subject: 'x'.repeat(21) })).rejects.toThrow(/subject: subject must be shorter than or equal to 20 characters/);
    await expect(email.send({ to: 'a@example.com', subject: 'ok', extra: 1 } as never)).rejects.toThrow(/extra: property extra should not exist/);
    await expect(email.send(null as never)).rejects.toThrow(/\(payload\): must be a JSON object/);
    await expect(invoices.send({ amount: 5, address: { postcode: 'far too long a postcode' } })).rejects.toThrow(/address\.postcode: postcode must be shorter/);
    expect(await countJobs(db, 't-email')).toBe(before);
  });

  it('refuses a bulk send with one bad payload, naming its index, and enqueues none of them', async () => {
    const before = await countJobs(db, 't-invoice');
    const jobs = [{ data: { amount: 1, address: { postcode: 'A' } } }, { data: { amount: 0, address: { postcode: 'B' } } }];
    const error = await invoices.sendMany(jobs).catch((e) => e);
    expect(error).toBeInstanceOf(PayloadValidationError);
    expect(error.message).toBe('invalid payload for queue t-invoice (job 1): amount: amount must not be less than 1');
    expect(error.index).toBe(1);
    expect(await countJobs(db, 't-invoice')).toBe(before);
  });

  it('refuses bad send options, naming the option', async () => {
    await expect(email.send({ to: 'a@example.com', subject: 'x' }, { priority: 1.5 })).rejects.toThrow(new SendOptionError('send to t-email: priority must be an integer, got 1.5', 'priority'));
    await expect(email.send({ to: 'a@example.com', subject: 'x' }, { startAfter: 'soon' })).rejects.toThrow(/startAfter must be a Date/);
    await expect(email.send({ to: 'a@example.com', subject: 'x' }, { prority: 1 } as never)).rejects.toThrow(/prority is not a send option/);
  });

  it('refuses a bad queue declaration at definition time, naming the field', () => {
    expect(() => defineQueue('bad', { retryLimit: -1 })).toThrow(new QueueDefinitionError('queue bad: retryLimit must be an integer >= 0, got -1', 'bad', 'retryLimit'));
    expect(() => defineQueue('bad', { heartbeatSeconds: 5 })).toThrow(/heartbeatSeconds must be an integer >= 10, got 5/);
    expect(() => defineQueue('bad', { retryDelayMax: 10 })).toThrow(/retryDelayMax needs retryBackoff: true/);
    expect(() => defineQueue('bad name!')).toThrow(/name must be 1-100 letters/);
    expect(() => defineQueue('bad', { policy: 'fifo' as never })).toThrow(/policy must be one of standard/);
  });
});

describe('queue declarations across deploys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('deploys');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('updates a queue whose options changed, and refuses a policy change without touching the queue', async () => {
    const v1 = await startBosun({ connectionString: db.url, queues: [defineQueue('reports', { retryLimit: 1, expireInSeconds: 60 })] });
    await v1.app.close();
    const v2 = await startBosun({ connectionString: db.url, queues: [defineQueue('reports', { retryLimit: 6, expireInSeconds: 90, deadLetter: 'reports-dead' })] });
    await v2.app.close();
    const { rows } = await db.pool.query(`SELECT retry_limit, expire_seconds, dead_letter, policy FROM pgboss.queue WHERE name = 'reports'`);
    expect(rows[0]).toEqual({ retry_limit: 6, expire_seconds: 90, dead_letter: 'reports-dead', policy: 'standard' });

    const v3 = startBosun({ connectionString: db.url, queues: [defineQueue('reports', { policy: 'singleton' })] });
    await expect(v3).rejects.toThrow(/bosun has not started|policy is "standard" in the database but declared "singleton"/);
    const after = await db.pool.query(`SELECT retry_limit, policy FROM pgboss.queue WHERE name = 'reports'`);
    expect(after.rows[0]).toEqual({ retry_limit: 6, policy: 'standard' });
  });
});
