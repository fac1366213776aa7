export { ExamplesModule } from './examples.module.js';
export {
  CompleteEndedEvents,
  emailQueue,
  eventLifecycleQueue,
  EXAMPLE_QUEUES,
  Housekeeping,
  housekeepingQueue,
  MonthlyReport,
  PaymentReminder,
  previousMonth,
  paymentRemindersQueue,
  reportsQueue,
  SendEmail,
} from './jobs.js';
export { CompleteEndedEventsProcessor, EmailProcessor, EXAMPLE_PROCESSORS, HousekeepingProcessor, MonthlyReportProcessor, PaymentReminderProcessor } from './processors.js';
export { EXAMPLE_SCHEDULES } from './schedules.js';
