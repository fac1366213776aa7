import type { Type } from '@nestjs/common';
import { BosunMetricsModule } from '../metrics/metrics.module.js';
import { BosunWorkerModule } from '../worker/worker.module.js';
import { BosunSchedulerModule } from '../scheduler/scheduler.module.js';

/**
 * Modules BosunModule imports for every role; each one's services check the role at start and stay
 * idle outside it, so forRootAsync (whose role is only known at run time) works the same as forRoot.
 */
export const ROLE_MODULES: Type[] = [
  // worker runtime (issue 3)
  BosunWorkerModule,

  // scheduler (issue 4)
  BosunSchedulerModule,

  // operations: metrics (issue 5)
  BosunMetricsModule,
];
