-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE TABLE "Dm_x".tally (
  kind text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL);
COMMENT ON TABLE "Dm_x".tally IS 'dormant: account and outbox counts by state, as deltas';
INSERT INTO "Dm_x".tally
SELECT 'account', state, count(*) FROM "Dm_x".account GROUP BY state
UNION ALL
SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
  WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
  FROM "Dm_x".outbox GROUP BY 2;

CREATE FUNCTION "Dm_x".tally_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Dm_x".tally SELECT 'account', state, count(*) FROM new_rows GROUP BY state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Dm_x".tally SELECT 'account', state, -count(*) FROM old_rows GROUP BY state;
  ELSE
    INSERT INTO "Dm_x".tally
    SELECT 'account', state, sum(d) FROM (
      SELECT state, -1 AS d FROM old_rows UNION ALL SELECT state, 1 FROM new_rows) x
     GROUP BY state HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_account_insert AFTER INSERT ON "Dm_x".account
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();
CREATE TRIGGER tally_account_update AFTER UPDATE ON "Dm_x".account
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();
CREATE TRIGGER tally_account_delete AFTER DELETE ON "Dm_x".account
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();

CREATE FUNCTION "Dm_x".tally_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Dm_x".tally
    SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
             WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
      FROM new_rows GROUP BY 2;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Dm_x".tally
    SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
             WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, -count(*)
      FROM old_rows GROUP BY 2;
  ELSE
    INSERT INTO "Dm_x".tally
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
CREATE TRIGGER tally_outbox_insert AFTER INSERT ON "Dm_x".outbox
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();
CREATE TRIGGER tally_outbox_update AFTER UPDATE ON "Dm_x".outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();
CREATE TRIGGER tally_outbox_delete AFTER DELETE ON "Dm_x".outbox
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();
