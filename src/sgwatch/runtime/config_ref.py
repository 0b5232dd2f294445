"""Settings from a config reference: a YAML file path, or ``ssm:/name`` (an SSM parameter holding the YAML).

This is how the Lambda function (``SGWATCH_CONFIG``) finds its config. The environment is passed in:
stages never read ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from sgwatch.errors import ConfigError, aws_error_text
from sgwatch.runtime.clients import AwsClients
from sgwatch.settings import Settings, load_settings, load_settings_text, table_name

SSM_PREFIX = "ssm:"
LEDGER_TABLE_SOURCE = "SGWATCH_LEDGER_TABLE"  # where the default table name comes from, for errors


def read_ssm_parameter(name: str, clients: AwsClients) -> str:
    """The (decrypted) value of an SSM parameter; ConfigError names it on failure."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        response = clients.client("ssm").get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        raise ConfigError(
            f"ssm:{name}: cannot read the config parameter: {aws_error_text(exc, None)} "
            "(check the parameter name, region and ssm:GetParameter / kms:Decrypt permissions)"
        ) from exc
    except BotoCoreError as exc:
        raise ConfigError(f"ssm:{name}: cannot read the config parameter: {exc}") from exc
    return str(response["Parameter"]["Value"])


def load_config_ref(
    ref: str | None,
    environ: Mapping[str, str],
    clients: AwsClients,
    *,
    enrich_default: bool = False,
    ledger_table_default: str | None = None,
) -> Settings:
    """Settings from ``ref`` (path or ``ssm:/name``; None or empty = defaults).

    The defaults apply when the config does not set the value itself: ``enrich_default`` for ``enrich:``
    (the Lambda default is on), ``ledger_table_default`` (the stack's table, checked like the config's)
    for ``audit: {ledger_table: ...}``.
    """
    table = table_name(ledger_table_default, LEDGER_TABLE_SOURCE) if ledger_table_default else None
    ref = (ref or "").strip()
    if not ref:
        return Settings(environ=dict(environ), enrich=enrich_default, ledger_table=table)
    if ref.startswith(SSM_PREFIX):
        name = ref[len(SSM_PREFIX) :]
        if not name:
            raise ConfigError(f"{ref!r}: expected ssm:/parameter-name")
        settings = load_settings_text(read_ssm_parameter(name, clients), ref, environ)
    else:
        settings = load_settings(Path(ref), environ)
    return replace(
        settings,
        enrich=enrich_default if settings.enrich is None else settings.enrich,
        ledger_table=settings.ledger_table or table,
    )
