"""boto3 `generate_presigned_post` per call, on the inputs `cargo bench` signs.

Prints `BENCH boto3_per_call <ns>` for bench/run. Warm-up first (imports, the client's caches).
"""
import platform
import time
import uuid

import boto3
from botocore.config import Config

client = boto3.client(
    "s3",
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    # SigV4, as ours and the JS SDK sign: without it boto3 signs POST forms in us-east-1 with
    # the legacy SigV2 (HMAC-SHA1, `AWSAccessKeyId` + `signature` fields).
    config=Config(signature_version="s3v4"),
)


def sign():
    return client.generate_presigned_post(
        "photos",
        f"uploads/{uuid.uuid4()}/holiday-photo.jpg",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 123456]],
        ExpiresIn=600,
    )


form = sign()
assert form["fields"]["policy"] and form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256", form
for _ in range(500):
    sign()
calls, started = 0, time.perf_counter_ns()
while time.perf_counter_ns() - started < 1_500_000_000:
    sign()
    calls += 1
print(f"BENCH boto3_per_call {(time.perf_counter_ns() - started) / calls:.1f}")
print(f"BENCHINFO boto3 {boto3.__version__}")
print(f"BENCHINFO python {platform.python_version()}")
