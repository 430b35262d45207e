-- Validates --until: a timestamp in the future.
SELECT $(until)::timestamptz > now()
