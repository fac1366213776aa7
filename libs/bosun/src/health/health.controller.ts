import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BosunHealthIndicators } from './indicators.js';

/**
 * The three Kubernetes probes. live: the process and its event loop, never the database (a slow database must
 * not restart every pod). ready: can take work (database, pg-boss, not draining; backlog and leadership as
 * details). startup: schema checked and pg-boss started.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: BosunHealthIndicators,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.process(), () => this.indicators.eventLoop()]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.indicators.readinessChecks());
  }

  @Get('startup')
  @HealthCheck()
  startup() {
    return this.health.check([() => this.indicators.schema(), () => this.indicators.queue()]);
  }
}
