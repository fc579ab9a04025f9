from synthgov.domains import CliMount, Manifest
from synthgov.labeling.events import ContentLabeled
from synthgov.labeling.permissions import LabelingPermission

MANIFEST = Manifest(
    name="labeling",
    summary="Visible, metadata and watermark labels on generated content, with its generation record",
    models=("synthgov.labeling.models",),
    events=(ContentLabeled,),
    permissions=LabelingPermission,
    default_grants=(LabelingPermission.LABEL_CREATE,),
    cli=(CliMount("label", "synthgov.labeling.cli:app", "Apply GB 45438 labels to generated content."),),
    router="synthgov.labeling.views:router",
    policy="synthgov.labeling.policy:from_settings",
    requires=("records", "audit"),
)
