import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LeaderService } from '../leader/leader.service.js';
import type { ScheduleDeclaration } from './schedule-definition.js';
import { ScheduleDeclarations } from './scheduled.decorator.js';
import { SchedulerService } from './scheduler.service.js';
import { SchedulesService } from './schedules.service.js';

/** The scheduler role module (BosunModule imports it for every role; its services idle outside 'scheduler'). */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [LeaderService, SchedulesService, SchedulerService],
  exports: [LeaderService, SchedulesService, SchedulerService],
})
export class BosunSchedulerModule {}

let featureCount = 0;

/** Schedules a feature module declares in code (like forFeature for queues); the leader syncs them. */
@Module({})
export class BosunSchedulesModule {
  static forFeature(schedules: ScheduleDeclaration[]): DynamicModule {
    const token = `BOSUN_SCHEDULES_${featureCount++}`;
    return {
      module: BosunSchedulesModule,
      providers: [{ provide: token, useValue: new ScheduleDeclarations(schedules) }],
    };
  }
}
