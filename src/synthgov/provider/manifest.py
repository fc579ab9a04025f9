from synthgov.domains import CliMount, Manifest
from synthgov.provider.events import ProviderConfigured

MANIFEST = Manifest(
    name="provider",
    summary="The provider profile: ContentProducer code, keys, config file",
    events=(ProviderConfigured,),
    cli=(CliMount("init", "synthgov.provider.cli:init",
                  "Create the data folder, config, keys and database for one provider.", group=False),),
    requires=("audit",),
)
