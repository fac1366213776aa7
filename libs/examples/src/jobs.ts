import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { defineQueue } from '../../bosun/src/queues/define-queue.js';

/** The seed teams' jobs, as bosun queues. Each payload class is the contract senders and handlers share. */

/** E-mail sending (slow, retried with backoff, dead-lettered when the provider keeps refusing). */
export class SendEmail {
  @IsEmail() to!: string;
  @IsString() @MaxLength(200) subject!: string;
  @IsOptional() @IsString() @MaxLength(100_000) body?: string;
}
export const emailQueue = defineQueue('email', {
  payload: SendEmail,
  retryLimit: 5,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 600,
  expireInSeconds: 60,
  deadLetter: 'email-dead',
});

/** "Mark ended events completed every 5 minutes" (Celery Beat in the seed). Idempotent bulk update. */
export class CompleteEndedEvents {
  @IsOptional() @IsString() @MaxLength(64) timeZone?: string;
}
export const eventLifecycleQueue = defineQueue('events.complete-ended', {
  payload: CompleteEndedEvents,
  retryLimit: 3,
  retryDelay: 30,
  expireInSeconds: 300,
  policy: 'singleton',
});

/** Housekeeping: old conversations, orphaned messages, inactive users, statistics (APScheduler in the seed). */
export class Housekeeping {
  @IsIn(['all', 'conversations', 'messages', 'users', 'stats']) task!: 'all' | 'conversations' | 'messages' | 'users' | 'stats';
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(3650) olderThanDays?: number;
}
export const housekeepingQueue = defineQueue('housekeeping', {
  payload: Housekeeping,
  retryLimit: 2,
  retryDelay: 60,
  expireInSeconds: 1800,
  heartbeatSeconds: 30,
});

/** Monthly commission report (payments team): long-running, one at a time. */
export class MonthlyReport {
  /** Omitted by the monthly schedule: the report covers the month before the job was created. */
  @IsOptional() @Matches(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'month must be YYYY-MM' }) month?: string;
}
/** The month before the one `at` falls in (UTC), as YYYY-MM: what a scheduled monthly report covers. */
export function previousMonth(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
export const reportsQueue = defineQueue('reports.monthly-commission', {
  payload: MonthlyReport,
  retryLimit: 2,
  retryDelay: 300,
  expireInSeconds: 3600,
  heartbeatSeconds: 60,
  policy: 'singleton',
});

/** Payment reminders for unpaid or expiring vehicle taxes. */
export class PaymentReminder {
  @IsInt() @Min(1) accountId!: number;
  @IsIn(['unpaid', 'expiring']) reason!: 'unpaid' | 'expiring';
}
export const paymentRemindersQueue = defineQueue('payments.reminders', {
  payload: PaymentReminder,
  priority: 5,
  retryLimit: 3,
  retryDelay: 10,
  retryBackoff: true,
});

export const EXAMPLE_QUEUES = [emailQueue, eventLifecycleQueue, housekeepingQueue, reportsQueue, paymentRemindersQueue];
