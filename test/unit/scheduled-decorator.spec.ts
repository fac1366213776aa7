import 'reflect-metadata';
import { getScheduledMetadata, processorQueueOf, Scheduled } from '../../libs/bosun/src/scheduler/scheduled.decorator.js';
import { normalizeSchedule } from '../../libs/bosun/src/scheduler/schedule-definition.js';
import { ScheduleValidationError } from '../../libs/bosun/src/scheduler/timetable.js';

/** What the worker runtime's @Processor leaves on a class (its own symbol, described 'bosun:processor'). */
const PROCESSOR = Symbol('bosun:processor');
function FakeProcessor(queue: string): ClassDecorator {
  return (target) => Reflect.defineMetadata(PROCESSOR, { queue: { name: queue, options: {} } }, target);
}

describe('@Scheduled', () => {
  it('stacks, and on a processor class targets the processor queue', () => {
    @Scheduled({ name: 'digest', cron: '0 8 * * *', tz: 'Europe/London' })
    @Scheduled({ name: 'digest-weekly', weekly: { on: 'mon', at: '09:00' }, queue: 'reports' })
    @FakeProcessor('email')
    class EmailProcessor {}
    const declared = getScheduledMetadata(EmailProcessor).map((d) => normalizeSchedule(d, processorQueueOf(EmailProcessor)));
    expect(declared.map((d) => [d.name, d.queue]).sort()).toEqual([['digest', 'email'], ['digest-weekly', 'reports']]);
  });

  it('refuses a bad declaration at import, naming the field', () => {
    let caught: unknown;
    try {
      @Scheduled({ name: 'broken', cron: '0 8 * *', queue: 'email' })
      class Broken {}
      void Broken;
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScheduleValidationError);
    expect((caught as ScheduleValidationError).field).toBe('cron');
  });

  it('a plain provider has no processor queue', () => {
    class Plain {}
    expect(processorQueueOf(Plain)).toBeUndefined();
    expect(getScheduledMetadata(Plain)).toEqual([]);
  });
});
