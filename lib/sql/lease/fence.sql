;
 SELECT {S}.lease_fence({HOLDER}, {EPOCH}, {LEASE})
