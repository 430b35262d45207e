-- {QUOTA} of the sweep's writing statement: what it owes, at most a batch.
least($(limit)::integer, {OWED})
