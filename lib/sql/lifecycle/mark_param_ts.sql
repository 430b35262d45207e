-- {MARK_TS} of a writing batch: the watermark the last batch returned.
$(mark_ts)::timestamptz
