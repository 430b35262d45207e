-- The schema's version and the source id type it was made for.
SELECT version, id_type FROM {S}.meta
