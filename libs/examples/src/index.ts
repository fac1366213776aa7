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
  paymentRemindersQueue,
  reportsQueue,
  SendEmail,
} from './jobs.js';
export { CompleteEndedEventsProcessor, EmailProcessor, EXAMPLE_PROCESSORS, HousekeepingProcessor, MonthlyReportProcessor, PaymentReminderProcessor } from './processors.js';
export { EXAMPLE_SCHEDULES } from './schedules.js';
