-- {MARK_TS} of preview and count: the watermark in the control row.
(SELECT ts FROM mk)
