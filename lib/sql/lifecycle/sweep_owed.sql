-- {QUOTA} of the sweep's preview and count: what it owes, in rows.
greatest(100, ceil(est.n * extract(epoch FROM
  least(now() - coalesce(ctl.sweep_paid_until, now() - $(poll)::interval), $(period)::interval))
  / extract(epoch FROM $(period)::interval)))
