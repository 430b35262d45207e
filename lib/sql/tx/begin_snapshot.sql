-- Opens a read-only view of one moment (dormantctl preview, status).
BEGIN ISOLATION LEVEL REPEATABLE READ
