import pg from 'pg';
import type { Logger } from 'pino';
import * as sql from './leader.sql.js';

export const LEADER_DEFAULTS = {
  leaseSeconds: 10,
  /** How often a standby tries the lock (a resigning leader's NOTIFY wakes it sooner). */
  retryMs: 250,
};

export interface LeaderState {
  isLeader: boolean;
  term: number | null;
  /** When this process became leader (its own clock). */
  since: Date | null;
}

export interface LeaderElectorOptions {
  connectionString: string;
  instanceId: string;
  leaseSeconds?: number;
  retryMs?: number;
  logger?: Logger;
  /** Called once per won term (not awaited by the heartbeat); a rejection gives the term up. */
  onElected?: (term: number) => Promise<void> | void;
  /** Called when leadership ends for any reason (resigned, lock lost, heartbeat failed). Must stop firing at once. */
  onDeposed?: (term: number, reason: string) => Promise<void> | void;
  /** NOTIFY payloads on other channels this elector LISTENs to for its owner (e.g. schedule changes). */
  channels?: string[];
  onNotification?: (channel: string, payload: string | undefined) => void;
}

const monotonicMs = () => performance.now();

/**
 * Leader election over a session advisory lock on a dedicated connection. The winner takes a new term.
 * The server ends a silent session after the lease (idle_session_timeout, keepalives, tcp_user_timeout),
 * which releases the lock; the leader heartbeats on that connection and treats itself as leader only
 * until sentAt(last good heartbeat) + lease - heartbeat interval: a frozen process wakes up unconfirmed.
 * start()/stop() are safe to call twice.
 */
export class LeaderElector {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  private readonly retryMs: number;
  private client?: pg.Client;
  private state: LeaderState = { isLeader: false, term: null, since: null };
  private confirmedUntil = 0;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private clockOffsetMs = 0;

  constructor(private readonly options: LeaderElectorOptions) {
    this.leaseMs = (options.leaseSeconds ?? LEADER_DEFAULTS.leaseSeconds) * 1000;
    this.heartbeatMs = Math.max(250, Math.floor(this.leaseMs / 4));
    this.retryMs = options.retryMs ?? LEADER_DEFAULTS.retryMs;
  }

  get status(): LeaderState {
    return { ...this.state };
  }

  /** True only while leader and the lock was confirmed recently enough that the server cannot have dropped it. */
  isConfirmed(): boolean {
    return this.state.isLeader && monotonicMs() < this.confirmedUntil;
  }

  /** The leader's term while confirmed, else null: callers fire only with a term in hand. */
  confirmedTerm(): number | null {
    return this.isConfirmed() ? this.state.term : null;
  }

