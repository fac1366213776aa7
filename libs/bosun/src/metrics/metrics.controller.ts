import { Controller, Get, Res } from '@nestjs/common';
import { BosunMetrics } from './metrics.service.js';

interface TextResponse {
  setHeader(name: string, value: string): void;
  send(body: string): void;
}

/** GET /metrics: Prometheus text format, every name prefixed bosun_. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: BosunMetrics) {}

  @Get('metrics')
  async scrape(@Res() res: TextResponse): Promise<void> {
    const body = await this.metrics.render();
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(body);
  }
}
