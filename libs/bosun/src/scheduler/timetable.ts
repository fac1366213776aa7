import { Cron } from 'croner';

/**
 * Schedule maths, pure: when is a schedule due? Every function takes the instant to count from,
 * so tests stub the clock by passing it. Cron maths is croner's; bosun fixes its options so the
 * DST rule is the same everywhere (see README "DST rule").
 */

export const SCHEDULE_KINDS = ['cron', 'every', 'daily', 'weekly', 'monthly'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When a schedule is due: exactly one of cron, every, daily, weekly, monthly. */
export interface TimingSpec {
  /** 5 fields (minute precision) or 6 fields (leading seconds). */
  cron?: string;
  /** Elapsed time: '30s', '5m', '6h', or { seconds | minutes | hours }. */
  every?: string | { seconds?: number; minutes?: number; hours?: number };
  /** Every day at a local time 'HH:MM' or 'HH:MM:SS'. */
  daily?: { at: string };
  /** On these weekdays at a local time. */
  weekly?: { on: Weekday | Weekday[]; at: string };
  /** On this day of the month (1-31, or 'last'); a day the month lacks runs on its last day. */
  monthly?: { day: number | 'last'; at: string };
  /** IANA time zone the times are read in; default UTC. */
  tz?: string;
}

/** The stored form: kind + one text expression + zone (what the schedule table holds). */
export interface Timing {
  kind: ScheduleKind;
  expression: string;
  tz: string;
}

export class ScheduleValidationError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly schedule?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScheduleValidationError';
  }
}

const zoneCache = new Map<string, boolean>();

