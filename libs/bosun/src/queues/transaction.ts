import type { Db } from 'pg-boss';

/** Anything with pg's `query(text, values)`: a PoolClient inside BEGIN, a Knex/TypeORM raw client, or a pg-boss Db. */
export type TransactionLike = { query(text: string, values?: unknown[]): Promise<{ rows: any[] }> } | Db;

/** Adapts the caller's transaction so pg-boss writes the job on that same connection (rolled back with it). */
export function toBossDb(db: TransactionLike | undefined): Db | undefined {
  if (!db) return undefined;
  if ('executeSql' in db && typeof db.executeSql === 'function') return db;
  if ('query' in db && typeof db.query === 'function') {
    return { executeSql: (text: string, values?: unknown[]) => db.query(text, values) };
  }
  throw new TypeError('send option db must be a pg client (with query()) or a pg-boss Db (with executeSql())');
}
