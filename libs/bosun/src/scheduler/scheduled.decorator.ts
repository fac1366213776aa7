import 'reflect-metadata';
import { normalizeSchedule, type ScheduleDeclaration } from './schedule-definition.js';

export const SCHEDULED_METADATA = Symbol('bosun:scheduled');

/** A declaration that may leave out its queue: on a @Processor class it targets the processor's queue. */
export type ScheduledOptions = ScheduleDeclaration;

/**
 * Declares a schedule on a provider or processor class; several may stack. The leader syncs declarations into
 * the schedule table when it takes over. Timing, zone and policies are checked here, at import, naming the field.
 */
export function Scheduled(options: ScheduledOptions): ClassDecorator {
  // Validates everything but the queue, which may come from @Processor (applied after this one reads it).
  normalizeSchedule(options, typeof options?.queue === 'undefined' ? '__from_processor__' : undefined);
  return (target) => {
    const list: ScheduledOptions[] = Reflect.getOwnMetadata(SCHEDULED_METADATA, target) ?? [];
    Reflect.defineMetadata(SCHEDULED_METADATA, [...list, options], target);
  };
}

export function getScheduledMetadata(target: unknown): ScheduledOptions[] {
  if (typeof target !== 'function') return [];
  return (Reflect.getOwnMetadata(SCHEDULED_METADATA, target) as ScheduledOptions[] | undefined) ?? [];
}

/**
 * The queue of a @Processor class, found by its metadata's description so the scheduler does not depend
 * on the worker runtime's module (either may be loaded without the other).
 */
export function processorQueueOf(target: unknown): string | undefined {
  if (typeof target !== 'function') return undefined;
  for (const key of Reflect.getMetadataKeys(target)) {
    if (typeof key === 'symbol' && key.description === 'bosun:processor') {
      const meta = Reflect.getMetadata(key, target) as { queue?: string | { name?: string } } | undefined;
      const queue = typeof meta?.queue === 'string' ? meta.queue : meta?.queue?.name;
      if (queue) return queue;
    }
  }
  return undefined;
}

/** Schedules a feature module contributes (BosunSchedulesModule.forFeature); found by the scheduler at start. */
export class ScheduleDeclarations {
  constructor(readonly schedules: readonly ScheduleDeclaration[]) {
    for (const s of schedules) normalizeSchedule(s);
  }
}
