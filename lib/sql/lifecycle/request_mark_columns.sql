-- The new watermark, returned so that the next batch is planned with it.
, (SELECT ts::text FROM newmark) AS mark_ts, (SELECT id::text FROM newmark) AS mark_id
