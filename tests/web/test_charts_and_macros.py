"""SVG charts and the shared Jinja macros, rendered without the full application."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # running plain `pytest` from the venv does not put the project on the path
    sys.path.insert(0, str(ROOT))

from flask import Flask, flash, render_template_string  # noqa: E402
from flask_wtf import FlaskForm  # noqa: E402
from markupsafe import Markup  # noqa: E402
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField  # noqa: E402
from wtforms.validators import DataRequired, Length  # noqa: E402

from marketplace.web.charts import NO_DATA, bar_chart, column_chart, donut_chart, whole_percentages  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = ROOT / "templates"
EVIL = "<script>alert(1)</script>"


def parse(markup: Markup) -> ET.Element:
    """The chart as an XML tree; fails the test if the markup is not well-formed."""
    return ET.fromstring(str(markup))


def svg_of(root: ET.Element) -> ET.Element:
    return root if root.tag == f"{SVG}svg" else root.find(f"{SVG}svg")


# ---- charts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", [bar_chart, column_chart, donut_chart])
def test_chart_escapes_labels_and_title(chart):
    markup = chart([(EVIL, 3), ("Dog walking", 5)], title='Jobs "by" <category>')
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    root = parse(markup)
    svg = svg_of(root)
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == 'Jobs "by" <category>'
    assert svg.find(f"{SVG}title").text == 'Jobs "by" <category>'
    assert EVIL in "".join(root.itertext())


@pytest.mark.parametrize("chart", [bar_chart, column_chart, donut_chart])
@pytest.mark.parametrize("items", [[], [("Cleaning", 0), ("Childcare", 0)]])
def test_empty_and_all_zero_data_say_no_data(chart, items):
    markup = chart(items, title="Hours")
    svg = svg_of(parse(markup))
    assert NO_DATA in "".join(svg.itertext())
    assert svg.find(f"{SVG}title").text == "Hours"
    assert not svg.findall(f"{SVG}rect") and not svg.findall(f"{SVG}path")


def test_bar_chart_draws_one_bar_per_item_with_formatted_values():
    markup = bar_chart(
        [("Ana", 123456), ("Bo", 500), ("Cy", -2500)], title="Net", value_format=lambda c: f"${c / 100:,.2f}"
    )
    svg = svg_of(parse(markup))
    bars = svg.findall(f"{SVG}rect")
    assert [bar.get("class") for bar in bars] == ["chart-bar", "chart-bar", "chart-bar-alt"]
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] > widths[2] > widths[1] > 0
    assert "$1,234.56" in "".join(svg.itertext())
    for bar in bars:
        assert float(bar.get("x")) >= 0 and float(bar.get("x")) + float(bar.get("width")) <= 640
    assert "style=" not in markup


def test_column_chart_heights_follow_counts_and_highlight():
    items = [("1★", 2), ("2★", 0), ("3★", 4), ("4★", 8), ("5★", 16)]
    svg = svg_of(parse(column_chart(items, title="Ratings", highlight="4★")))
    bars = svg.findall(f"{SVG}rect")
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[1] == 0
    assert heights[4] == pytest.approx(2 * heights[3]) == pytest.approx(8 * heights[0])
    assert [bar.get("class") for bar in bars].count("chart-bar-alt") == 1
    assert bars[3].get("class") == "chart-bar-alt"


def test_column_chart_rejects_negative_counts():
    with pytest.raises(ValueError):
        column_chart([("a", -1)], title="x")


def _legend_percentages(markup: Markup) -> list[int]:
    root = parse(markup)
    values = [li.find("span[@class='legend-value']").text for li in root.find("ul").findall("li")]
    return [int(re.search(r"\((\d+)%\)", text).group(1)) for text in values]


@pytest.mark.parametrize(
    "values",
    [[1, 1, 1], [2, 3, 5], [1, 1, 1, 1, 1, 1], [7], [0, 9, 1], [333, 333, 334], [1, 2, 3, 4, 5, 6, 7, 8, 9]],
)
def test_donut_percentages_sum_to_100(values):
    markup = donut_chart([(f"item {i}", value) for i, value in enumerate(values)], title="Share")
    percentages = _legend_percentages(markup)
    assert sum(percentages) == 100
    assert len(percentages) == min(len(values), 6)


def test_donut_folds_long_tail_into_other_and_draws_full_ring():
    many = donut_chart([(f"c{i}", 10 - i) for i in range(9)], title="Categories")
    labels = [li.find("span[@class='legend-label']").text for li in parse(many).find("ul").findall("li")]
    assert labels == ["c0", "c1", "c2", "c3", "c4", "Other"]
    single = svg_of(parse(donut_chart([("Only", 5), ("None", 0)], title="One")))
    paths = single.findall(f"{SVG}path")
    assert len(paths) == 2 and all("chart-slice-1" in path.get("class") for path in paths)


def test_whole_percentages_largest_remainder():
    assert whole_percentages([1, 1, 1]) == [34, 33, 33]
    assert whole_percentages([0, 0]) == [0, 0]
    assert whole_percentages([1, 0]) == [100, 0]
    assert sum(whole_percentages([17, 29, 3, 51, 1])) == 100


# ---- macros -------------------------------------------------------------------------------------------------


class GigForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="Give the job a title."), Length(max=20)])
    notes = TextAreaField("Notes", description="Anything the worker should know.")
    category = SelectField("Category", choices=[("cleaning", "House cleaning"), ("dogs", "Dog walking")])
    size = RadioField("Size", choices=[("s", "Small"), ("l", "Large")], default="s")
    agree = BooleanField("I agree to the terms", validators=[DataRequired(message="Please agree.")])
    token = HiddenField(default="abc")


@pytest.fixture()
def app():
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False, TESTING=True)

    @app.route("/jobs")
    def jobs():
        return ""

    return app


def render(app, source: str, **context) -> str:
    with app.test_request_context("/jobs"):
        return render_template_string('{% import "_macros.html" as ui %}' + source, **context)


def test_render_field_puts_errors_beside_the_field(app):
    with app.test_request_context("/jobs", method="POST", data={"title": "", "agree": ""}):
        form = GigForm()
        assert not form.validate()
        html = render_template_string('{% import "_macros.html" as ui %}{{ ui.render_field(form.title) }}', form=form)
    assert 'class="field has-error"' in html
    assert '<label for="title">' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="title-error"' in html
    assert re.search(r'<ul class="field-error" id="title-error"><li>Give the job a title\.</li></ul>', html)
    # the error sits right after its input, inside the same wrapper
    assert html.index("<input") < html.index("field-error") < html.index("</div>")


def test_render_field_kinds(app):
    with app.test_request_context("/jobs", method="POST", data={"title": "Clean", "size": "l"}):
        form = GigForm()
        form.validate()
        html = render_template_string(
            '{% import "_macros.html" as ui %}'
            "{{ ui.render_field(form.notes) }}|{{ ui.render_field(form.agree) }}|{{ ui.render_field(form.size) }}"
            "|{{ ui.render_field(form.category, hint='Pick one') }}|{{ ui.render_field(form.token) }}",
            form=form,
        )
    notes, agree, size, category, token = html.split("|")
    assert '<p class="hint" id="notes-hint">Anything the worker should know.</p>' in notes
    assert 'aria-describedby="notes-hint"' in notes and "aria-invalid" not in notes
    assert "<textarea" in notes
    assert "field-checkbox" in agree and 'type="checkbox"' in agree and "has-error" in agree
    assert 'aria-describedby="agree-error"' in agree and "Please agree." in agree
    assert "<fieldset" in size and "<legend>Size" in size and size.count('type="radio"') == 2
    assert "<select" in category and 'id="category-hint">Pick one<' in category
    assert token.strip().startswith('<input id="token" name="token" type="hidden"') and "<div" not in token


def test_render_form_has_all_fields_and_one_submit(app):
    with app.test_request_context("/jobs"):
        form = GigForm()
        html = render_template_string(
            '{% import "_macros.html" as ui %}{{ ui.render_form(form, action="/jobs/new", submit_label="Post job") }}',
            form=form,
        )
    assert '<form class="form" method="post" action="/jobs/new">' in html
    for name in ("title", "notes", "category", "size-0", "agree", "token"):
        assert f'id="{name}"' in html
    assert html.count('type="submit"') == 1 and ">Post job</button>" in html


def test_money_formats_cents(app):
    html = render(
        app,
        "{{ ui.money(-1200) }}|{{ ui.money(123456) }}|{{ ui.money(5) }}|{{ ui.money(0) }}|{{ ui.money(None) }}"
        "|{{ ui.money(-100000001) }}",
    )
    assert html.split("|") == ["\u2212$12.00", "$1,234.56", "$0.05", "$0.00", "&mdash;", "\u2212$1,000,000.01"]


def test_badge_labels_and_escapes(app):
    assert render(app, "{{ ui.badge('in_progress') }}") == '<span class="badge badge-in_progress">In progress</span>'
    evil = render(app, "{{ ui.badge(state) }}", state='x"><script>alert(1)</script>')
    assert "<script>" not in evil and '"><' not in evil
    assert "&lt;script&gt;" in evil


def test_flash_messages_pagination_stat_empty(app):
    class Page:
        page, pages, has_prev, has_next, prev_num, next_num = 5, 12, True, True, 4, 6

    with app.test_request_context("/jobs"):
        flash("Saved.", "success")
        flash("Broke <b>", "danger")
        flash("Plain")
        html = render_template_string(
            '{% import "_macros.html" as ui %}{{ ui.flash_messages() }}{{ ui.pagination(page, "jobs", q="dog") }}'
            '{{ ui.stat("Hours", 12) }}{{ ui.empty("Nothing <here>") }}',
            page=Page(),
        )
    assert '<div class="flash flash-success" role="status">Saved.</div>' in html
    assert '<div class="flash flash-error" role="alert">Broke &lt;b&gt;</div>' in html
    assert '<div class="flash flash-info" role="status">Plain</div>' in html
    assert 'href="/jobs?page=4&amp;q=dog" rel="prev"' in html and 'href="/jobs?page=6&amp;q=dog" rel="next"' in html
    assert '<span aria-current="page">5</span>' in html
    shown = [int(n) for n in re.findall(r"page=(\d+)&amp;q=dog\">\d+<", html)]
    assert shown == [1, 2, 3, 4, 6, 7, 11, 12]
    assert html.count("&hellip;") == 1  # 1 2 3 4 [5] 6 7 … 11 12
    assert '<span class="stat-label">Hours</span><span class="stat-value">12</span>' in html
    assert "Nothing &lt;here&gt;" in html


def test_pagination_hidden_for_a_single_page(app):
    class Page:
        page, pages, has_prev, has_next, prev_num, next_num = 1, 1, False, False, None, None

    assert render(app, '{{ ui.pagination(page, "jobs") }}', page=Page()).strip() == ""


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b", re.IGNORECASE)
_INLINE_ATTR = re.compile(
    r"\sstyle\s*=|\son(?:click|load|submit|change|input|error|focus|blur|key\w+|mouse\w+)\s*=", re.IGNORECASE
)


def _inline_code(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    if _INLINE_SCRIPT.search(text):
        found.append(f"{path}: inline <script> or <style> block")
    if _INLINE_ATTR.search(text):
        found.append(f"{path}: style= or on*= attribute")
    return found


def test_macros_template_has_no_inline_script_or_style():
    assert _inline_code(TEMPLATES / "_macros.html") == []


def test_no_template_has_inline_script_or_style():
    """The CSP (default-src 'self') would block them; this guards every template in the tree."""
    offenders = [problem for path in sorted(TEMPLATES.rglob("*.html")) for problem in _inline_code(path)]
    assert not offenders, offenders
