-- wrk: post.lua's request naming an upload profile (bench/run's ours-profiles row).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456, "profile": "photo"}'
