"""The Microsoft Graph client: import `GraphClient` and friends from here.

`connectors.graph.session.graph_client_for_session` builds one for a signed-in Django session.
"""

from __future__ import annotations

from connectors.graph.batch import BatchRequest, BatchResult
from connectors.graph.client import GraphClient, TokenProvider
from connectors.graph.errors import (
    GraphAuthError,
    GraphBadRequest,
    GraphDependencyFailed,
    GraphError,
    GraphNotFound,
    GraphPermissionError,
    GraphThrottled,
    GraphTimeout,
    GraphUnavailable,
)
from connectors.graph.paging import Page
from connectors.graph.responses import GraphResponse
from connectors.graph.retry import RetryPolicy

__all__ = [
    "BatchRequest",
    "BatchResult",
    "GraphAuthError",
    "GraphBadRequest",
    "GraphClient",
    "GraphDependencyFailed",
    "GraphError",
    "GraphNotFound",
    "GraphPermissionError",
    "GraphResponse",
    "GraphThrottled",
    "GraphTimeout",
    "GraphUnavailable",
    "Page",
    "RetryPolicy",
    "TokenProvider",
]