/** True when the runtime knows the IANA zone (Intl throws RangeError for unknown ones). */
export function isValidTimeZone(tz: string): boolean {
  let ok = zoneCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = typeof tz === 'string' && tz.length > 0;
    } catch {
      ok = false;
    }
    zoneCache.set(tz, ok);
  }
  return ok;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const EVERY = /^(\d+)\s*(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;
/** Longest interval accepted: a week (longer ones read better as cron or monthly). */
export const MAX_EVERY_SECONDS = 7 * 24 * 3600;

function fail(field: string, rule: string, value: unknown, name?: string, cause?: unknown): never {
  const prefix = name ? `schedule ${name}: ` : '';
  throw new ScheduleValidationError(`${prefix}${field} ${rule}, got ${JSON.stringify(value)}`, field, name, { cause });
}

function parseTime(field: string, at: unknown, name?: string): [number, number, number] {
  const m = typeof at === 'string' ? TIME.exec(at) : null;
  if (!m) fail(field, "must be a time 'HH:MM' or 'HH:MM:SS' (24-hour)", at, name);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function everySeconds(every: TimingSpec['every'], name?: string): number {
  let seconds: number;
  if (typeof every === 'string') {
    const m = EVERY.exec(every.trim());
    if (!m) fail('every', "must look like '30s', '5m' or '6h'", every, name);
    seconds = Number(m[1]) * UNIT_SECONDS[m[2] as 's' | 'm' | 'h'];
  } else if (every && typeof every === 'object') {
    const keys = Object.keys(every);
    if (keys.length !== 1 || !['seconds', 'minutes', 'hours'].includes(keys[0]!)) fail('every', 'must have exactly one of seconds, minutes, hours', every, name);
    const value = (every as Record<string, unknown>)[keys[0]!];
    if (!Number.isInteger(value)) fail(`every.${keys[0]}`, 'must be a whole number', value, name);
    seconds = (value as number) * { seconds: 1, minutes: 60, hours: 3600 }[keys[0] as 'seconds' | 'minutes' | 'hours'];
  } else {
    fail('every', "must be a string like '5m' or { seconds | minutes | hours }", every, name);
  }
  if (seconds < 1 || seconds > MAX_EVERY_SECONDS) fail('every', `must be between 1 second and ${MAX_EVERY_SECONDS / 86400} days`, every, name);
  return seconds;
}

/** Turns a user's spec into the stored form, refusing bad input with an error naming the field. */
export function normalizeTiming(spec: TimingSpec, name?: string): Timing {
  if (!spec || typeof spec !== 'object') fail('(schedule)', 'must be an object', spec, name);
  const tz = spec.tz ?? 'UTC';
  if (typeof tz !== 'string' || !isValidTimeZone(tz)) fail('tz', 'must be an IANA time zone such as Europe/London', tz, name);
  const given = SCHEDULE_KINDS.filter((k) => spec[k] !== undefined);
  if (given.length !== 1) fail('cron', `exactly one of ${SCHEDULE_KINDS.join(', ')} must be given`, given, name);
  const kind = given[0]!;
  let expression: string;
  switch (kind) {
    case 'cron': {
      if (typeof spec.cron !== 'string') fail('cron', 'must be a string of 5 or 6 fields', spec.cron, name);
      expression = spec.cron.trim().replace(/\s+/g, ' ');
      const fields = expression.split(' ').length;
      if (fields !== 5 && fields !== 6) fail('cron', 'must have 5 fields (minute hour day month weekday) or 6 (with leading seconds)', spec.cron, name);
      try {
        cronFor(expression, tz).nextRun(new Date(0));
      } catch (error) {
        fail('cron', `is not a valid cron expression (${(error as Error).message.replace(/^\w+: /, '')})`, spec.cron, name, error);
      }
      break;
    }
    case 'every':
      expression = String(everySeconds(spec.every, name));
      break;
    case 'daily': {
      const [h, m, s] = parseTime('daily.at', spec.daily?.at, name);
      expression = formatTime(h, m, s);
      break;
    }
    case 'weekly': {
      const on = spec.weekly?.on;
      const days = (Array.isArray(on) ? on : [on]).map((d) => (typeof d === 'string' ? d.toLowerCase().slice(0, 3) : d));
      if (days.length === 0 || days.some((d) => !(WEEKDAYS as readonly unknown[]).includes(d))) fail('weekly.on', `must be one or more of ${WEEKDAYS.join(', ')}`, on, name);
      const [h, m, s] = parseTime('weekly.at', spec.weekly?.at, name);
      const sorted = [...new Set(days as Weekday[])].sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
      expression = `${sorted.join(',')} ${formatTime(h, m, s)}`;
      break;
    }
    case 'monthly': {
      const day = spec.monthly?.day;
      if (day !== 'last' && !(Number.isInteger(day) && (day as number) >= 1 && (day as number) <= 31)) fail('monthly.day', "must be 1-31 or 'last'", day, name);
      const [h, m, s] = parseTime('monthly.at', spec.monthly?.at, name);
      expression = `${day} ${formatTime(h, m, s)}`;
      break;
    }
  }
  return { kind, expression, tz };
}

function formatTime(h: number, m: number, s: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}`;
}

/**
 * croner with bosun's fixed options: standard weekday numbering, day-of-month OR day-of-week (Vixie cron),
 * and "no-wildcard" fixed-time rule: a pattern whose seconds/minutes/hours have no * or step is a wall-clock
 * time (DST gap: once at the first valid instant after it; repeated hour: once, the first occurrence);
 * any other pattern follows elapsed time (it fires at every real instant whose local time matches).
 */
function cronFor(pattern: string, tz: string): Cron {
  return new Cron(pattern, { timezone: tz, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard', domAndDow: false, paused: true });
}

/** A compiled schedule: next(after) is the first due instant strictly after `after`, or null if none. */
export interface Timetable {
  readonly timing: Timing;
  next(after: Date): Date | null;
}

/** The local midnight of 2000-01-01 in the zone: the anchor interval schedules are aligned to. */
function intervalAnchor(tz: string): number {
  return cronFor('0 0 0 1 1 *', tz).nextRun(new Date(Date.UTC(1999, 11, 30)))!.getTime();
}

function lastDayOfMonthUtc(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** Builds the due-instant function for a stored timing (which normalizeTiming produced). */
export function compileTiming(timing: Timing): Timetable {
  const { kind, expression, tz } = timing;
  switch (kind) {
    case 'cron': {
      const cron = cronFor(expression, tz);
      return { timing, next: (after) => cron.nextRun(after) };
    }
    case 'every': {
      const periodMs = Number(expression) * 1000;
      const anchor = intervalAnchor(tz);
      return {
        timing,
        next: (after) => {
          const k = Math.floor((after.getTime() - anchor) / periodMs) + 1;
          return new Date(anchor + k * periodMs);
        },
      };
    }
    case 'daily': {
      const [h, m, s] = expression.split(':').map(Number) as [number, number, number];
      const cron = cronFor(`${s} ${m} ${h} * * *`, tz);
      return { timing, next: (after) => cron.nextRun(after) };
    }
    case 'weekly': {
      const [days, time] = expression.split(' ') as [string, string];
      const [h, m, s] = time.split(':').map(Number) as [number, number, number];
      const dow = days.split(',').map((d) => WEEKDAYS.indexOf(d as Weekday)).join(',');
      const cron = cronFor(`${s} ${m} ${h} * * ${dow}`, tz);
      return { timing, next: (after) => cron.nextRun(after) };
    }
    case 'monthly': {
      const [day, time] = expression.split(' ') as [string, string];
      const [h, m, s] = time.split(':').map(Number) as [number, number, number];
      const onDay = day === 'last' ? null : Number(day);
      const last = cronFor(`${s} ${m} ${h} L * *`, tz);
      if (onDay === null) return { timing, next: (after) => last.nextRun(after) };
      const exact = cronFor(`${s} ${m} ${h} ${onDay} * *`, tz);
      // A month without that day runs on its last day ("the 31st" means month end in short months).
      const clampedLast = (after: Date): Date | null => {
        let from = after;
        for (let i = 0; i < 24; i++) {
          const run = last.nextRun(from);
          if (!run) return null;
          const local = localDate(run, tz);
          if (lastDayOfMonthUtc(local.year, local.month - 1) < onDay) return run;
          from = run;
        }
        return null;
      };
      return {
        timing,
        next: (after) => {
          const a = exact.nextRun(after);
          const b = onDay > 28 ? clampedLast(after) : null;
          if (!a) return b;
          if (!b) return a;
          return a.getTime() <= b.getTime() ? a : b;
        },
      };
    }
  }
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date of an instant in a zone. */
export function localDate(instant: Date, tz: string): { year: number; month: number; day: number } {
  let f = dateFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormatters.set(tz, f);
  }
  const [year, month, day] = f.format(instant).split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

/** Local wall-clock text of an instant in a zone ('2026-03-29 02:00:00 +01:00'), for previews and logs. */
export function formatLocal(instant: Date, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const offset = get('timeZoneName').replace('GMT', '') || '+00:00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${offset}`;
}

/** All due instants in (after, until], at most `limit` of them (oldest first). */
export function dueBetween(table: Timetable, after: Date, until: Date, limit = 10_000): Date[] {
  const out: Date[] = [];
  let cursor = after;
  while (out.length < limit) {
    const next = table.next(cursor);
    if (!next || next.getTime() > until.getTime()) break;
    out.push(next);
    cursor = next;
  }
  return out;
}

export interface PreviewEntry {
  at: Date;
  /** The instant's wall-clock time in the schedule's zone, with its UTC offset. */
  local: string;
}

/** The next `count` due instants of any spec after `from` (default now). */
export function preview(spec: TimingSpec | Timing, count = 10, from: Date = new Date()): PreviewEntry[] {
  if (!Number.isInteger(count) || count < 1 || count > 1000) fail('count', 'must be an integer between 1 and 1000', count);
  const timing = 'kind' in spec && 'expression' in spec ? (normalizeStored(spec as Timing)) : normalizeTiming(spec as TimingSpec);
  const table = compileTiming(timing);
  const out: PreviewEntry[] = [];
  let cursor = from;
  while (out.length < count) {
    const next = table.next(cursor);
    if (!next) break;
    out.push({ at: next, local: formatLocal(next, timing.tz) });
    cursor = next;
  }
  return out;
}

/** Re-validates a stored timing (one read back from the table) by turning it back into a spec. */
export function normalizeStored(timing: Timing, name?: string): Timing {
  return normalizeTiming(timingToSpec(timing), name);
}

/** The user-facing spec of a stored timing. */
export function timingToSpec(timing: Timing): TimingSpec {
  const { kind, expression, tz } = timing;
  switch (kind) {
    case 'cron':
      return { cron: expression, tz };
    case 'every':
      return { every: `${expression}s`, tz };
    case 'daily':
      return { daily: { at: expression }, tz };
    case 'weekly': {
      const [days, at] = expression.split(' ') as [string, string];
      return { weekly: { on: days.split(',') as Weekday[], at }, tz };
    }
    case 'monthly': {
      const [day, at] = expression.split(' ') as [string, string];
      return { monthly: { day: day === 'last' ? 'last' : Number(day), at }, tz };
    }
    default:
      return fail('kind', `must be one of ${SCHEDULE_KINDS.join(', ')}`, kind);
  }
}
