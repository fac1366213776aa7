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
export { EXAMPLE_SCHEDULES } from './schedules.js';
