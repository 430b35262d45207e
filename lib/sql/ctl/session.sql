-- Timestamps in output and JSON are UTC, like the messages' payloads.
SET TimeZone = 'UTC'
