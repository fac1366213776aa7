import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { BOSUN_LOGGER, BOSUN_OPTIONS, type BosunModuleOptions } from '../module/options.js';
import { createPool, type Pool } from './pool.js';

/** bosun's own pool (schedules, ledger, health); pg-boss keeps a pool of its own for LISTEN/NOTIFY. */
@Injectable()
export class BosunDatabase implements OnApplicationShutdown {
  readonly pool: Pool;
  private closed = false;

  constructor(@Inject(BOSUN_OPTIONS) options: BosunModuleOptions, @Inject(BOSUN_LOGGER) logger: Logger) {
    this.pool = createPool({
      connectionString: options.connectionString,
      max: 4,
      applicationName: `bosun-${options.role}`,
      onError: (error) => logger.warn({ err: error.message }, 'database connection lost'),
    });
  }

  /** Cheap round trip for readiness; rejects when the database does not answer. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
