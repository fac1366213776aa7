import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { BosunHealthIndicators } from './indicators.js';

/** Serves /health/live, /health/ready and /health/startup; exports the indicators for your own checks. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [BosunHealthIndicators],
  exports: [BosunHealthIndicators],
})
export class BosunHealthModule {}
