"""The runtime shared by the Lambda handler and ``sgwatch watch``: one ``App`` per process, one
``process_batch`` per batch of source items (judge -> enrich -> remediate -> notify -> audit).

The names below are loaded on first access, so importing one submodule (``sgwatch.runtime.logs``) does not
import the others: the Lambda cold start pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgwatch.lazy import lazy_exports

if TYPE_CHECKING:
    from sgwatch.runtime.app import App, build_app
    from sgwatch.runtime.batch import BatchResult, process_batch
    from sgwatch.runtime.clients import AwsClients
    from sgwatch.runtime.logs import configure_logging, log_event

__all__ = ["App", "AwsClients", "BatchResult", "build_app", "configure_logging", "log_event", "process_batch"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "App": "app",
        "build_app": "app",
        "BatchResult": "batch",
        "process_batch": "batch",
        "AwsClients": "clients",
        "configure_logging": "logs",
        "log_event": "logs",
    },
)
