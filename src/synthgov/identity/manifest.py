from synthgov.domains import CliMount, Manifest
from synthgov.identity.events import ApiKeyCreated, ApiKeyRevoked
from synthgov.identity.permissions import IdentityPermission

MANIFEST = Manifest(
    name="identity",
    summary="API keys and the actors behind requests",
    models=("synthgov.identity.models",),
    events=(ApiKeyCreated, ApiKeyRevoked),
    permissions=IdentityPermission,
    cli=(CliMount("apikey", "synthgov.identity.cli:app", "API keys for the HTTP API."),),
    requires=("audit",),
)
