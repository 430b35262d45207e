-- {MARK_ID} of preview and count.
(SELECT id FROM mk)
