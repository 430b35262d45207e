-- With the backlog guard off (fraction 1), whether anyone waits is all the
-- rate guard needs: stop at the first one.
 + (SELECT EXISTS ({REQUEST} SELECT 1 FROM dec d WHERE d.decision = 'request'))::int
