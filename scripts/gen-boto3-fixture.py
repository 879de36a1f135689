#!/usr/bin/env python3
"""Writes the boto3 fixtures tests/signing_vectors.rs compares against:
- tests/fixtures/boto3-presigned-post.json: what generate_presigned_post (s3v4) returns for
  fixed inputs;
- tests/fixtures/boto3-presigned-url.json: what generate_presigned_url returns for GET and PUT
  on keys with spaces, Unicode, '+', '~', '=' and '/', and for the multipart operations
  (CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload, AbortMultipartUpload).

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


KEYS = [
    "uploads/plain.txt",
    "uploads/with space/and+plus.txt",
    "uploads/Café résumé © 2026 — 履歴書.pdf",
    "uploads/tilde~equals=/semi;colon&amp?.bin",
]


def client(session_token=None, endpoint=None):
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        aws_session_token=session_token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def presign(c, method, key, content_type=None, extra=None):
    params = {"Bucket": "photos", "Key": key, **(extra or {})}
    if content_type:
        params["ContentType"] = content_type
    with mock.patch("botocore.signers.datetime.datetime", FrozenDatetime), mock.patch(
        "botocore.auth.datetime.datetime", FrozenDatetime
    ):
        return c.generate_presigned_url(method, Params=params, ExpiresIn=600)


cases = []
for key in KEYS:
    cases.append({"method": "GET", "key": key, "url": presign(client(), "get_object", key)})
cases.append(
    {
        "method": "PUT",
        "key": KEYS[2],
        "content_type": "application/pdf",
        "url": presign(client(), "put_object", KEYS[2], "application/pdf"),
    }
)
cases.append(
    {
        "method": "GET",
        "key": KEYS[1],
        "session_token": "FQoGZXIvYXdzEXAMPLETOKEN",
        "url": presign(client("FQoGZXIvYXdzEXAMPLETOKEN"), "get_object", KEYS[1]),
    }
)
# Multipart: each operation's subresource parameters are signed with the query. The upload ID
# holds the characters real ones carry ('.', '-', '_', '~', '+', '/', '=').
UPLOAD_ID = "VXBsb2FkIElE.for-6_~+/=="
for operation, method, subresource, extra in [
    ("create_multipart_upload", "POST", [["uploads", ""]], {}),
    ("upload_part", "PUT", [["partNumber", "7"], ["uploadId", UPLOAD_ID]], {"PartNumber": 7, "UploadId": UPLOAD_ID}),
    ("list_parts", "GET", [["uploadId", UPLOAD_ID]], {"UploadId": UPLOAD_ID}),
    ("complete_multipart_upload", "POST", [["uploadId", UPLOAD_ID]], {"UploadId": UPLOAD_ID}),
    ("abort_multipart_upload", "DELETE", [["uploadId", UPLOAD_ID]], {"UploadId": UPLOAD_ID}),
]:
    cases.append(
        {
            "method": method,
            "key": KEYS[2],
            "operation": operation,
            "subresource": subresource,
            "url": presign(client(), operation, KEYS[2], extra=extra),
        }
    )
out = {
    "generated_by": f"scripts/gen-boto3-fixture.py with boto3 {boto3.__version__}, botocore {botocore.__version__}",
    "inputs": {"bucket": "photos", "region": "us-east-1", "now": "2026-11-24T12:00:00Z", "expires_in": 600,
               "addressing": "path style on https://s3.us-east-1.amazonaws.com"},
    "cases": cases,
}
path = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/boto3-presigned-url.json"
path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {path}")
