-- dormantctl rescan: the next pass re-examines the whole source table.
UPDATE {S}.control SET rescan = true
