import { Logger } from '@nestjs/common';
import { Processor } from '../../bosun/src/worker/processor.decorator.js';
import type { Job } from '../../bosun/src/worker/job.js';
import {
  emailQueue, eventLifecycleQueue, housekeepingQueue, paymentRemindersQueue, reportsQueue,
  previousMonth,
  type CompleteEndedEvents, type Housekeeping, type MonthlyReport, type PaymentReminder, type SendEmail,
} from './jobs.js';

/** The seed teams' processors. Their work is simulated (log and return): the real bodies live in the teams' services. */

@Processor(emailQueue, { concurrency: 20 })
export class EmailProcessor {
  private readonly log = new Logger('EmailProcessor');
  async process(job: Job<SendEmail>) {
    this.log.log(`sending "${job.data.subject}" to ${job.data.to} (attempt ${job.attempt})`);
    return { sent: true };
  }
}

@Processor(eventLifecycleQueue, { concurrency: 1 })
export class CompleteEndedEventsProcessor {
  private readonly log = new Logger('CompleteEndedEventsProcessor');
  async process(job: Job<CompleteEndedEvents>) {
    this.log.log(`marking ended events completed (time zone ${job.data.timeZone ?? 'UTC'})`);
  }
}

@Processor(housekeepingQueue, { concurrency: 2 })
export class HousekeepingProcessor {
  private readonly log = new Logger('HousekeepingProcessor');
  async process(job: Job<Housekeeping>) {
    this.log.log(`housekeeping: ${job.data.task}${job.data.olderThanDays ? ` older than ${job.data.olderThanDays} days` : ''}`);
  }
}

@Processor(reportsQueue, { concurrency: 1 })
export class MonthlyReportProcessor {
  private readonly log = new Logger('MonthlyReportProcessor');
  async process(job: Job<MonthlyReport>) {
    // A schedule cannot compute "last month" when it fires: default to the month before the job was created (database time).
    const month = job.data.month ?? previousMonth(job.createdOn);
    this.log.log(`building the commission report for ${month}`);
    return { month };
  }
}

@Processor(paymentRemindersQueue, { concurrency: 10 })
export class PaymentReminderProcessor {
  private readonly log = new Logger('PaymentReminderProcessor');
  async process(job: Job<PaymentReminder>) {
    this.log.log(`reminding account ${job.data.accountId} (${job.data.reason})`);
  }
}

export const EXAMPLE_PROCESSORS = [EmailProcessor, CompleteEndedEventsProcessor, HousekeepingProcessor, MonthlyReportProcessor, PaymentReminderProcessor];
