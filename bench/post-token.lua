-- wrk: post.lua's request with an HS256 bearer token (bench/run puts it in BENCH_TOKEN).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
wrk.body = '{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456}'
