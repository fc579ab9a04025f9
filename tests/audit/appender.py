"""A separate process appending audit events, for the durability and concurrency tests.

Usage: python -m tests.audit.appender DATA_DIR DATABASE_URL COUNT TAG
Prints the index of every event after its transaction committed.
"""

import sys

from synthgov.audit import service
from synthgov.bootstrap import open_platform
from synthgov.config import load_settings
from synthgov.identity.events import ApiKeyRevoked
from synthgov.permissions import Actor


def main() -> None:
    data_dir, url, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    platform = open_platform(load_settings(data_dir=data_dir, database_url=url))
    actor = Actor.operator(f"appender-{tag}")
    for i in range(count):
        with platform.unit_of_work(actor) as ctx:
            idx = service.record(ctx, ApiKeyRevoked(f"{tag}-{i}"))
        sys.stdout.write(f"{idx}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
