from synthgov.domains import CliMount, Manifest
from synthgov.records.permissions import RecordsPermission

MANIFEST = Manifest(
    name="records",
    summary="Generation records and permission-checked reads",
    models=("synthgov.records.models",),
    permissions=RecordsPermission,
    default_grants=(RecordsPermission.RECORD_READ,),
    cli=(CliMount("records", "synthgov.records.cli:app", "Generation records."),),
    router="synthgov.records.views:router",
    requires=("watermarking",),
)