  /** Database clock minus this process's clock, measured on each heartbeat (the database is the clock). */
  get dbClockOffsetMs(): number {
    return this.clockOffsetMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Resigns (unlock + NOTIFY so a standby takes over at once) and closes the connection. */
  async stop(): Promise<void> {
    if (!this.running) {
      await this.loop;
      return;
    }
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private log(level: 'info' | 'warn' | 'debug', data: object, message: string): void {
    this.options.logger?.[level]({ instance: this.options.instanceId, ...data }, message);
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: `bosun-leader:${this.options.instanceId}`.slice(0, 63),
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.max(1000, Math.floor(this.leaseMs / 3)),
      connectionTimeoutMillis: this.leaseMs,
      query_timeout: Math.max(1000, this.leaseMs - this.heartbeatMs),
    });
    client.on('error', (error) => {
      this.log('warn', { err: error.message }, 'leader connection lost');
      void this.lose(client, `connection lost: ${error.message}`);
    });
    client.on('end', () => void this.lose(client, 'connection ended'));
    client.on('notification', (msg) => {
      if (msg.channel === sql.LEADER_CHANNEL) {
        if (msg.payload === 'resigned' && !this.state.isLeader) this.wake?.();
      } else {
        this.options.onNotification?.(msg.channel, msg.payload);
      }
    });
    await client.connect();
    await client.query(sql.leaseSessionSettings(this.leaseMs / 1000));
    await client.query(`LISTEN ${sql.LEADER_CHANNEL}`);
    for (const channel of this.options.channels ?? []) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return client;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.client) this.client = await this.connect();
        if (this.state.isLeader) {
          await this.heartbeat(this.client);
          if (this.running && this.state.isLeader) await this.sleep(this.heartbeatMs);
        } else {
          const won = await this.tryAcquire(this.client);
          if (!won && this.running) await this.sleep(this.retryMs);
        }
      } catch (error) {
        const client = this.client;
        if (client) await this.lose(client, `heartbeat failed: ${(error as Error).message}`);
        if (this.running) await this.sleep(this.retryMs);
      }
    }
    await this.resign();
  }

  private async tryAcquire(client: pg.Client): Promise<boolean> {
    const sentAt = monotonicMs();
    const { rows } = await client.query(sql.TRY_LOCK, [sql.LEADER_LOCK_KEY]);
    if (!rows[0].locked) return false;
    const { rows: [taken] } = await client.query(sql.TAKE_TERM, [this.options.instanceId]);
    const term = taken.term as number;
    this.state = { isLeader: true, term, since: new Date() };
    this.confirmedUntil = sentAt + this.leaseMs - this.heartbeatMs;
    await client.query(`SELECT pg_notify($1, $2)`, [sql.LEADER_CHANNEL, `elected:${term}:${this.options.instanceId}`]);
    this.log('info', { term }, 'became leader');
    // Not awaited: the heartbeat must go on while the owner starts up (a silent session would lose the lock).
    Promise.resolve()
      .then(() => this.options.onElected?.(term))
      .catch((error) => {
        this.log('warn', { term, err: (error as Error).message }, 'leader start-up failed; giving up this term');
        if (this.client === client && this.state.term === term) void this.lose(client, `start-up failed: ${(error as Error).message}`);
      });
    return true;
  }

  private async heartbeat(client: pg.Client): Promise<void> {
    const sentAt = monotonicMs();
    const sentWall = Date.now();
    const { rows: [row] } = await client.query(sql.HEARTBEAT, [sql.LEADER_LOCK_KEY]);
    const receivedWall = Date.now();
    this.clockOffsetMs = row.db_now_ms - (sentWall + receivedWall) / 2;
    if (!row.holds_lock || row.term !== this.state.term) {
      await this.lose(client, !row.holds_lock ? 'lock no longer held' : `term moved on to ${row.term}`);
      return;
    }
    this.confirmedUntil = sentAt + this.leaseMs - this.heartbeatMs;
  }

  /** Leadership ends: stop confirming at once, tell the owner, drop the connection (which frees a lock it still had). */
  private async lose(client: pg.Client, reason: string): Promise<void> {
    if (this.client === client) this.client = undefined;
    client.removeAllListeners('end');
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    await this.depose(reason);
  }

  private async depose(reason: string): Promise<void> {
    if (!this.state.isLeader) return;
    const term = this.state.term!;
    this.confirmedUntil = 0;
    this.state = { isLeader: false, term: null, since: null };
    this.log('warn', { term, reason }, 'lost leadership');
    try {
      await this.options.onDeposed?.(term, reason);
    } catch (error) {
      this.log('warn', { err: (error as Error).message }, 'leader stop hook failed');
    }
  }

  /** Graceful hand-over: stop firing first, then unlock and NOTIFY so a standby takes over without waiting a retry. */
  private async resign(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (this.state.isLeader) {
      const term = this.state.term!;
      this.confirmedUntil = 0;
      this.state = { isLeader: false, term: null, since: null };
      try {
        await this.options.onDeposed?.(term, 'resigned');
      } catch (error) {
        this.log('warn', { err: (error as Error).message }, 'leader stop hook failed');
      }
      if (client) {
        try {
          await client.query(sql.UNLOCK, [sql.LEADER_LOCK_KEY]);
          await client.query(`SELECT pg_notify($1, 'resigned')`, [sql.LEADER_CHANNEL]);
        } catch (error) {
          this.log('warn', { err: (error as Error).message }, 'could not release the leader lock; the server frees it when the session ends');
        }
      }
      this.log('info', { term }, 'resigned leadership');
    }
    if (client) {
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}

/** Who leads now, from the table and the lock (for status pages and the CLI; any role may ask). */
export async function readLeaderStatus(db: { query: pg.Pool['query'] } | pg.Pool): Promise<{ term: number; holder: string | null; since: Date | null; held: boolean }> {
  const { rows: [row] } = await (db as pg.Pool).query(sql.STATUS, [sql.LEADER_LOCK_KEY]);
  return { term: row.term, holder: row.holder, since: row.since, held: row.held };
}
