"""Realistic CloudTrail records for benchmarks and tests: many services, identities, user agents and shapes.

Everything derives from one ``random.Random``, so a seed gives the same records byte for byte. Besides the
ordinary traffic there are security-group changes of every shape sgwatch decodes, and adversarial records that
carry security-group event names where a byte-level pre-filter could be fooled: inside IAM policy documents,
EventBridge patterns, CloudTrail lookups, automation parameters, look-alike RDS/Redshift event names, and
``\\u``-escaped names.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

Params = Callable[["Faker"], dict[str, Any] | None]

REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1")
USER_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/{cmd}",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.150.0",
    "aws-sdk-java/2.25.16 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.151.0",
    "console.amazonaws.com",
    "AWS Internal",
    "aws-sdk-js/3.540.0 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 lang/js md/nodejs#20.11.1 api/{svc}#3.540.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
)
USERS = ("alice", "bob", "carol.nguyen", "deploy-bot", "jsmith", "ci-runner", "renée.dubois", "ops-breakglass")
ROLES = (
    "OrganizationAccountAccessRole",
    "AWSReservedSSO_AdministratorAccess_5b1c8e2f9a0d4c3b",
    "AWSReservedSSO_ReadOnly_0f3e2d1c4b5a6978",
    "eks-node-group-role",
    "github-actions-deploy",
    "lambda-orders-processor",
    "ecsTaskExecutionRole",
    "datadog-integration",
)
SERVICES = (
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "autoscaling.amazonaws.com",
    "cloudformation.amazonaws.com",
    "config.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ssm.amazonaws.com",
)
RESOURCE_TYPES = {"s3": "AWS::S3::Object", "kms": "AWS::KMS::Key", "sts": "AWS::IAM::Role"}
SG_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:ModifySecurityGroupRules",
                    "ec2:CreateSecurityGroup",
                    "ec2:DeleteSecurityGroup",
                    "ec2:ModifyNetworkInterfaceAttribute",
                ],
                "Resource": "*",
            }
        ],
    },
    indent=2,
)


class Faker:
    """Draws accounts, identities and values from one seeded Random."""

    def __init__(self, rng: random.Random, accounts: int = 6) -> None:
        self.rng = rng
        self.accounts = tuple(str(rng.randrange(10**11, 10**12)) for _ in range(accounts))

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def upper(self, n: int) -> str:
        return base64.b32encode(self.rng.randbytes(n)).decode()[:n]

    def b64(self, n: int) -> str:
        return base64.b64encode(self.rng.randbytes(n)).decode()[:n]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def sg(self) -> str:
        return f"sg-0{self.hex(16)}"

    def ip(self) -> str:
        r = self.rng
        return self.rng.choice(
            (f"{r.randrange(3, 223)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",) * 3
            + (f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",)
        )

    def cidr(self) -> str:
        r = self.rng
        return r.choice(
            (
                "0.0.0.0/0",
                f"10.{r.randrange(256)}.0.0/16",
                f"{r.randrange(3, 223)}.{r.randrange(256)}.{r.randrange(256)}.0/24",
                "172.16.0.0/12",
                f"{self.ip()}/32",
            )
        )

    def identity(self, account: str) -> dict[str, Any]:
        r = self.rng
        kind = r.choices(("AssumedRole", "AWSService", "IAMUser", "Root", "FederatedUser"), (55, 20, 20, 1, 4))[0]
        if kind == "AWSService":
            return {"type": "AWSService", "invokedBy": r.choice(SERVICES)}
        principal = f"AROA{self.upper(17)}"
        created = f"2024-03-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}Z"
        if kind == "AssumedRole":
            role, session = (
                r.choice(ROLES),
                r.choice((*USERS, f"i-0{self.hex(16)}", f"botocore-session-{r.randrange(10**9, 10**10)}")),
            )
            return {
                "type": "AssumedRole",
                "principalId": f"{principal}:{session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                "accountId": account,
                "accessKeyId": f"ASIA{self.upper(16)}",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": principal,
                        "arn": f"arn:aws:iam::{account}:role/{role}",
                        "accountId": account,
                        "userName": role,
                    },
                    "webIdFederationData": {},
                    "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
                    **({"ec2RoleDelivery": "2.0"} if session.startswith("i-") else {}),
                },
            }
        if kind == "IAMUser":
            user = r.choice(USERS)
            return {
                "type": "IAMUser",
                "principalId": f"AIDA{self.upper(17)}",
                "arn": f"arn:aws:iam::{account}:user/{user}",
                "accountId": account,
                "accessKeyId": f"AKIA{self.upper(16)}",
                "userName": user,
            }
        if kind == "Root":
            return {
                "type": "Root",
                "principalId": account,
                "arn": f"arn:aws:iam::{account}:root",
                "accountId": account,
                "accessKeyId": f"ASIA{self.upper(16)}",
                "sessionContext": {"attributes": {"creationDate": created, "mfaAuthenticated": "true"}},
            }
        return {
            "type": "FederatedUser",
            "principalId": f"{account}:{r.choice(USERS)}",
            "arn": f"arn:aws:sts::{account}:federated-user/{r.choice(USERS)}",
            "accountId": account,
            "accessKeyId": f"ASIA{self.upper(16)}",
        }

    def record(  # noqa: PLR0917 - where/when/what in CloudTrail's own order reads best at the call sites
        self,
        account: str,
        region: str,
        when: datetime,
        source: str,
        name: str,
        params: dict[str, Any] | None,
        response: dict[str, Any] | None = None,
        *,
        read_only: bool | None = None,
    ) -> dict[str, Any]:
        r = self.rng
        ident = self.identity(account)
        service = source.split(".", maxsplit=1)[0]
        if params is not None and name.startswith(("Describe", "List", "Get")) and r.random() < 0.6:
            params = {**params, "maxResults": 1000, "nextToken": self.b64(200)}  # paginated calls
        if ident["type"] == "AWSService":
            agent, address = ident["invokedBy"], ident["invokedBy"]
        else:
            agent, address = r.choice(USER_AGENTS).format(cmd=f"{service}.{name.lower()}", svc=service), self.ip()
        rec: dict[str, Any] = {
            "eventVersion": r.choice(("1.08", "1.09", "1.10")),
            "userIdentity": ident,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": address,
            "userAgent": agent,
            "requestParameters": params,
            "responseElements": response,
            "requestID": self.uuid(),
            "eventID": self.uuid(),
            "readOnly": name.startswith(("Describe", "Get", "List", "Head", "Lookup"))
            if read_only is None
            else read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if r.random() < 0.04:
            rec["errorCode"], rec["errorMessage"] = r.choice(
                (
                    (
                        "AccessDenied",
                        f"User: {ident.get('arn', 'unknown')} is not authorized to perform: {service}:{name}",
                    ),
                    ("ThrottlingException", "Rate exceeded"),
                )
            )
        if ident["type"] != "AWSService":
            rec["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{service}.{region}.amazonaws.com",
            }
        if source in ("s3.amazonaws.com", "kms.amazonaws.com", "sts.amazonaws.com"):
            rec["resources"] = [
                {
                    "accountId": account,
                    "type": RESOURCE_TYPES[service],
                    "ARN": f"arn:aws:{service}:{region}:{account}:{self.hex(8)}/{self.uuid()}",
                }
            ]
        if service == "s3":
            rec["additionalEventData"] = {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": self.b64(76),
                "bytesTransferredOut": r.randrange(100, 10**6),
            }
        if service == "kms":
            rec["additionalEventData"] = {
                "keyMaterialId": self.hex(64),
                "encryptionContext": {"aws:ebs:id": f"vol-0{self.hex(16)}"},
            }
        if r.random() < 0.1:
            rec["vpcEndpointId"] = f"vpce-0{self.hex(16)}"
        if r.random() < 0.15:
            rec["sharedEventID"] = self.uuid()
        return rec


def _filters(f: Faker, *names: str) -> dict[str, Any]:
    return {
        "items": [{"name": n, "valueSet": {"items": [{"value": f"{n.split('-')[0]}-0{f.hex(16)}"}]}} for n in names]
    }


def _assume_role(f: Faker) -> dict[str, Any]:
    p: dict[str, Any] = {
        "roleArn": f"arn:aws:iam::{f.rng.choice(f.accounts)}:role/{f.rng.choice(ROLES)}",
        "roleSessionName": f"session-{f.hex(8)}",
        "durationSeconds": 3600,
    }
    if f.rng.random() < 0.05:  # an inline session policy naming security-group actions (as RDS's service role does)
        p["policy"] = SG_POLICY
    return p


def _assume_role_response(f: Faker) -> dict[str, Any]:
    return {
        "credentials": {
            "accessKeyId": f"ASIA{f.upper(16)}",
            "sessionToken": "IQoJb3JpZ2luX2Vj" + f.b64(600),
            "expiration": "Mar 12, 2024, 11:15:08 AM",
        },
        "assumedRoleUser": {
            "assumedRoleId": f"AROA{f.upper(17)}:session",
            "arn": f"arn:aws:sts::{f.rng.choice(f.accounts)}:assumed-role/{f.rng.choice(ROLES)}/session",
        },
    }


# (weight, eventSource, eventName, requestParameters, responseElements)
TRAFFIC: tuple[tuple[float, str, str, Params, Params], ...] = (
    (12, "sts.amazonaws.com", "AssumeRole", _assume_role, _assume_role_response),
    (3, "sts.amazonaws.com", "GetCallerIdentity", lambda f: None, lambda f: None),
    (
        10,
        "kms.amazonaws.com",
        "Decrypt",
        lambda f: {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {
                "aws:lambda:FunctionArn": f"arn:aws:lambda:us-east-1:{f.accounts[0]}:function:orders-{f.hex(6)}"
            },
        },
        lambda f: None,
    ),
    (
        5,
        "kms.amazonaws.com",
        "GenerateDataKey",
        lambda f: {
            "keyId": f"arn:aws:kms:us-east-1:{f.accounts[0]}:key/{f.uuid()}",
            "keySpec": "AES_256",
            "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::logs-{f.hex(8)}/AWSLogs/{f.hex(12)}"},
        },
        lambda f: None,
    ),
    (
        12,
        "s3.amazonaws.com",
        "GetObject",
        lambda f: {
            "bucketName": f"app-assets-{f.hex(6)}",
            "Host": "s3.amazonaws.com",
            "key": f"static/releases/{f.hex(12)}/assets/{f.hex(20)}/{f.rng.choice(('index.html', 'app.js', 'logo.png'))}",
        },
        lambda f: None,
    ),
    (
        4,
        "s3.amazonaws.com",
        "PutObject",
        lambda f: {
            "bucketName": f"cloudtrail-{f.hex(6)}",
            "Host": "s3.amazonaws.com",
            "key": f"AWSLogs/{f.accounts[0]}/CloudTrail/{f.hex(20)}.json.gz",
            "x-amz-acl": "bucket-owner-full-control",
        },
        lambda f: None,
    ),
    (
        2,
        "s3.amazonaws.com",
        "GetBucketAcl",
        lambda f: {"bucketName": f"app-assets-{f.hex(6)}", "Host": "s3.amazonaws.com", "acl": ""},
        lambda f: None,
    ),
    (
        5,
        "ec2.amazonaws.com",
        "DescribeInstances",
        lambda f: {
            "instancesSet": {"items": [{"instanceId": f"i-0{f.hex(16)}"} for _ in range(f.rng.randrange(1, 4))]},
            "filterSet": _filters(f, "vpc-id"),
        },
        lambda f: None,
    ),
    (
        3,
        "ec2.amazonaws.com",
        "DescribeSecurityGroups",
        lambda f: {"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": f.sg()}]}, "filterSet": {}},
        lambda f: None,
    ),
    (
        1,
        "ec2.amazonaws.com",
        "DescribeSecurityGroupRules",
        lambda f: {
            "DescribeSecurityGroupRulesRequest": {
                "Filter": {"Name": "group-id", "Value": {"content": f.sg(), "tag": 1}, "tag": 1}
            }
        },
        lambda f: None,
    ),
    (
        3,
        "ec2.amazonaws.com",
        "DescribeNetworkInterfaces",
        lambda f: {"networkInterfaceIdSet": {}, "filterSet": _filters(f, "subnet-id", "group-id")},
        lambda f: None,
    ),
    (
        2,
        "ec2.amazonaws.com",
        "DescribeVolumes",
        lambda f: {"volumeSet": {}, "filterSet": _filters(f, "attachment.instance-id")},
        lambda f: None,
    ),
    (
        1,
        "ec2.amazonaws.com",
        "CreateTags",
        lambda f: {
            "resourcesSet": {"items": [{"resourceId": f"i-0{f.hex(16)}"}]},
            "tagSet": {"items": [{"key": "team", "value": f.rng.choice(("payments", "search", "data"))}]},
        },
        lambda f: {"requestId": f.uuid(), "_return": True},
    ),
    (
        3,
        "logs.amazonaws.com",
        "CreateLogStream",
        lambda f: {
            "logGroupName": f"/aws/lambda/orders-{f.hex(6)}",
            "logStreamName": f"2024/03/12/[$LATEST]{f.hex(32)}",
        },
        lambda f: None,
    ),
    (
        3,
        "monitoring.amazonaws.com",
        "GetMetricData",
        lambda f: {
            "metricDataQueries": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": "AWS/EC2",
                            "metricName": "CPUUtilization",
                            "dimensions": [{"name": "InstanceId", "value": f"i-0{f.hex(16)}"}],
                        },
                        "period": 300,
                        "stat": "Average",
                    },
                }
            ],
            "startTime": "Mar 12, 2024, 10:00:00 AM",
            "endTime": "Mar 12, 2024, 10:05:00 AM",
        },
        lambda f: None,
    ),
    (
        4,
        "ssm.amazonaws.com",
        "UpdateInstanceInformation",
        lambda f: {
            "instanceId": f"i-0{f.hex(16)}",
            "agentVersion": "3.3.40.0",
            "agentStatus": "Active",
            "platformType": "Linux",
            "platformName": "Amazon Linux",
            "platformVersion": "2023",
            "iPAddress": f.ip(),
            "computerName": f"ip-10-0-{f.rng.randrange(256)}-{f.rng.randrange(256)}.ec2.internal",
            "agentName": "amazon-ssm-agent",
            "availabilityZone": "us-east-1a",
            "availabilityZoneId": "use1-az4",
        },
        lambda f: None,
    ),
    (
        3,
        "ssm.amazonaws.com",
        "GetParameter",
        lambda f: {"name": f"/prod/orders/{f.hex(8)}", "withDecryption": True},
        lambda f: None,
    ),
    (
        2,
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        lambda f: {"secretId": f"arn:aws:secretsmanager:us-east-1:{f.accounts[0]}:secret:prod/db-{f.hex(6)}"},
        lambda f: None,
    ),
    (2, "iam.amazonaws.com", "GetRole", lambda f: {"roleName": f.rng.choice(ROLES)}, lambda f: None),
    (1, "iam.amazonaws.com", "ListAttachedRolePolicies", lambda f: {"roleName": f.rng.choice(ROLES)}, lambda f: None),
    (
        2,
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        lambda f: {"functionName": f"orders-{f.hex(6)}"},
        lambda f: None,
    ),
    (2, "dynamodb.amazonaws.com", "DescribeTable", lambda f: {"tableName": f"orders-{f.hex(4)}"}, lambda f: None),
    (2, "ecr.amazonaws.com", "GetAuthorizationToken", lambda f: {"registryIds": [f.accounts[0]]}, lambda f: None),
    (
        1,
        "elasticloadbalancing.amazonaws.com",
        "DescribeTargetHealth",
        lambda f: {
            "targetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:{f.accounts[0]}:targetgroup/web/{f.hex(16)}"
        },
        lambda f: None,
    ),
    (
        1,
        "autoscaling.amazonaws.com",
        "DescribeAutoScalingGroups",
        lambda f: {"autoScalingGroupNames": [f"eks-nodes-{f.hex(8)}"]},
        lambda f: None,
    ),
    (
        1,
        "cloudformation.amazonaws.com",
        "DescribeStacks",
        lambda f: {"stackName": f"arn:aws:cloudformation:us-east-1:{f.accounts[0]}:stack/app/{f.uuid()}"},
        lambda f: None,
    ),
    (0.5, "signin.amazonaws.com", "ConsoleLogin", lambda f: None, lambda f: {"ConsoleLogin": "Success"}),
    (
        0.5,
        "rds.amazonaws.com",
        "DescribeDBInstances",
        lambda f: {"dBInstanceIdentifier": f"orders-{f.hex(4)}"},
        lambda f: None,
    ),
    # Adversarial: security-group names where a byte pre-filter sees them, in records that are not SG changes.
    (
        0.3,
        "iam.amazonaws.com",
        "CreatePolicy",
        lambda f: {"policyName": f"sg-admin-{f.hex(4)}", "policyDocument": SG_POLICY},
        lambda f: {"policy": {"policyName": "sg-admin", "arn": f"arn:aws:iam::{f.accounts[0]}:policy/sg-admin"}},
    ),
    (
        0.2,
        "events.amazonaws.com",
        "PutRule",
        lambda f: {
            "name": "sg-changes",
            "eventPattern": json.dumps(
                {
                    "source": ["aws.ec2"],
                    "detail": {
                        "eventSource": ["ec2.amazonaws.com"],
                        "eventName": [
                            "AuthorizeSecurityGroupIngress",
                            "RevokeSecurityGroupEgress",
                            "ModifySecurityGroupRules",
                        ],
                    },
                }
            ),
            "state": "ENABLED",
        },
        lambda f: {"ruleArn": f"arn:aws:events:us-east-1:{f.accounts[0]}:rule/sg-changes"},
    ),
    (
        0.2,
        "cloudtrail.amazonaws.com",
        "LookupEvents",
        lambda f: {
            "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "AuthorizeSecurityGroupIngress"}],
            "maxResults": 50,
        },
        lambda f: None,
    ),
    (
        0.1,
        "ssm.amazonaws.com",
        "StartAutomationExecution",
        lambda f: {
            "documentName": "Custom-RevertSecurityGroup",
            "parameters": {
                "eventName": ["RevokeSecurityGroupIngress"],
                "eventSource": ["ec2.amazonaws.com"],
                "GroupId": [f.sg()],
            },
        },
        lambda f: {"automationExecutionId": f.uuid()},
    ),
    (
        0.1,
        "rds.amazonaws.com",
        "AuthorizeDBSecurityGroupIngress",
        lambda f: {"dBSecurityGroupName": "legacy", "cIDRIP": "0.0.0.0/0"},
        lambda f: None,
    ),
    (
        0.1,
        "redshift.amazonaws.com",
        "AuthorizeClusterSecurityGroupIngress",
        lambda f: {"clusterSecurityGroupName": "default", "cIDRIP": "10.0.0.0/8"},
        lambda f: None,
    ),
)

CUMULATIVE = tuple(itertools.accumulate(t[0] for t in TRAFFIC))


def _permission(f: Faker, *, egress: bool = False) -> dict[str, Any]:
    r = f.rng
    proto = r.choices(("tcp", "udp", "icmp", "-1"), (70, 10, 5, 15))[0]
    perm: dict[str, Any] = {"ipProtocol": proto, "groups": {}, "ipRanges": {}, "ipv6Ranges": {}, "prefixListIds": {}}
    if proto in ("tcp", "udp"):
        port = r.choice((22, 80, 443, 3389, 5432, 6379, 8080, 9200, 27017))
        perm["fromPort"], perm["toPort"] = port, port if r.random() < 0.8 else port + r.randrange(1, 1000)
    elif proto == "icmp":
        perm["fromPort"], perm["toPort"] = -1, -1
    peer = r.choices(("ipv4", "ipv6", "group", "prefix"), (70, 10, 15, 5))[0]
    desc = {"description": r.choice(("temp debug", "office VPN", "bastion", "monitoring"))} if r.random() < 0.5 else {}
    if peer == "ipv4":
        perm["ipRanges"] = {"items": [{"cidrIp": f.cidr(), **desc} for _ in range(r.randrange(1, 3))]}
    elif peer == "ipv6":
        perm["ipv6Ranges"] = {"items": [{"cidrIpv6": r.choice(("::/0", "2001:db8::/32")), **desc}]}
    elif peer == "group":
        perm["groups"] = {
            "items": [{"groupId": f.sg(), **({"userId": r.choice(f.accounts)} if r.random() < 0.3 else {})}]
        }
    else:
        perm["prefixListIds"] = {"items": [{"prefixListId": f"pl-0{f.hex(16)}"}]}
    if egress and r.random() < 0.5:
        perm = {
            "ipProtocol": "-1",
            "groups": {},
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
            "ipv6Ranges": {},
            "prefixListIds": {},
        }
    return perm


def _rule_set(f: Faker, group: str, perms: list[dict[str, Any]], egress: bool) -> dict[str, Any]:
    items = []
    for perm in perms:
        for key, field in (("ipRanges", "cidrIp"), ("ipv6Ranges", "cidrIpv6")):
            for entry in perm[key].get("items", []):
                rule = {
                    "groupOwnerId": f.accounts[0],
                    "groupId": group,
                    "securityGroupRuleId": f"sgr-0{f.hex(16)}",
                    "isEgress": egress,
                    "ipProtocol": perm["ipProtocol"],
                }
                rule.update({k: perm[k] for k in ("fromPort", "toPort") if k in perm})
                rule["cidrIpv4" if field == "cidrIp" else "cidrIpv6"] = entry[field]
                items.append(rule)
    return {"requestId": f.uuid(), "_return": True, **({"securityGroupRuleSet": {"items": items}} if items else {})}


def sg_change(f: Faker, account: str, region: str, when: datetime) -> dict[str, Any]:
    """One security-group change record, of a randomly chosen shape."""
    r = f.rng
    group = f.sg()
    shape = r.choices(
        (
            "authorize",
            "authorize_flat",
            "authorize_egress",
            "revoke",
            "revoke_ids",
            "modify_rules",
            "describe",
            "create",
            "delete",
            "eni",
            "instance",
        ),
        (30, 5, 10, 10, 5, 8, 5, 8, 6, 8, 5),
    )[0]
    ok = {"requestId": f.uuid(), "_return": True}
    if shape in ("authorize", "authorize_egress", "revoke", "describe"):
        egress = shape == "authorize_egress" or (shape != "authorize" and r.random() < 0.3)
        perms = [_permission(f, egress=egress) for _ in range(r.choice((1, 1, 1, 2, 3)))]
        verb = {
            "authorize": "Authorize",
            "authorize_egress": "Authorize",
            "revoke": "Revoke",
            "describe": "UpdateSecurityGroupRuleDescriptions",
        }[shape]
        name = f"{verb}SecurityGroup{'Egress' if egress else 'Ingress'}"
        if shape == "describe":
            name = f"UpdateSecurityGroupRuleDescriptions{'Egress' if egress else 'Ingress'}"
        response = _rule_set(f, group, perms, egress) if verb == "Authorize" else ok
        return f.record(
            account,
            region,
            when,
            "ec2.amazonaws.com",
            name,
            {"groupId": group, "ipPermissions": {"items": perms}},
            response,
        )
    if shape == "authorize_flat":
        port = r.choice((22, 3389, 443))
        params = {
            "groupId": group,
            "ipPermissions": {},
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
            "cidrIp": f.cidr(),
        }
        return f.record(account, region, when, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", params, ok)
    if shape == "revoke_ids":
        ids = {"items": [{"securityGroupRuleId": f"sgr-0{f.hex(16)}"} for _ in range(r.randrange(1, 4))]}
        name = r.choice(("RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress"))
        return f.record(
            account, region, when, "ec2.amazonaws.com", name, {"groupId": group, "securityGroupRuleIds": ids}, ok
        )
    if shape == "modify_rules":
        rule: dict[str, Any] = {"IpProtocol": r.choice(("tcp", "-1")), "CidrIpv4": f.cidr()}
        if rule["IpProtocol"] == "tcp":
            rule["FromPort"] = rule["ToPort"] = r.choice((22, 443, 8443))
        params = {
            "ModifySecurityGroupRulesRequest": {
                "GroupId": group,
                "SecurityGroupRule": {"SecurityGroupRuleId": f"sgr-0{f.hex(16)}", "SecurityGroupRule": rule, "tag": 1},
            }
        }
        return f.record(
            account,
            region,
            when,
            "ec2.amazonaws.com",
            "ModifySecurityGroupRules",
            params,
            {"ModifySecurityGroupRulesResponse": {"requestId": f.uuid(), "return": True}},
        )
    if shape == "create":
        params = {
            "groupName": f"app-{f.hex(6)}",
            "groupDescription": "managed by terraform",
            "vpcId": f"vpc-0{f.hex(16)}",
        }
        return f.record(
            account, region, when, "ec2.amazonaws.com", "CreateSecurityGroup", params, {**ok, "groupId": group}
        )
    if shape == "delete":
        return f.record(account, region, when, "ec2.amazonaws.com", "DeleteSecurityGroup", {"groupId": group}, ok)
    target = ("networkInterfaceId", f"eni-0{f.hex(16)}") if shape == "eni" else ("instanceId", f"i-0{f.hex(16)}")
    params = {target[0]: target[1], "groupSet": {"items": [{"groupId": f.sg()} for _ in range(r.randrange(1, 3))]}}
    name = "ModifyNetworkInterfaceAttribute" if shape == "eni" else "ModifyInstanceAttribute"
    return f.record(account, region, when, "ec2.amazonaws.com", name, params, ok)


def traffic(f: Faker, account: str, region: str, when: datetime) -> dict[str, Any]:
    """One ordinary (non security-group) record."""
    _, source, name, params, response = f.rng.choices(TRAFFIC, cum_weights=CUMULATIVE)[0]
    return f.record(account, region, when, source, name, params(f), response(f))


def encode(f: Faker, record: dict[str, Any], *, escape_rate: float = 0.01) -> str:
    """Minified JSON as CloudTrail writes it; a few records escape non-ASCII, a few escape their event name."""
    r = f.rng
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=r.random() < 0.5)
    if r.random() < escape_rate:  # legal JSON that a plain substring search for the name would miss
        name = record["eventName"]
        text = text.replace(f'"eventName":"{name}"', f'"eventName":"\\u{ord(name[0]):04x}{name[1:]}"', 1)
    return text


def start_time(f: Faker) -> datetime:
    return datetime(2024, 3, 12, 0, 0) + timedelta(minutes=5 * f.rng.randrange(12 * 24))
