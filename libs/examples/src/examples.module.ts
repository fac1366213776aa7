import { Module } from '@nestjs/common';
import { BosunModule } from '../../bosun/src/module/bosun.module.js';
import { BosunSchedulesModule } from '../../bosun/src/scheduler/scheduler.module.js';
import { EXAMPLE_QUEUES } from './jobs.js';
import { EXAMPLE_PROCESSORS } from './processors.js';
import { EXAMPLE_SCHEDULES } from './schedules.js';

/** The seed teams' jobs and their processors as one feature module; both apps load it (processors run only in workers). */
@Module({
  imports: [BosunModule.forFeature(EXAMPLE_QUEUES), BosunSchedulesModule.forFeature(EXAMPLE_SCHEDULES)],
  providers: [...EXAMPLE_PROCESSORS],
})
export class ExamplesModule {}
