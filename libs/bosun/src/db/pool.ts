import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
  /** Session settings sent at connect (libpq `options`, e.g. '-c enable_bitmapscan=off'). */
  options?: string;
  /** Called for errors on idle clients (a Postgres restart); without a listener pg would crash the process. */
  onError?: (error: Error) => void;
}

/** One pg pool per process: pg-boss and bosun's own queries share it. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'bosun',
    options: options.options,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/** Something that can run a parameterised query: a pool, a client, or a caller's transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Runs fn inside BEGIN/COMMIT on one client, rolling back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // pg-pool takes its idle 'error' listener off a checked-out client: a connection cut mid-transaction would emit it unheard and end the process.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', onError);
    // A lost connection is discarded rather than handed to the next caller.
    client.release(lost);
  }
}

/**
 * One connection in pipeline mode, (re)connected on demand: statements sent back to back wait in Postgres's input
 * rather than in this process, so the next starts the moment the last commits, and they never run side by side.
 */
export class PipelinedConnection implements Queryable {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private ended = false;

  constructor(
    private readonly options: Omit<PoolOptions, 'max'>,
  ) {}

  async query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = this.client ?? (await this.connect());
    return client.query<R>(text, values);
  }

  private connect(): Promise<pg.Client> {
    if (this.ended) return Promise.reject(new Error('connection closed'));
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.options.connectionString,
        application_name: this.options.applicationName ?? 'bosun',
        options: this.options.options,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        pipeline: true,
      } as pg.ClientConfig);
      // A lost connection fails the statements on it; the next query opens a new one.
      client.on('error', (error) => {
        this.options.onError?.(error);
        this.discard(client);
      });
      client.on('end', () => this.discard(client));
      try {
        await client.connect();
      } catch (error) {
        this.discard(client);
        throw error;
      } finally {
        this.connecting = undefined;
      }
      if (this.ended) {
        await client.end().catch(() => undefined);
        throw new Error('connection closed');
      }
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  private discard(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
  }

  /** Safe to call twice. */
  async end(): Promise<void> {
    this.ended = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
