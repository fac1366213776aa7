import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IsString } from 'class-validator';
import { BossService, bossOptionsFor } from '../../libs/bosun/src/boss/boss.service.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import { BosunOptionsError } from '../../libs/bosun/src/module/options.js';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { InjectQueue } from '../../libs/bosun/src/queues/inject-queue.js';
import type { QueueClient } from '../../libs/bosun/src/queues/queue-client.js';
import { migrate } from '../../libs/bosun/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLogger } from '../support/nest.js';
import { spawnApp, waitForStatus } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

class Ping {
  @IsString() msg!: string;
}
const pingQueue = defineQueue('ping', { payload: Ping });

class Settings {
  constructor(readonly url: string) {}
}

@Injectable()
class Sender {
  constructor(@InjectQueue(pingQueue) readonly ping: QueueClient<Ping>) {}
}

describe('BosunModule', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('module');
    await migrate(db.url);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('forRootAsync resolves options from injected providers and sends through @InjectQueue', async () => {
    @Module({ providers: [{ provide: Settings, useValue: new Settings(db.url) }], exports: [Settings] })
    class SettingsModule {}
    const { logger } = memoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        BosunModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ connectionString: settings.url, role: 'client' as const, logger }),
          queues: [pingQueue],
        }),
      ],
      providers: [Sender],
    }).compile();
    const app = await moduleRef.init();
    try {
      await app.get(BossService).whenStarted();
      const id = await app.get(Sender).ping.send({ msg: 'hello' });
      const { rows } = await db.pool.query(`SELECT data FROM pgboss.job WHERE id = $1`, [id]);
      expect(rows).toEqual([{ data: { msg: 'hello' } }]);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync refuses bad options from the factory, naming the field', async () => {
    const build = Test.createTestingModule({
      imports: [BosunModule.forRootAsync({ useFactory: () => ({ connectionString: db.url, role: 'boss' as never }) })],
    }).compile();
    await expect(build).rejects.toThrow(new BosunOptionsError('BosunModule option role must be one of scheduler, worker, client, got "boss"', 'role'));
    expect(() => BosunModule.forRoot({ connectionString: 'mysql://x', role: 'client' })).toThrow(/connectionString must be a postgres:\/\/ connection string/);
  });

  it('configures pg-boss per role: cron off everywhere, maintenance on schedulers only, LISTEN/NOTIFY where jobs are consumed', () => {
    const base = { connectionString: db.url };
    const scheduler = bossOptionsFor('scheduler', { ...base, role: 'scheduler' });
    const worker = bossOptionsFor('worker', { ...base, role: 'worker' });
    const client = bossOptionsFor('client', { ...base, role: 'client' });
    expect([scheduler.schedule, worker.schedule, client.schedule]).toEqual([false, false, false]);
    expect([scheduler.migrate, worker.migrate, client.migrate]).toEqual([false, false, false]);
    expect([worker.supervise, client.supervise]).toEqual([false, false]);
    // Workers LISTEN through the worker runtime's own connection (test/integration/worker.spec.ts), not pg-boss's.
    expect([scheduler.useListenNotify, worker.useListenNotify, client.useListenNotify]).toEqual([true, false, false]);
  });

  it('the running apps register with pg-boss in their roles: no cron anywhere, no maintenance on workers, LISTEN on both', async () => {
    const worker = spawnApp('worker', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: 'w1' });
    const scheduler = spawnApp('scheduler', { DATABASE_URL: db.url, BOSUN_INSTANCE_ID: 's1' });
    try {
      await Promise.all([waitForStatus(`${worker.url}/health/ready`, 200), waitForStatus(`${scheduler.url}/health/ready`, 200)]);
      const rows = await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT name, supervise, schedule FROM pgboss.instance WHERE stopped_on IS NULL AND name IN ('worker:w1', 'scheduler:s1') ORDER BY name`);
        return rows.length === 2 ? rows : null;
      }, 'both apps to register with pg-boss');
      expect(rows.map((r) => ({ name: r.name, schedule: r.schedule }))).toEqual([{ name: 'scheduler:s1', schedule: false }, { name: 'worker:w1', schedule: false }]);
      expect(rows.find((r) => r.name === 'worker:w1')!.supervise).toBe(false);
      const listeners = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
      expect(listeners.rows[0].n).toBeGreaterThanOrEqual(2);
    } finally {
      const codes = await Promise.all([worker.stop(), scheduler.stop()]);
      expect(codes.map((c) => c.code)).toEqual([0, 0]);
    }
  });
});
