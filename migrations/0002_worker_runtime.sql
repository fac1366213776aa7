-- Reserved for the worker runtime (job error history). Replaced by its real content before any release.
SELECT 1;
