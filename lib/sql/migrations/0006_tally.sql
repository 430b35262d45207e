-- Version 6: counts that a scrape reads in constant time. Every statement
-- that inserts, updates or deletes accounts or outbox rows appends, from a
-- statement-level trigger over its transition tables, one row per state
-- whose count it changed (set-based: no per-row work). A scrape sums the
-- rows (http/metrics.sql); the delivery connection folds them into one row
-- per state once per poll (outbox/tally_fold.sql), so the table stays as
-- small as the changes of one poll interval. Appending, never updating a
-- shared row, keeps transactions from queueing on a counter: a long pass
-- never holds up an answer on the page. SECURITY DEFINER, so that the
-- application's mailer acknowledging a message needs no right on it.
CREATE TABLE {S}.tally (
  kind text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL);
COMMENT ON TABLE {S}.tally IS 'dormant: account and outbox counts by state, as deltas';
INSERT INTO {S}.tally
SELECT 'account', state, count(*) FROM {S}.account GROUP BY state
UNION ALL
SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
  WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
  FROM {S}.outbox GROUP BY 2;

CREATE FUNCTION {S}.tally_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {S}.tally SELECT 'account', state, count(*) FROM new_rows GROUP BY state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {S}.tally SELECT 'account', state, -count(*) FROM old_rows GROUP BY state;
  ELSE
    INSERT INTO {S}.tally
    SELECT 'account', state, sum(d) FROM (
      SELECT state, -1 AS d FROM old_rows UNION ALL SELECT state, 1 FROM new_rows) x
     GROUP BY state HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_account_insert AFTER INSERT ON {S}.account
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();
CREATE TRIGGER tally_account_update AFTER UPDATE ON {S}.account
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();
CREATE TRIGGER tally_account_delete AFTER DELETE ON {S}.account
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();

CREATE FUNCTION {S}.tally_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {S}.tally
    SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
             WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
      FROM new_rows GROUP BY 2;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {S}.tally
    SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
             WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, -count(*)
      FROM old_rows GROUP BY 2;
  ELSE
    INSERT INTO {S}.tally
    SELECT 'outbox', s, sum(d) FROM (
      SELECT CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
               WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END AS s, -1 AS d
        FROM old_rows
      UNION ALL
      SELECT CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
               WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, 1
        FROM new_rows) x
     GROUP BY s HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_outbox_insert AFTER INSERT ON {S}.outbox
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();
CREATE TRIGGER tally_outbox_update AFTER UPDATE ON {S}.outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();
CREATE TRIGGER tally_outbox_delete AFTER DELETE ON {S}.outbox
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();
