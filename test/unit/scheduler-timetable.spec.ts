import 'reflect-metadata';
import { compileTiming, dueBetween, normalizeTiming, preview, ScheduleValidationError, type TimingSpec } from '../../libs/bosun/src/scheduler/timetable.js';
import { normalizeSchedule } from '../../libs/bosun/src/scheduler/schedule-definition.js';

/** The next n due instants after `from`, as ISO strings (the stubbed clock is `from`). */
function next(spec: TimingSpec, from: string, n = 3): string[] {
  return preview(spec, n, new Date(from)).map((e) => e.at.toISOString());
}
function nextLocal(spec: TimingSpec, from: string, n = 3): string[] {
  return preview(spec, n, new Date(from)).map((e) => e.local);
}

describe('cron maths', () => {
  it('reads 5 fields at minute precision and 6 fields with seconds', () => {
    expect(next({ cron: '*/15 * * * *' }, '2026-01-01T00:07:00Z')).toEqual(['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z', '2026-01-01T00:45:00.000Z']);
    expect(next({ cron: '*/20 * * * * *' }, '2026-01-01T00:00:00Z')).toEqual(['2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z', '2026-01-01T00:01:00.000Z']);
  });

  it('is strictly after the given instant', () => {
    expect(next({ cron: '0 * * * *' }, '2026-01-01T05:00:00Z', 1)).toEqual(['2026-01-01T06:00:00.000Z']);
  });

  it('treats day-of-month and day-of-week as OR, like Vixie cron', () => {
    // the 13th, or any Friday, in Feb 2026 (Fridays: 6, 13, 20, 27)
    expect(next({ cron: '0 0 13 * 5' }, '2026-02-01T00:00:00Z', 4)).toEqual([
      '2026-02-06T00:00:00.000Z', '2026-02-13T00:00:00.000Z', '2026-02-20T00:00:00.000Z', '2026-02-27T00:00:00.000Z',
    ]);
  });
});

