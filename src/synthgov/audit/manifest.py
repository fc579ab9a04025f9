from synthgov.audit.events import AuditKeyRotated, AuditPurged, HoldPlaced, HoldReleased
from synthgov.audit.permissions import AuditPermission
from synthgov.domains import CliMount, Manifest

MANIFEST = Manifest(
    name="audit",
    summary="The tamper-evident log: Merkle tree, checkpoints outside the database, witnesses, proofs, export, "
            "retention, holds",
    models=("synthgov.audit.models",),
    events=(AuditPurged, HoldPlaced, HoldReleased, AuditKeyRotated),
    permissions=AuditPermission,
    cli=(CliMount("audit", "synthgov.audit.cli:app", "The tamper-evident audit log (RFC 9162 Merkle tree)."),),
    router="synthgov.audit.views:router",
    policy="synthgov.audit.policy:from_settings",
    lifecycle="synthgov.audit.checkpoints:install",
)
