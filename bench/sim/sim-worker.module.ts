import { Inject, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BosunConfig } from '../../libs/bosun/src/config/config.js';
import { BosunHealthModule } from '../../libs/bosun/src/health/health.module.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import { optionsFromConfig } from '../../libs/bosun/src/module/options.js';
import { BOSUN_OPTIONS, type BosunModuleOptions } from '../../libs/bosun/src/module/options.js';
import type { Job } from '../../libs/bosun/src/worker/job.js';
import { Processor } from '../../libs/bosun/src/worker/processor.decorator.js';
import { simQueue, type SimJob } from './sim-queue.js';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms === 0) return resolve();
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

@Processor(simQueue, { concurrency: 5 })
export class SimProcessor {
  constructor(@Inject(BOSUN_OPTIONS) private readonly options: BosunModuleOptions) {}

  async process(job: Job<SimJob>) {
    await sleep(job.data.stallFirstAttempt && job.attempt === 1 ? 600_000 : job.data.ms, job.signal);
    // Which worker completed which attempt: the tests count on it.
    return { instance: this.options.instanceId, attempt: job.attempt };
  }
}

@Module({ imports: [BosunModule.forFeature([simQueue])], providers: [SimProcessor] })
export class SimModule {}

/** A worker app serving the `sim` queue, as apps/worker serves the examples. */
@Module({})
export class SimWorkerAppModule {
  static register(config: BosunConfig, logger: Logger): DynamicModule {
    return {
      module: SimWorkerAppModule,
      imports: [
        BosunModule.forRoot(optionsFromConfig(config, 'worker', logger)),
        BosunHealthModule,
        SimModule,
      ],
    };
  }
}
