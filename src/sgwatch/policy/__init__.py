"""Policy: the finding catalog, the YAML policy file, and evaluate()."""

from sgwatch.policy.catalog import CatalogEntry, get_entry, load_catalog
from sgwatch.policy.evaluate import evaluate
from sgwatch.policy.schema import Policy, load_policy, parse_policy

__all__ = ["CatalogEntry", "Policy", "evaluate", "get_entry", "load_catalog", "load_policy", "parse_policy"]
