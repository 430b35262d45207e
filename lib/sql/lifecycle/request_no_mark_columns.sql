-- The recheck step keeps no watermark.
, NULL::text, NULL::text
