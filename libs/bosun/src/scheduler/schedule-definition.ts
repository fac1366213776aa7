import { createHash } from 'node:crypto';
import type { QueueDefinition } from '../queues/define-queue.js';
import { MISFIRE_POLICIES, OVERLAP_POLICIES, POLICY_DEFAULTS, type MisfirePolicy, type OverlapPolicy } from './policies.js';
import { normalizeTiming, ScheduleValidationError, type Timing, type TimingSpec } from './timetable.js';

/** Per-job options a schedule may set on the jobs it sends (the rest come from the queue's declaration). */
export const SCHEDULE_JOB_OPTION_KEYS = [
  'retryLimit', 'retryDelay', 'retryBackoff', 'retryDelayMax', 'expireInSeconds', 'heartbeatSeconds', 'deadLetter',
  'retentionSeconds', 'deleteAfterSeconds', 'singletonKey', 'singletonSeconds',
] as const;
export type ScheduleJobOptions = Partial<Record<(typeof SCHEDULE_JOB_OPTION_KEYS)[number], unknown>>;

/** A schedule as users declare it: in @Scheduled, module options, or at run time through SchedulesService. */
export interface ScheduleDeclaration extends TimingSpec {
  /** Unique name; the key the database, the ledger and the admin API use. */
  name: string;
  /** Target queue; on a @Processor class it defaults to the processor's queue. */
  queue?: string | QueueDefinition<any>;
  /** Job payload (validated against the queue's payload class when the queue is declared in this process). */
  data?: object;
  /** Job priority (higher runs first); default: the queue's. */
  priority?: number;
  jobOptions?: ScheduleJobOptions;
  /** After downtime: skip | latest (default) | all within catchUpSeconds. */
  misfire?: MisfirePolicy;
  catchUpSeconds?: number;
  /** Lateness still counted as on time (default 5 s). */
  misfireGraceSeconds?: number;
  /** When the previous run is still queued or active: allow (default) | skip | queue. */
  overlap?: OverlapPolicy;
  /** false: created paused. A pause made at run time always wins over code. */
  enabled?: boolean;
  description?: string;
}

/** A validated declaration with every default filled in: what sync writes to the table. */
export interface NormalizedSchedule {
  name: string;
  timing: Timing;
  queue: string;
  data: object | null;
  priority: number | null;
  jobOptions: ScheduleJobOptions;
  misfire: MisfirePolicy;
  catchUpSeconds: number;
  misfireGraceSeconds: number;
  overlap: OverlapPolicy;
  enabled: boolean;
  description: string | null;
}

const NAME = /^[\w.\-:/]{1,120}$/;
const QUEUE = /^[\w.\-/]{1,100}$/;

function fail(name: string | undefined, field: string, rule: string, value: unknown): never {
  throw new ScheduleValidationError(`schedule ${name ?? '(unnamed)'}: ${field} ${rule}, got ${JSON.stringify(value)}`, field, name);
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

const KNOWN_KEYS = new Set([
  'name', 'queue', 'data', 'priority', 'jobOptions', 'misfire', 'catchUpSeconds', 'misfireGraceSeconds', 'overlap', 'enabled',
  'description', 'cron', 'every', 'daily', 'weekly', 'monthly', 'tz',
]);

/** Validates a declaration (every field but whether the queue exists, which needs the database). */
export function normalizeSchedule(decl: ScheduleDeclaration, defaultQueue?: string): NormalizedSchedule {
  if (!decl || typeof decl !== 'object') throw new ScheduleValidationError('a schedule must be an object', '(schedule)');
  const name = decl.name;
  if (typeof name !== 'string' || !NAME.test(name)) fail(undefined, 'name', 'must be 1-120 letters, digits, _ . - : or /', name);
  for (const key of Object.keys(decl)) if (!KNOWN_KEYS.has(key)) fail(name, key, 'is not a schedule option', (decl as any)[key]);
  const timing = normalizeTiming(decl, name);
  const queue = typeof decl.queue === 'object' && decl.queue !== null ? decl.queue.name : (decl.queue ?? defaultQueue);
  if (typeof queue !== 'string' || !QUEUE.test(queue)) fail(name, 'queue', 'must name a queue (or the schedule must sit on a @Processor class)', queue);
  if (decl.data !== undefined && (decl.data === null || typeof decl.data !== 'object' || Array.isArray(decl.data))) fail(name, 'data', 'must be an object', decl.data);
  if (decl.priority !== undefined && !isInt(decl.priority, -2_147_483_648, 2_147_483_647)) fail(name, 'priority', 'must be an integer', decl.priority);
  const jobOptions = decl.jobOptions ?? {};
  if (typeof jobOptions !== 'object' || Array.isArray(jobOptions)) fail(name, 'jobOptions', 'must be an object', jobOptions);
  for (const key of Object.keys(jobOptions)) {
    if (!(SCHEDULE_JOB_OPTION_KEYS as readonly string[]).includes(key)) fail(name, `jobOptions.${key}`, `is not a job option (allowed: ${SCHEDULE_JOB_OPTION_KEYS.join(', ')})`, (jobOptions as any)[key]);
  }
  const misfire = decl.misfire ?? POLICY_DEFAULTS.misfire;
  if (!(MISFIRE_POLICIES as readonly string[]).includes(misfire)) fail(name, 'misfire', `must be one of ${MISFIRE_POLICIES.join(', ')}`, misfire);
  const overlap = decl.overlap ?? POLICY_DEFAULTS.overlap;
  if (!(OVERLAP_POLICIES as readonly string[]).includes(overlap)) fail(name, 'overlap', `must be one of ${OVERLAP_POLICIES.join(', ')}`, overlap);
  const catchUpSeconds = decl.catchUpSeconds ?? POLICY_DEFAULTS.catchUpSeconds;
  if (!isInt(catchUpSeconds, 0, 31 * 86400)) fail(name, 'catchUpSeconds', 'must be an integer between 0 and 2678400 (31 days)', catchUpSeconds);
  const misfireGraceSeconds = decl.misfireGraceSeconds ?? POLICY_DEFAULTS.misfireGraceSeconds;
  if (!isInt(misfireGraceSeconds, 0, 86400)) fail(name, 'misfireGraceSeconds', 'must be an integer between 0 and 86400', misfireGraceSeconds);
  if (decl.enabled !== undefined && typeof decl.enabled !== 'boolean') fail(name, 'enabled', 'must be true or false', decl.enabled);
  if (decl.description !== undefined && (typeof decl.description !== 'string' || decl.description.length > 500)) fail(name, 'description', 'must be a string of at most 500 characters', decl.description);
  return {
    name,
    timing,
    queue,
    data: decl.data ? { ...decl.data } : null,
    priority: decl.priority ?? null,
    jobOptions: { ...jobOptions },
    misfire,
    catchUpSeconds,
    misfireGraceSeconds,
    overlap,
    enabled: decl.enabled ?? true,
    description: decl.description ?? null,
  };
}

/** Fingerprint of what code declares, so a sync only rewrites rows whose declaration changed. */
export function declarationHash(s: NormalizedSchedule): string {
  const { enabled: _enabled, ...rest } = s;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** Refuses a schedule whose queue does not exist, naming the field. */
export function checkQueueKnown(s: Pick<NormalizedSchedule, 'name' | 'queue'>, known: ReadonlySet<string>): void {
  if (!known.has(s.queue)) {
    throw new ScheduleValidationError(`schedule ${s.name}: queue ${JSON.stringify(s.queue)} does not exist: declare it with defineQueue and BosunModule.forFeature`, 'queue', s.name);
  }
}
