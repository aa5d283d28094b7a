"""The Microsoft Graph client: `client.GraphClient` (retries, paging, `$batch`, typed errors from
`errors`), knowing nothing of Django views; `kernel.graph_clients.graph_for` builds one per request.
"""
