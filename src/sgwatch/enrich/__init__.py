"""Enrichment: describe a change's group, rule, interfaces and prefix lists through a port; merge is pure.

``Enricher`` is the ``pipeline.GroupLookup``; ``aws.Boto3Describer`` is the boto3 adapter (boto3 is
imported only when it makes a call).
"""

from sgwatch.enrich.enricher import Enricher
from sgwatch.enrich.facts import GroupFacts, InterfaceFacts, RuleFacts
from sgwatch.enrich.merge import IGNORE_TAG, OWNER_TAG, is_ignored, merge_group_info
from sgwatch.enrich.port import Ec2Describer

__all__ = [
    "IGNORE_TAG",
    "OWNER_TAG",
    "Ec2Describer",
    "Enricher",
    "GroupFacts",
    "InterfaceFacts",
    "RuleFacts",
    "is_ignored",
    "merge_group_info",
]
