-- wrk: the one request every worker in bench/run answers (as README's curl example).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456}'
