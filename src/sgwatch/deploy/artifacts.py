"""The deploy's artifacts: the S3 bucket holding the Lambda package, and the package uploaded under its sha256."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from sgwatch.deploy.aws import Aws, bucket_exists, caller_identity, calling, fetch
from sgwatch.deploy.package import build_package, file_sha256
from sgwatch.errors import DeployError

Progress = Callable[[str], None]


def ensure_bucket(aws: Aws, bucket: str | None, progress: Progress, *, account: str | None = None) -> str:
    """The artifact bucket: ``bucket`` if given (must exist), else ``sgwatch-artifacts-<account>-<region>``."""
    s3 = aws.client("s3")
    if bucket is not None:
        with calling(f"checking artifact bucket {bucket!r} (create it first, in {aws.region})"):
            s3.head_bucket(Bucket=bucket)
        return bucket
    if account is None:
        account = caller_identity(aws)[0]
    name = f"sgwatch-artifacts-{account}-{aws.region}"
    if bucket_exists(aws, name):
        return name
    progress(f"creating artifact bucket {name}")
    with calling(f"creating artifact bucket {name!r}"):
        config = {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
        s3.create_bucket(Bucket=name, **config)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    return name


def upload_package(aws: Aws, bucket: str, package_path: Path | None, progress: Progress) -> str:
    """Upload the Lambda zip (building it when ``package_path`` is None); the key holds its sha256."""
    with tempfile.TemporaryDirectory(prefix="sgwatch-deploy-") as tmp:
        if package_path is None:
            progress("building the Lambda package (sgwatch package)")
            package_path = build_package(Path(tmp) / "sgwatch-lambda.zip").path
        if not package_path.is_file():
            raise DeployError(f"--package {package_path}: no such file (build it with `sgwatch package --out PATH`)")
        key = f"sgwatch/lambda-{file_sha256(package_path)}.zip"
        s3 = aws.client("s3")
        if fetch(f"checking s3://{bucket}/{key}", s3.head_object, missing=("404", "NoSuchKey", "NotFound"),
                 Bucket=bucket, Key=key) is not None:  # fmt: skip
            progress(f"package already uploaded: s3://{bucket}/{key}")
            return key
        progress(f"uploading {package_path.name} to s3://{bucket}/{key}")
        with calling(f"uploading the package to s3://{bucket}/{key}"):
            s3.upload_file(str(package_path), bucket, key)
    return key
