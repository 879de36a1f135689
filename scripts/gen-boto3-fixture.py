#!/usr/bin/env python3
"""Writes tests/fixtures/boto3-presigned-post.json: what boto3's generate_presigned_post
(signature_version s3v4) returns for the fixed inputs tests/boto3_parity.rs uses.

Run once by hand (pip install boto3==1.*), then commit the output; the Rust test compares
against the file and does not need Python. The clock is frozen so the output is repeatable.
"""
import datetime
import json
import pathlib
from unittest import mock

import boto3
import botocore
from botocore.config import Config

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0)
KEY = "uploads/abababab-abab-4bab-abab-abababababab/holiday-photo.jpg"


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW

    @classmethod
    def now(cls, tz=None):
        return NOW.replace(tzinfo=tz) if tz else NOW


def presigned_post(session_token):
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        aws_session_token=session_token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    with mock.patch("botocore.signers.datetime.datetime", FrozenDatetime), mock.patch(
        "botocore.auth.datetime.datetime", FrozenDatetime
    ):
        return client.generate_presigned_post(
            Bucket="photos",
            Key=KEY,
            Fields={"Content-Type": "image/jpeg"},
            Conditions=[
                {"Content-Type": "image/jpeg"},
                ["content-length-range", 1, 123456],
            ],
            ExpiresIn=600,
        )


cases = {
    "without_session_token": presigned_post(None),
    "with_session_token": presigned_post("FQoGZXIvYXdzEXAMPLETOKEN"),
}
out = {
    "generated_by": f"scripts/gen-boto3-fixture.py with boto3 {boto3.__version__}, botocore {botocore.__version__}",
    "inputs": {
        "bucket": "photos",
        "region": "us-east-1",
        "key": KEY,
        "now": "2026-11-24T12:00:00Z",
        "expires_in": 600,
        "content_type": "image/jpeg",
        "content_length_range": [1, 123456],
    },
    **cases,
}
path = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/boto3-presigned-post.json"
path.write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {path}")
