-- Pending subscribers with activity newer than their request: those seen
-- active since the activity watermark (the newest activity the last pass
-- saw), and those about to be reminded or suspended, checked whatever the
-- mark. An activity written late, with a time older than the mark, is thus
-- still honoured, at the latest before the next reminder or the deadline;
-- the remind and suspend statements check activity themselves as well.
-- (OFFSET 0 keeps a LATERAL lookup a per-row index probe: pulled up into a
-- join, the planner may hash the whole account table on a guessed
-- selectivity of the watermark, and the cost would follow the table.)
-- The writing batch also gets the watermark as $(mark_ts), read at the
-- start of the pass (only this step's end moves it): planned with its
-- value, the source's activity index serves the range; from the control
-- row alone the planner guesses a third of the table and reads all of it
-- (2 s an idle pass at 20M rows). Preview and count pass NULL: the row's
-- mark alone, as before.
WITH mk AS (SELECT activity_mark FROM {S}.control),
due AS (SELECT * FROM (
  SELECT a.subscriber_id AS id, a.cycle, a.requested_at, {LA_TS} AS la
    FROM {SRC} s CROSS JOIN LATERAL
         (SELECT * FROM {S}.account a WHERE a.subscriber_id = s.{ID}
             AND a.state = 'pending' AND {LA_TS} > a.requested_at OFFSET 0) a
   WHERE s.{LA} > {LA_B}coalesce($(mark_ts)::timestamptz, '-infinity'){LA_E}
     AND s.{LA} > {LA_B}coalesce((SELECT activity_mark FROM mk), '-infinity'){LA_E}
     AND EXISTS (SELECT 1 FROM {S}.account WHERE state = 'pending')
  UNION
  SELECT a.subscriber_id, a.cycle, a.requested_at, {LA_TS}
    FROM {S}.account a JOIN {SRC} s ON s.{ID} = a.subscriber_id
   WHERE a.state = 'pending' AND (a.deadline <= now() OR a.next_reminder_at <= now())
     AND {LA_TS} > a.requested_at) u
  ORDER BY la, id {LIMIT})
