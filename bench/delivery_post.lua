-- wrk script for the delivery benchmark: the same POST dormantd makes
-- (a signed Standard Webhooks request with a confirmation payload).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "msg_1"
wrk.headers["webhook-timestamp"] = "1795993200"
wrk.headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
wrk.body = '{"data": {"rule": "inactive", "email": "user1@example.com", "locale": "en", "deadline": "2026-12-29T00:30:00Z", "confirm_url": "https://account.example.com/dormant/c/tok1", "subscriber_id": "1", "last_activity_at": "2024-10-01T20:11:00Z"}, "type": "confirmation.requested", "timestamp": "2026-11-29T00:30:00Z"}'
