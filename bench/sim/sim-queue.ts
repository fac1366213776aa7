import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';

/** A simulated job for end-to-end tests and benchmarks: sleeps `ms` (honouring the abort signal). */
export class SimJob {
  @IsString() @MaxLength(100) label!: string;
  @IsInt() @Min(0) @Max(600_000) ms!: number;
  /** The first attempt takes ten minutes: it ends only by kill, drain or timeout; retries take `ms`. */
  @IsOptional() @IsBoolean() stallFirstAttempt?: boolean;
}

export const simQueue = defineQueue('sim', { payload: SimJob, retryLimit: 3, heartbeatSeconds: 10, expireInSeconds: 900 });
