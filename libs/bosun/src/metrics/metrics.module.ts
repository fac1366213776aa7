import { Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LeadershipState } from '../health/leadership.js';
import { ServedQueues } from '../health/served-queues.js';
import { MetricsController } from './metrics.controller.js';
import { BosunMetrics } from './metrics.service.js';
import { QueueMetricsPublisher } from './queue-metrics.publisher.js';

/**
 * Operations for every role: /metrics, the queue gauge publisher, and the state health probes read
 * (leadership, served queues). Global so the health module, the worker runtime and the scheduler can inject them.
 */
@Global()
@Module({
  imports: [ScheduleModule.forRoot()],
  controllers: [MetricsController],
  providers: [BosunMetrics, QueueMetricsPublisher, LeadershipState, ServedQueues],
  exports: [BosunMetrics, QueueMetricsPublisher, LeadershipState, ServedQueues],
})
export class BosunMetricsModule {}
