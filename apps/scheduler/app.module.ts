import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BosunConfig } from '../../libs/bosun/src/config/config.js';
import { BosunHealthModule } from '../../libs/bosun/src/health/health.module.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import { optionsFromConfig } from '../../libs/bosun/src/module/options.js';
import { ExamplesModule } from '../../libs/examples/src/examples.module.js';

/** The scheduler app: a thin root over the library with role 'scheduler'. */
@Module({})
export class SchedulerAppModule {
  static register(config: BosunConfig, logger: Logger): DynamicModule {
    return {
      module: SchedulerAppModule,
      imports: [
        BosunModule.forRoot(optionsFromConfig(config, 'scheduler', logger)),
        BosunHealthModule,
        ExamplesModule,
      ],
    };
  }
}
