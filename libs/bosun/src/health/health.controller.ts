import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BosunHealthIndicators } from './indicators.js';

/** The three Kubernetes probes: live (process only), ready (can take work), startup (schema and pg-boss up). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: BosunHealthIndicators,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.process()]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.indicators.notDraining(), () => this.indicators.queue(), () => this.indicators.database()]);
  }

  @Get('startup')
  @HealthCheck()
  startup() {
    return this.health.check([() => this.indicators.schema(), () => this.indicators.queue()]);
  }
}
