import type { ScheduleDeclaration } from '../../bosun/src/scheduler/schedule-definition.js';
import { eventLifecycleQueue, housekeepingQueue, reportsQueue } from './jobs.js';

/**
 * The seed teams' schedules (ex-Celery Beat and APScheduler), declared in code: the scheduler leader syncs
 * them into the schedule table; pausing one at run time survives deploys.
 */
export const EXAMPLE_SCHEDULES: ScheduleDeclaration[] = [
  {
    name: 'events.complete-ended',
    description: 'Mark ended events completed',
    every: '5m',
    tz: 'Europe/London',
    queue: eventLifecycleQueue,
    data: { timeZone: 'Europe/London' },
    // A slow run must not pile up copies; a missed run is simply done at the next one.
    overlap: 'skip',
    misfire: 'latest',
  },
  {
    name: 'housekeeping.daily',
    description: 'Daily housekeeping: old conversations, orphaned messages, inactive users',
    daily: { at: '02:00' },
    tz: 'Europe/London',
    queue: housekeepingQueue,
    data: { task: 'all' },
    overlap: 'skip',
    misfire: 'latest',
    catchUpSeconds: 6 * 3600,
  },
  {
    name: 'housekeeping.weekly-cleanup',
    description: 'Weekly cleanup of conversations older than 90 days',
    weekly: { on: 'sun', at: '03:00' },
    tz: 'Europe/London',
    queue: housekeepingQueue,
    data: { task: 'conversations', olderThanDays: 90 },
    misfire: 'latest',
    catchUpSeconds: 24 * 3600,
  },
  {
    name: 'housekeeping.statistics',
    description: 'Refresh statistics',
    every: '6h',
    tz: 'Europe/London',
    queue: housekeepingQueue,
    data: { task: 'stats' },
    overlap: 'skip',
    misfire: 'latest',
  },
  {
    name: 'reports.monthly-commission',
    description: 'Monthly commission report for the month just ended',
    monthly: { day: 1, at: '06:00' },
    tz: 'Europe/London',
    queue: reportsQueue,
    data: {},
    overlap: 'queue',
    // A report must not be lost to an outage: run every missed one within three days.
    misfire: 'all',
    catchUpSeconds: 3 * 24 * 3600,
  },
];
