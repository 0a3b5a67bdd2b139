-- The statements inside these functions look up rows by key whatever their parameters: a plan
-- made once serves every call, where a custom plan per call (the plan cache's default for the
-- first calls and whenever it misjudges) re-planned them every time.
ALTER FUNCTION outbox_finish(bigint[]) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION outbox_head_advance(uuid) SET plan_cache_mode = force_generic_plan;
