-- One request step's part of the backlog ({REQUEST}: request.sql counting).
 + ({REQUEST})
