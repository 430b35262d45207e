SELECT count(*) FROM found
