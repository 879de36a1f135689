"""boto3 `generate_presigned_post` per call, on the inputs `cargo bench` signs: prints ns/call."""
import time
import uuid

import boto3

client = boto3.client(
    "s3",
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)


def sign():
    client.generate_presigned_post(
        "photos",
        f"uploads/{uuid.uuid4()}/holiday-photo.jpg",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 123456]],
        ExpiresIn=600,
    )


for _ in range(500):
    sign()
calls, started = 0, time.perf_counter_ns()
while time.perf_counter_ns() - started < 2_000_000_000:
    sign()
    calls += 1
print(f"BENCH boto3_per_call {(time.perf_counter_ns() - started) / calls}")
