SELECT count(*) FROM w
