"""The worker directory: browse by service, area, rating and a free date; each worker's public profile."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import ServiceCategory
from marketplace.services import profiles
from marketplace.web.forms import apply_errors
from marketplace.web.people.forms import WorkerSearchForm

bp = Blueprint("people", __name__, url_prefix="/workers")

PER_PAGE = 12


def category_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(ServiceCategory.slug, ServiceCategory.name).where(ServiceCategory.is_active.is_(True))
        .order_by(ServiceCategory.name)
    ).all()
    return [("", "Any service"), *((slug, name) for slug, name in rows)]


@bp.route("/")
def index():
    form = WorkerSearchForm(request.args)
    form.category.choices = category_choices()
    results = None
    if form.validate():
        page = max(1, request.args.get("page", 1, type=int))
        try:
            results = profiles.browse_workers(**form.filters(), page=page, per_page=PER_PAGE)
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases={"min_rating": "min_rating", "available_on": "date"})
    return render_template("people/index.html", form=form, results=results, query=form.query_args())


@bp.route("/<int:worker_id>")
def show(worker_id: int):
    return render_template("people/show.html", worker=profiles.public_profile(worker_id))
