import { Module } from '@nestjs/common';
import { BosunModule } from '../../bosun/src/module/bosun.module.js';
import { EXAMPLE_QUEUES } from './jobs.js';

/** The seed teams' jobs as one feature module; both apps load it by default. */
@Module({
  imports: [BosunModule.forFeature(EXAMPLE_QUEUES)],
})
export class ExamplesModule {}
