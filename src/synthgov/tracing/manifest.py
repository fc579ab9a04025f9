from synthgov.domains import CliMount, Manifest
from synthgov.tracing.permissions import TracingPermission

MANIFEST = Manifest(
    name="tracing",
    summary="Inspect content: read, check and verify every label and trace it to its record",
    permissions=TracingPermission,
    default_grants=(TracingPermission.INSPECT,),
    cli=(CliMount("inspect", "synthgov.tracing.cli:inspect",
                  "Read, check, verify and trace every label in files.", group=False),),
    router="synthgov.tracing.views:router",
    policy="synthgov.tracing.policy:from_settings",
    requires=("records",),
)
