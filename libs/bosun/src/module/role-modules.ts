import type { Type } from '@nestjs/common';
import { BosunSchedulerModule } from '../scheduler/scheduler.module.js';

/**
 * Modules BosunModule imports for every role; each one's services check the role at start and stay
 * idle outside it, so forRootAsync (whose role is only known at run time) works the same as forRoot.
 */
export const ROLE_MODULES: Type[] = [
  // worker runtime (issue 3)

  // scheduler (issue 4)
  BosunSchedulerModule,

  // operations: metrics (issue 5)
];
