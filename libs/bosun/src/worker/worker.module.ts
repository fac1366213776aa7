import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobErrors } from './job-errors.js';
import { WorkerRuntime } from './worker.service.js';

/** The worker runtime, imported by BosunModule in every role; it runs processors only when role === 'worker'. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [WorkerRuntime, JobErrors],
  exports: [WorkerRuntime, JobErrors],
})
export class BosunWorkerModule {}
