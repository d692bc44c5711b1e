"""Writes the OpenAPI document to stdout: `python -m boxoffice.server.openapi_file`."""

import sys

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.openapi import render_openapi


def main() -> None:
    app = create_app(Settings(), engine=make_engine("sqlite://"))
    sys.stdout.buffer.write(render_openapi(app))


if __name__ == "__main__":
    main()
