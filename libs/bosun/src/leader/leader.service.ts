import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions } from '../module/options.js';
import { BosunEvents } from '../runtime/events.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { LeaderElector, readLeaderStatus, type LeaderState } from './leader-elector.js';

/** Work only the leader does; started when a term is won, stopped (and awaited) before the lock is released. */
export interface LeaderDuty {
  startLeading(term: number): Promise<void> | void;
  stopLeading(term: number, reason: string): Promise<void> | void;
}

export const LEADER_SERVICE_DEFAULTS = {
  /** pg-boss maintenance (retention, expiry, dead instances) pass, run by the leader only. */
  superviseIntervalSeconds: 60,
};

export interface ClusterLeaderStatus {
  /** This process. */
  self: LeaderState & { instanceId: string; confirmed: boolean };
  /** The table and the lock: who leads the cluster. */
  cluster: { term: number; holder: string | null; since: Date | null; held: boolean };
}

/**
 * The scheduler role's leader election as a Nest service: idle outside the scheduler role; otherwise
 * races for leadership once pg-boss runs, hands the term to registered duties, runs pg-boss maintenance
 * while leader, and resigns on SIGTERM after the duties stopped.
 */
@Injectable()
export class LeaderService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly elector: LeaderElector;
  private readonly duties: LeaderDuty[] = [];
  private readonly notificationHandlers = new Map<string, Array<(payload: string | undefined) => void>>();
  private superviseTimer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;
  readonly instanceId: string;

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Inject(BOSUN_LOGGER) private readonly logger: Logger,
    private readonly bossService: BossService,
    private readonly db: BosunDatabase,
    private readonly events: BosunEvents,
    private readonly lifecycle: Lifecycle,
  ) {
    this.instanceId = options.instanceId ?? `scheduler-${process.pid}`;
    this.elector = new LeaderElector({
      connectionString: options.connectionString,
      instanceId: this.instanceId,
      leaseSeconds: options.leaseSeconds ?? OPTION_DEFAULTS.leaseSeconds,
      logger,
      channels: ['bosun_schedule'],
      onNotification: (channel, payload) => {
        for (const handler of this.notificationHandlers.get(channel) ?? []) handler(payload);
      },
      onElected: (term) => this.elected(term),
      onDeposed: (term, reason) => this.deposed(term, reason),
    });
  }

  get isLeader(): boolean {
    return this.elector.status.isLeader;
  }

  /** Register work only the leader does (the schedule runner). */
  addDuty(duty: LeaderDuty): void {
    this.duties.push(duty);
  }

  /** NOTIFY payloads on a channel this process LISTENs to on its lock connection (bosun_schedule). */
  onNotification(channel: 'bosun_schedule', handler: (payload: string | undefined) => void): void {
    const list = this.notificationHandlers.get(channel) ?? [];
    list.push(handler);
    this.notificationHandlers.set(channel, list);
  }

  async status(): Promise<ClusterLeaderStatus> {
    const s = this.elector.status;
    return {
      self: { ...s, instanceId: this.instanceId, confirmed: this.elector.isConfirmed() },
      cluster: await readLeaderStatus(this.db.pool),
    };
  }

  onApplicationBootstrap(): void {
    if (this.options.role !== 'scheduler') return;
    this.lifecycle.register({ drain: () => this.stop() });
    void this.start();
  }

  /** Starts racing once pg-boss runs (the schema is current then). Safe to call twice. */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    for (;;) {
      try {
        await this.bossService.whenStarted(60_000);
        break;
      } catch (error) {
        // Stopped (or a fatal start-up error): nothing to lead; otherwise keep waiting, without spinning.
        if (this.stopped || /stopped|declared|could not be created/.test((error as Error).message)) return;
        this.logger.warn({ err: (error as Error).message }, 'leader election waits for bosun to start');
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
    if (!this.stopped) this.elector.start();
  }

  private async elected(term: number): Promise<void> {
    this.events.emit('leader.changed', { isLeader: true, term, instanceId: this.instanceId, reason: 'elected' });
    this.logger.info({ term, leader: this.instanceId }, 'leadership: this instance leads');
    this.startSupervising();
    for (const duty of this.duties) await duty.startLeading(term);
  }

  private async deposed(term: number, reason: string): Promise<void> {
    this.stopSupervising();
    await Promise.allSettled(this.duties.map((duty) => duty.stopLeading(term, reason)));
    this.events.emit('leader.changed', { isLeader: false, term, instanceId: this.instanceId, reason });
    this.logger.info({ term, reason }, 'leadership: this instance no longer leads');
  }

  /** pg-boss maintenance runs on the leader only (supervise: false in every process, a pass here per interval). */
  private startSupervising(): void {
    this.stopSupervising();
    const pass = () => {
      if (!this.elector.isConfirmed()) return;
      this.bossService.boss.supervise().catch((error) => this.logger.warn({ err: (error as Error).message }, 'pg-boss maintenance failed'));
    };
    pass();
    this.superviseTimer = setInterval(pass, LEADER_SERVICE_DEFAULTS.superviseIntervalSeconds * 1000);
    this.superviseTimer.unref();
  }

  private stopSupervising(): void {
    if (this.superviseTimer) clearInterval(this.superviseTimer);
    this.superviseTimer = undefined;
  }

  /** Resigns: duties stop first, then the lock is released and standbys are woken. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.elector.stop();
    this.stopSupervising();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
