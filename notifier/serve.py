"""``./dev serve``: run the app of an INI file under waitress, as ``pserve`` would."""

from __future__ import annotations

import argparse
import logging
import os

from pyramid.paster import get_app, setup_logging
from waitress import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve notifier from an INI file")
    parser.add_argument("ini", help="the INI file, e.g. app.ini")
    parser.add_argument("--host", default=None, help="override [server:main] host")
    parser.add_argument("--port", type=int, default=None, help="override [server:main] port")
    args = parser.parse_args(argv)
    ini = os.path.abspath(args.ini)
    setup_logging(ini)
    app = get_app(ini, "main")
    options = _server_options(ini)
    host = args.host or options.get("host", "127.0.0.1")
    port = args.port or int(options.get("port", "8888"))
    logging.getLogger(__name__).info("notifier listening on http://%s:%s/v1/", host, port)
    serve(app, host=host, port=port, threads=int(options.get("threads", "4")))


def _server_options(ini: str) -> dict[str, str]:
    from configparser import ConfigParser

    parser = ConfigParser()
    parser.read(ini)
    return dict(parser["server:main"]) if parser.has_section("server:main") else {}


if __name__ == "__main__":
    main()
