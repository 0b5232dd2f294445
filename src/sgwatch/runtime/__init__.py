"""The runtime shared by the Lambda handler and ``sgwatch watch``: one ``App`` per process, one
``process_batch`` per batch of source items (judge -> enrich -> remediate -> notify -> audit)."""

from sgwatch.runtime.app import App, build_app
from sgwatch.runtime.batch import BatchResult, process_batch
from sgwatch.runtime.clients import AwsClients
from sgwatch.runtime.logs import configure_logging, log_event

__all__ = ["App", "AwsClients", "BatchResult", "build_app", "configure_logging", "log_event", "process_batch"]
