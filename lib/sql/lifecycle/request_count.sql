-- How many a request step would ask now.
 SELECT count(*) FROM dec d WHERE d.decision = 'request'
