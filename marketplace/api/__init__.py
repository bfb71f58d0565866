"""The JSON API under /api/v1, for the mobile app and integrations; described by /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify

from marketplace.api import auth
from marketplace.api import books as books_api
from marketplace.api import governance as governance_api
from marketplace.api import marketplace as marketplace_api
from marketplace.api import money as money_api
from marketplace.api.spec import API_PREFIX, build_openapi


def create_blueprint() -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
    auth.register(bp)
    money_api.register(bp)
    marketplace_api.register(bp)
    books_api.register(bp)
    governance_api.register(bp)

    @bp.get("/openapi.json")
    def openapi():
        return jsonify(build_openapi(current_app.config["SITE_NAME"]))

    return bp


def register_api(app: Flask) -> None:
    from marketplace.extensions import csrf

    bp = create_blueprint()
    csrf.exempt(bp)
    app.register_blueprint(bp)
