"""The dashboard's kernel: identity (sign-in, tokens, roles), outbound HTTP, the one fault path,
htmx and API plumbing, CSV. Feature apps (connectors, audit) build on it; it imports none of them.
"""