describe('DST rule: a nonexistent local time runs once at the next valid instant; an ambiguous one runs once', () => {
  it('Europe/London spring-forward (01:00 GMT -> 02:00 BST on 2026-03-29): 01:30 runs once at 02:00 BST', () => {
    expect(nextLocal({ cron: '30 1 * * *', tz: 'Europe/London' }, '2026-03-28T12:00:00Z')).toEqual([
      '2026-03-29 02:00:00 +01:00', '2026-03-30 01:30:00 +01:00', '2026-03-31 01:30:00 +01:00',
    ]);
    // the same rule for daily-at schedules
    expect(next({ daily: { at: '01:30' }, tz: 'Europe/London' }, '2026-03-28T12:00:00Z', 2)).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('Europe/London fall-back (01:00-02:00 happens twice on 2026-10-25): 01:30 runs once, at its first occurrence', () => {
    expect(nextLocal({ cron: '30 1 * * *', tz: 'Europe/London' }, '2026-10-24T12:00:00Z')).toEqual([
      '2026-10-25 01:30:00 +01:00', '2026-10-26 01:30:00 +00:00', '2026-10-27 01:30:00 +00:00',
    ]);
    expect(next({ weekly: { on: 'sun', at: '01:30' }, tz: 'Europe/London' }, '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-11-01T01:30:00.000Z']);
  });

  it('Europe/London: an interval-style cron follows elapsed time through both transitions (no doubled or lost real time)', () => {
    const fallBack = next({ cron: '*/30 * * * *', tz: 'Europe/London' }, '2026-10-24T23:45:00Z', 6);
    expect(fallBack).toEqual([
      '2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T02:30:00.000Z',
    ]);
    const spring = next({ cron: '*/30 * * * *', tz: 'Europe/London' }, '2026-03-29T00:15:00Z', 3);
    expect(spring).toEqual(['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']);
  });

  it('America/New_York: 02:00 on spring-forward day (2026-03-08) runs at 03:00 EDT; 01:30 on fall-back day (2026-11-01) once', () => {
    expect(nextLocal({ daily: { at: '02:00' }, tz: 'America/New_York' }, '2026-03-07T12:00:00Z')).toEqual([
      '2026-03-08 03:00:00 -04:00', '2026-03-09 02:00:00 -04:00', '2026-03-10 02:00:00 -04:00',
    ]);
    expect(next({ cron: '0 30 1 * * *', tz: 'America/New_York' }, '2026-10-31T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('Asia/Kolkata: a fixed +05:30 zone with no DST', () => {
    expect(next({ daily: { at: '09:00' }, tz: 'Asia/Kolkata' }, '2026-06-01T00:00:00Z', 2)).toEqual(['2026-06-01T03:30:00.000Z', '2026-06-02T03:30:00.000Z']);
    expect(next({ cron: '0 0 * * *', tz: 'Asia/Kolkata' }, '2026-12-31T12:00:00Z', 1)).toEqual(['2026-12-31T18:30:00.000Z']);
    // every 6 hours is aligned to the zone's midnight: 00:00, 06:00, 12:00, 18:00 IST
    expect(nextLocal({ every: '6h', tz: 'Asia/Kolkata' }, '2026-06-01T00:00:00Z', 4)).toEqual([
      '2026-06-01 06:00:00 +05:30', '2026-06-01 12:00:00 +05:30', '2026-06-01 18:00:00 +05:30', '2026-06-02 00:00:00 +05:30',
    ]);
  });

  it('Australia/Lord_Howe (30-minute DST): 02:15 in the 02:00-02:30 gap runs at 02:30; 01:45 in the repeated half hour runs once', () => {
    expect(nextLocal({ daily: { at: '02:15' }, tz: 'Australia/Lord_Howe' }, '2026-10-03T00:00:00Z')).toEqual([
      '2026-10-04 02:30:00 +11:00', '2026-10-05 02:15:00 +11:00', '2026-10-06 02:15:00 +11:00',
    ]);
    expect(nextLocal({ cron: '45 1 * * *', tz: 'Australia/Lord_Howe' }, '2026-04-04T00:00:00Z')).toEqual([
      '2026-04-05 01:45:00 +11:00', '2026-04-06 01:45:00 +10:30', '2026-04-07 01:45:00 +10:30',
    ]);
  });
});

describe('intervals', () => {
  it('every N seconds/minutes/hours is elapsed time aligned to the zone midnight of 2000-01-01', () => {
    expect(next({ every: '1s' }, '2026-01-01T00:00:00.400Z')).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z']);
    expect(next({ every: { minutes: 5 } }, '2026-01-01T00:07:00Z', 2)).toEqual(['2026-01-01T00:10:00.000Z', '2026-01-01T00:15:00.000Z']);
    expect(next({ every: { hours: 6 }, tz: 'UTC' }, '2026-01-01T01:00:00Z', 2)).toEqual(['2026-01-01T06:00:00.000Z', '2026-01-01T12:00:00.000Z']);
  });

  it('an interval in a DST zone keeps its elapsed spacing across the change', () => {
    const runs = next({ every: '1h', tz: 'Europe/London' }, '2026-03-28T23:30:00Z', 4).map((s) => Date.parse(s));
    expect(runs.slice(1).map((t, i) => t - runs[i]!)).toEqual([3_600_000, 3_600_000, 3_600_000]);
  });

  it('dueBetween lists every instant in (after, until]', () => {
    const table = compileTiming(normalizeTiming({ every: '1s' }));
    const due = dueBetween(table, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:05Z'));
    expect(due.map((d) => d.toISOString().slice(17, 19))).toEqual(['01', '02', '03', '04', '05']);
  });
});

describe('calendar schedules: month ends and Feb 29', () => {
  it('monthly on the 31st runs on the last day of shorter months, once a month', () => {
    expect(next({ monthly: { day: 31, at: '09:00' } }, '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-31T09:00:00.000Z', '2026-02-28T09:00:00.000Z', '2026-03-31T09:00:00.000Z', '2026-04-30T09:00:00.000Z', '2026-05-31T09:00:00.000Z',
    ]);
  });

  it("monthly 'last' and the 29th follow leap years", () => {
    expect(next({ monthly: { day: 'last', at: '23:30' } }, '2028-01-31T23:30:00Z', 2)).toEqual(['2028-02-29T23:30:00.000Z', '2028-03-31T23:30:00.000Z']);
    expect(next({ monthly: { day: 29, at: '00:00' } }, '2027-01-30T00:00:00Z', 2)).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-29T00:00:00.000Z']);
    expect(next({ monthly: { day: 29, at: '00:00' } }, '2028-01-30T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-29T00:00:00.000Z']);
  });

  it('cron on Feb 29 runs only in leap years', () => {
    expect(next({ cron: '0 0 29 2 *', tz: 'Asia/Kolkata' }, '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-28T18:30:00.000Z', '2032-02-28T18:30:00.000Z']);
  });

  it('monthly in a zone ahead of UTC uses the local month end', () => {
    expect(nextLocal({ monthly: { day: 'last', at: '06:00' }, tz: 'Australia/Lord_Howe' }, '2026-02-01T00:00:00Z', 2)).toEqual([
      '2026-02-28 06:00:00 +11:00', '2026-03-31 06:00:00 +11:00',
    ]);
  });

  it('weekly on several days', () => {
    expect(nextLocal({ weekly: { on: ['mon', 'fri'], at: '08:00' }, tz: 'Europe/London' }, '2026-06-01T00:00:00Z', 3)).toEqual([
      '2026-06-01 08:00:00 +01:00', '2026-06-05 08:00:00 +01:00', '2026-06-08 08:00:00 +01:00',
    ]);
  });
});

describe('validation names the field', () => {
  const refuse = (spec: object, field: string) => {
    let caught: unknown;
    try {
      normalizeSchedule({ name: 's', queue: 'q', ...spec } as any);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScheduleValidationError);
    expect((caught as ScheduleValidationError).field).toBe(field);
    expect((caught as Error).message).toContain(field);
  };

  it('refuses an unparseable cron', () => {
    refuse({ cron: '61 * * * *' }, 'cron');
    refuse({ cron: '* * * *' }, 'cron');
    refuse({ cron: 'every day' }, 'cron');
  });
  it('refuses an unknown zone', () => refuse({ cron: '* * * * *', tz: 'Mars/Olympus_Mons' }, 'tz'));
  it('refuses two timings or none', () => {
    refuse({ cron: '* * * * *', every: '5m' }, 'cron');
    refuse({}, 'cron');
  });
  it('refuses bad intervals and times', () => {
    refuse({ every: '5 fortnights' }, 'every');
    refuse({ every: '0s' }, 'every');
    refuse({ daily: { at: '25:00' } }, 'daily.at');
    refuse({ weekly: { on: 'someday', at: '10:00' } }, 'weekly.on');
    refuse({ monthly: { day: 32, at: '10:00' } }, 'monthly.day');
  });
  it('refuses bad policies and options', () => {
    refuse({ every: '5m', misfire: 'sometimes' }, 'misfire');
    refuse({ every: '5m', overlap: 'maybe' }, 'overlap');
    refuse({ every: '5m', catchUpSeconds: -1 }, 'catchUpSeconds');
    refuse({ every: '5m', jobOptions: { colour: 'red' } }, 'jobOptions.colour');
    refuse({ every: '5m', surprise: 1 }, 'surprise');
  });
  it('refuses a schedule without a queue', () => {
    expect(() => normalizeSchedule({ name: 's', every: '5m' })).toThrow(/queue/);
  });
});

describe('the seed teams\' example schedules', () => {
  it('are valid and land where the teams expect them', async () => {
    const { EXAMPLE_SCHEDULES } = await import('../../libs/examples/src/schedules.js');
    const byName = new Map(EXAMPLE_SCHEDULES.map((d) => [d.name, normalizeSchedule(d)]));
    const first = (name: string, from: string) => preview(byName.get(name)!.timing, 1, new Date(from))[0]!.local;
    expect(first('events.complete-ended', '2026-07-01T10:01:00Z')).toBe('2026-07-01 11:05:00 +01:00');
    expect(first('housekeeping.daily', '2026-07-01T10:00:00Z')).toBe('2026-07-02 02:00:00 +01:00');
    expect(first('housekeeping.weekly-cleanup', '2026-07-01T10:00:00Z')).toBe('2026-07-05 03:00:00 +01:00');
    expect(first('reports.monthly-commission', '2026-07-01T10:00:00Z')).toBe('2026-08-01 06:00:00 +01:00');
    expect(byName.get('events.complete-ended')!.queue).toBe('events.complete-ended');
  });
});
