"""The CloudTrail part: a multi-region trail with log-file validation, encryption and a locked-down bucket.

The bucket policy is the one CloudTrail documents (GetBucketAcl + PutObject with ``bucket-owner-full-control``,
both pinned to this trail with ``aws:SourceArn``) plus a TLS-only deny. The bucket and key are retained when
the stack is deleted, so the audit logs outlive the pipeline.
"""

from __future__ import annotations

from sgwatch.deploy import iam
from sgwatch.deploy.cfn import (
    NO_VALUE,
    Fragment,
    Json,
    get_att,
    if_,
    output,
    policy_document,
    ref,
    service_principal,
    stack_arn,
    statement,
    sub,
)
from sgwatch.deploy.pipeline import log_group

TRAIL_NAME = "${AWS::StackName}-trail"
ANY_TRAIL_ARN = "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _trail_arn() -> Json:
    return stack_arn("cloudtrail", "trail/" + TRAIL_NAME)


def _key() -> Json:
    cloudtrail = service_principal("cloudtrail")
    any_trail = {"kms:EncryptionContext:aws:cloudtrail:arn": sub(ANY_TRAIL_ARN)}
    return {
        "Type": "AWS::KMS::Key",
        "Condition": "UseTrailKms",
        **RETAIN,
        "Properties": {
            "Description": sub("CloudTrail log encryption for ${AWS::StackName}"),
            "EnableKeyRotation": True,
            "KeyPolicy": policy_document(
                statement(
                    "EnableAccountAdministration",
                    ["kms:*"],
                    "*",
                    principal={"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                ),
                statement(
                    "AllowCloudTrailEncrypt",
                    ["kms:GenerateDataKey*"],
                    "*",
                    principal=cloudtrail,
                    condition={"StringEquals": {"aws:SourceArn": _trail_arn()}, "StringLike": any_trail},
                ),
                statement("AllowCloudTrailDescribeKey", ["kms:DescribeKey"], "*", principal=cloudtrail),
                statement(
                    "AllowAccountDecryptLogs",
                    ["kms:Decrypt", "kms:ReEncryptFrom"],
                    "*",
                    principal={"AWS": "*"},
                    condition={"StringEquals": {"kms:CallerAccount": ref("AWS::AccountId")}, "StringLike": any_trail},
                ),
            ),
        },
    }


def _bucket() -> Json:
    kms = {
        "ServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": get_att("TrailKey", "Arn"),
        },
        "BucketKeyEnabled": True,
    }
    sse_s3 = {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [if_("UseTrailKms", kms, sse_s3)]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    }


def _bucket_policy() -> Json:
    bucket_arn = get_att("TrailBucket", "Arn")
    source = {"aws:SourceArn": _trail_arn()}
    cloudtrail = service_principal("cloudtrail")
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref("TrailBucket"),
            "PolicyDocument": policy_document(
                statement(
                    "AWSCloudTrailAclCheck",
                    ["s3:GetBucketAcl"],
                    bucket_arn,
                    principal=cloudtrail,
                    condition={"StringEquals": dict(source)},
                ),
                statement(
                    "AWSCloudTrailWrite",
                    ["s3:PutObject"],
                    sub("${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"),
                    principal=cloudtrail,
                    condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
                ),
                statement(
                    "DenyInsecureTransport",
                    ["s3:*"],
                    [bucket_arn, sub("${TrailBucket.Arn}/*")],
                    effect="Deny",
                    principal="*",
                    condition={"Bool": {"aws:SecureTransport": "false"}},
                ),
            ),
        },
    }


def _trail(*, cis_alarm: bool) -> Json:
    properties: Json = {
        "TrailName": sub(TRAIL_NAME),
        "S3BucketName": ref("TrailBucket"),
        "IsLogging": True,
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "KMSKeyId": if_("UseTrailKms", get_att("TrailKey", "Arn"), NO_VALUE),
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    }
    if cis_alarm:
        properties["CloudWatchLogsLogGroupArn"] = get_att("TrailLogGroup", "Arn")
        properties["CloudWatchLogsRoleArn"] = get_att("TrailLogsRole", "Arn")
    return {"Type": "AWS::CloudTrail::Trail", "DependsOn": ["TrailBucketPolicy"], "Properties": properties}


def trail_fragment(*, cis_alarm: bool) -> Fragment:
    """Trail, bucket, bucket policy and (with KMS) key; with ``cis_alarm`` also its CloudWatch Logs group."""
    resources: Json = {
        "TrailKey": _key(),
        "TrailBucket": _bucket(),
        "TrailBucketPolicy": _bucket_policy(),
        "Trail": _trail(cis_alarm=cis_alarm),
    }
    outputs: Json = {
        "TrailName": output("The multi-region CloudTrail trail", ref("Trail")),
        "TrailBucketName": output(
            "The S3 bucket holding the trail's log files (retained on delete)", ref("TrailBucket")
        ),
    }
    if cis_alarm:
        resources["TrailLogGroup"] = log_group()
        resources["TrailLogsRole"] = iam.trail_logs_role()
        outputs["TrailLogGroupName"] = output("The trail's CloudWatch Logs group", ref("TrailLogGroup"))
    return Fragment(
        parameters={
            "TrailEncryption": {
                "Type": "String",
                "Description": "Encrypt the trail's log files with a new KMS key (KMS) or with S3-managed keys (SSE-S3)",
                "AllowedValues": ["KMS", "SSE-S3"],
                "Default": "KMS",
            }
        },
        conditions={"UseTrailKms": {"Fn::Equals": [ref("TrailEncryption"), "KMS"]}},
        resources=resources,
        outputs=outputs,
    )


def existing_trail_log_group_fragment() -> Fragment:
    """With an existing trail and the CIS alarm: the name of that trail's CloudWatch Logs group."""
    return Fragment(
        parameters={
            "TrailLogGroupName": {
                "Type": "String",
                "Description": "CloudWatch Logs group your existing multi-region trail delivers to (CIS 4.10 filter)",
                "MinLength": 1,
            }
        }
    )
