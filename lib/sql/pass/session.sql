-- A look at the control row when the pass's connection comes up (the
-- schema is there and migrated). The settings a pass needs are made per
-- transaction (lib/sql/lease/begin.sql): nothing of a session is relied on.
SELECT 1 FROM {S}.control
