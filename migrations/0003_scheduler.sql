-- Reserved for the scheduler (schedule, schedule_run). Replaced by its real content before any release.
SELECT 1;
