-- wrk: POST /uploads/complete for the object bench/workers/fake-s3-worker.mjs holds, with what
-- the client declared (bench/run's ours-complete row).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key": "uploads/2f1c0a8e-3b7d-4f0e-9a41-0c5e7d2b9f13/holiday-photo.jpg", "size": 123456, "content_type": "image/jpeg"}'
