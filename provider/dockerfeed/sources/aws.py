"""The aws source: ECR GetAuthorizationToken through botocore's own credential chain.

botocore signs the request (SigV4) and finds the identity: environment, profile, SSO, web
identity (OIDC in CI), container or instance metadata. With `roleArn` the identity first assumes
that role through STS. The account and region come from the registry's host
(`<account>.dkr.ecr.<region>.amazonaws.com`) unless `registryId`/`region` say otherwise (a
pull-through name, a VPC endpoint). The token is a base64 `AWS:<password>`, valid 12 hours.
Endpoints follow botocore's configuration too (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_STS`).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from dockerfeed.sources.errors import SourceConfigError, SourceError
from dockerfeed.sources.resolved import RegistryHost, Resolved, require
from dockerfeed.sources.spec import CredentialSpec

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], and the dual-stack <account>.dkr-ecr.<region>.on.aws
ECR_HOST = re.compile(
    r"(?P<account>\d{12})\.dkr(?:\.ecr(?:-fips)?|-ecr)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
    r"\.(?:amazonaws\.com(?:\.cn)?|on\.aws)"
)
SESSION_NAME = "pulumi-dockerfeed"


def parse_ecr_host(hostname: str) -> tuple[str, str] | None:
    """(account, region) of an ECR registry host name; None for any other host."""
    found = ECR_HOST.fullmatch(hostname.lower())
    return (found["account"], found["region"]) if found else None


def _target(spec: CredentialSpec, registry: RegistryHost) -> tuple[str, str]:
    parsed = parse_ecr_host(registry.hostname)
    account = spec.registry_id or (parsed[0] if parsed else None)
    region = spec.region or (parsed[1] if parsed else None)
    if account is None or region is None:
        missing = " and ".join(name for name, v in (("registryId", account), ("region", region)) if v is None)
        raise SourceConfigError(
            f"credentials source aws: {registry.netloc} is not an ECR host "
            "(<account>.dkr.ecr.<region>.amazonaws.com), so the account and region cannot be read "
            f"from it; give credentials.{missing}"
        )
    return account, region


def _session(spec: CredentialSpec, region: str) -> Any:
    boto3 = require("boto3", "aws", "boto3")
    session = boto3.Session(profile_name=spec.profile, region_name=region)
    if spec.role_arn is None:
        return session
    answer = session.client("sts").assume_role(RoleArn=spec.role_arn, RoleSessionName=SESSION_NAME)
    keys = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        region_name=region,
    )


def resolve(spec: CredentialSpec, registry: RegistryHost) -> Resolved:
    account, region = _target(spec, registry)
    require("boto3", "aws", "boto3")  # (botocore comes with it)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    where = f"ECR GetAuthorizationToken for account {account} in {region}"
    try:
        ecr = _session(spec, region).client("ecr", region_name=region)
        answer = ecr.get_authorization_token(registryIds=[account])
    except NoCredentialsError:
        raise SourceError(
            f"credentials source aws: no AWS credentials were found for {where} (botocore's chain: "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity "
            "AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE, container or instance metadata); "
            "configure one where the provider runs"
        ) from None
    except ProfileNotFound:
        raise SourceError(
            f"credentials source aws: the AWS profile {spec.profile!r} is not in the AWS config files"
        ) from None
    except ClientError as e:
        error = e.response.get("Error", {})
        step = "STS AssumeRole " + str(spec.role_arn) if e.operation_name == "AssumeRole" else where
        raise SourceError(
            f"credentials source aws: {step} failed: {error.get('Code', 'error')}: "
            f"{error.get('Message', '')}".rstrip(": ")
        ) from None
    except (BotoCoreError, ValueError) as e:
        # botocore's own words (a bad endpoint, region or config setting); they hold no secret.
        raise SourceError(f"credentials source aws: {where} failed: {e}") from None
    data = answer.get("authorizationData") or []
    if not data or not data[0].get("authorizationToken"):
        raise SourceError(f"credentials source aws: {where} answered no authorization token")
    try:
        user, sep, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    except ValueError:
        raise SourceError(f"credentials source aws: {where} answered a token that is not base64") from None
    if not sep or not password:
        raise SourceError(f"credentials source aws: {where} answered a token that is not user:password")
    expires = data[0].get("expiresAt")
    expires_at = expires.timestamp() if isinstance(expires, datetime) else None
    return Resolved(
        username=user,
        secret=password,
        source=f"aws ECR GetAuthorizationToken ({account}, {region})",
        expires_at=expires_at,
    )
