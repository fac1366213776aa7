import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Logger } from 'pino';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { LeaderService, type LeaderDuty } from '../leader/leader.service.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, OPTION_DEFAULTS, type BosunModuleOptions } from '../module/options.js';
import { QueueRegistry } from '../queues/queue-registry.js';
import { BosunEvents } from '../runtime/events.js';
import { checkQueueKnown, normalizeSchedule, type NormalizedSchedule, type ScheduleDeclaration } from './schedule-definition.js';
import { ScheduleRunner } from './schedule-runner.js';
import { getScheduledMetadata, processorQueueOf, ScheduleDeclarations } from './scheduled.decorator.js';
import { checkScheduleData, SchedulesService } from './schedules.service.js';
import { ScheduleValidationError } from './timetable.js';

/** Finds every code declaration: module options, @Scheduled classes, BosunSchedulesModule.forFeature lists. */
export function discoverSchedules(discovery: DiscoveryService, options: BosunModuleOptions): { schedules: NormalizedSchedule[]; processorQueues: string[] } {
  const found: NormalizedSchedule[] = [];
  const processorQueues: string[] = [];
  const seen = new Map<string, string>();
  const add = (decl: ScheduleDeclaration, where: string, defaultQueue?: string) => {
    const s = normalizeSchedule(decl, defaultQueue);
    const other = seen.get(s.name);
    if (other !== undefined && other !== where) {
      throw new ScheduleValidationError(`schedule ${s.name}: name is declared twice (${other} and ${where})`, 'name', s.name);
    }
    if (other === undefined) found.push(s);
    seen.set(s.name, where);
  };
  for (const decl of options.schedules ?? []) add(decl, 'BosunModule options');
  const classes = new Set<Function>();
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as unknown;
    if (instance instanceof ScheduleDeclarations) for (const decl of instance.schedules) add(decl, `module ${wrapper.host?.name ?? '?'}`);
    const metatype = (wrapper.metatype ?? (instance as object | undefined)?.constructor) as Function | undefined;
    if (typeof metatype !== 'function' || classes.has(metatype)) continue;
    classes.add(metatype);
    const processorQueue = processorQueueOf(metatype);
    if (processorQueue) processorQueues.push(processorQueue);
    for (const decl of getScheduledMetadata(metatype)) add(decl, `@Scheduled on ${metatype.name}`, processorQueue);
  }
  return { schedules: found, processorQueues };
}

/**
 * The scheduler role: discovers code schedules at start (refusing bad ones), and while this process leads,
 * syncs them into the table and runs the schedule runner. Idle in other roles.
 */
@Injectable()
export class SchedulerService implements OnModuleInit, OnApplicationBootstrap, LeaderDuty {
  private declared: NormalizedSchedule[] = [];
  readonly runner: ScheduleRunner;

  constructor(
    @Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions,
    @Inject(BOSUN_LOGGER) private readonly logger: Logger,
    private readonly discovery: DiscoveryService,
    private readonly leader: LeaderService,
    private readonly schedules: SchedulesService,
    private readonly registry: QueueRegistry,
    private readonly db: BosunDatabase,
    private readonly bossService: BossService,
    private readonly events: BosunEvents,
  ) {
    this.runner = new ScheduleRunner({
      pool: db.pool,
      boss: () => bossService.boss,
      logger,
      events,
      confirmedTerm: () => leader.elector.confirmedTerm(),
      clockOffsetMs: () => leader.elector.dbClockOffsetMs,
      queuePriority: (queue) => registry.get(queue)?.options.priority,
      leaseMs: (options.leaseSeconds ?? OPTION_DEFAULTS.leaseSeconds) * 1000,
    });
  }

  /** Code schedules this process declares (validated). */
  get declarations(): readonly NormalizedSchedule[] {
    return this.declared;
  }

  /** Runs before anything starts (onApplicationBootstrap), so a bad declaration stops start-up cleanly. */
  onModuleInit(): void {
    if (this.options.role !== 'scheduler') return;
    const { schedules, processorQueues } = discoverSchedules(this.discovery, this.options);
    // A code schedule must target a queue this app declares: a typo stops start-up, naming the field.
    const known = new Set([...this.registry.names(), ...processorQueues]);
    for (const s of schedules) {
      checkQueueKnown(s, known);
      checkScheduleData(s, this.registry);
    }
    this.declared = schedules;
  }

  onApplicationBootstrap(): void {
    if (this.options.role !== 'scheduler') return;
    this.leader.addDuty(this);
    this.leader.onNotification('bosun_schedule', (payload) => this.runner.changed(payload));
  }

  async startLeading(term: number): Promise<void> {
    const result = await this.schedules.syncDeclared(this.declared);
    this.logger.info({ term, ...result, declared: this.declared.length }, 'schedules synced');
    // Leadership may have ended during the sync; a runner started now would outlive its term.
    if (this.leader.elector.status.term !== term) return;
    await this.runner.start(term);
  }

  async stopLeading(): Promise<void> {
    await this.runner.stop();
  }
}
