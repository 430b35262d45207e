-- New messages wake the dispatcher (pg_notify from the pass and the answers).
LISTEN dormant_outbox
