"""`flask dividends simulate`: output contract and one-line errors with exit code 2, driven through CliRunner."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from marketplace.cli.dividends import dividends

EXAMPLE_A_CSV = "Member , HOURS,earnings,notes\nM1,120,3000.00,x\nM2,80,4000.00,\nM3,0,0,\nM4,40,1000.00,\n"
FOUR_AMOUNTS = ["--member-fees", "2000.00", "--nonmember-fees", "1000.00", "--other-income", "50", "--expenses", "600"]


@pytest.fixture
def run(tmp_path):
    def invoke(*args: str, csv_text: str = EXAMPLE_A_CSV):
        path = tmp_path / "PATRONAGE.csv"
        path.write_text(csv_text, encoding="utf-8")
        return CliRunner().invoke(dividends, ["simulate", str(path), *args])

    return invoke


def rows(output: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output)))


def test_example_a_as_csv(run):
    result = run("--surplus", "2345.67", "--reserve-percent", "15")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == [
        ["member", "share", "allocation", "cash", "retained"],
        ["M1", "0.437500", "872.30", "174.46", "697.84"],
        ["M2", "0.416667", "830.76", "166.16", "664.60"],
        ["M3", "0.000000", "0.00", "0.00", "0.00"],
        ["M4", "0.145833", "290.76", "58.16", "232.60"],
    ]
    assert result.stderr == ""


def test_example_a_as_json(run):
    result = run("--surplus", "2345.67", "--reserve-percent", "15", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["loss_year"] is False
    assert (data["net_margin"], data["nonmember_surplus"], data["non_patronage"]) == (None, None, None)
    assert (data["member_surplus"], data["reserve"], data["allocable"], data["collective"]) == (
        "2345.67",
        "351.85",
        "1993.82",
        "351.85",
    )
    assert data["members"][1] == {
        "member": "M2",
        "share": "0.416667",
        "allocation": "830.76",
        "cash": "166.16",
        "retained": "664.60",
    }
    assert [m["member"] for m in data["members"]] == ["M1", "M2", "M3", "M4"]
    assert data["totals"] == {"allocation": "1993.82", "cash": "398.78", "retained": "1595.04"}


def test_four_amounts_split_member_and_nonmember_income(run):
    result = run(*FOUR_AMOUNTS, "--reserve-percent", "10", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Fee net 2400.00 split 2:1; net margin adds other income.
    assert data["net_margin"] == "2450.00"
    assert (data["member_surplus"], data["nonmember_surplus"], data["non_patronage"]) == ("1600.00", "800.00", "50.00")
    assert (data["reserve"], data["allocable"]) == ("160.00", "1440.00")
    assert data["collective"] == "1010.00"
    assert data["totals"]["allocation"] == "1440.00"


def test_weights_and_cash_percent_options(run):
    result = run("--surplus", "100", "--earnings-weight", "0", "--cash-percent", "50")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)[1:] == [
        ["M1", "0.500000", "50.00", "25.00", "25.00"],
        ["M2", "0.333333", "33.33", "16.67", "16.66"],
        ["M3", "0.000000", "0.00", "0.00", "0.00"],
        ["M4", "0.166667", "16.67", "8.34", "8.33"],
    ]


@pytest.mark.parametrize("surplus", ["0", "-12.50"])
def test_loss_year_allocates_nothing_and_says_so(run, surplus):
    result = run(f"--surplus={surplus}")
    assert result.exit_code == 0, result.output
    assert all(row[2:] == ["0.00", "0.00", "0.00"] for row in rows(result.stdout)[1:])
    assert "loss year" in result.stderr
    data = json.loads(run(f"--surplus={surplus}", "--format", "json").stdout)
    assert data["loss_year"] is True and data["allocable"] == "0.00" and data["reserve"] == "0.00"


def test_loss_year_from_the_four_amounts(run):
    amounts = ["--member-fees", "10", "--nonmember-fees", "0", "--other-income", "0", "--expenses", "25"]
    data = json.loads(run(*amounts, "--format", "json").stdout)
    assert data["loss_year"] is True
    assert (data["member_surplus"], data["net_margin"], data["collective"]) == ("-15.00", "-15.00", "0.00")


def assert_bad_input(result, *named: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in named:
        assert text in lines[0], lines[0]


@pytest.mark.parametrize(
    "csv_text, named",
    [
        ("member,hours\nM1,1\n", ["line 1", "'earnings'"]),
        ("", ["line 1", "empty"]),
        ("member,hours,earnings\nM1,1,10\nM2,abc,10\n", ["line 3", "'hours'", "'abc' is not a number"]),
        ("member,hours,earnings\nM1,-1,10\n", ["line 2", "'hours'", "negative"]),
        ("member,hours,earnings\nM1,1,10\n\nM2,1,-10\n", ["line 4", "'earnings'", "negative"]),
        ("member,hours,earnings\nM1,1,10.005\n", ["line 2", "'earnings'"]),
        ("member,hours,earnings\nM1,1\n", ["line 2", "'earnings'", "missing"]),
        ("member,hours,earnings\n,1,1\n", ["line 2", "'member'"]),
        ("member,hours,earnings\nM1,1,1\nM1,2,2\n", ["line 3", "'member'", "line 2"]),
        ("member,hours,earnings,hours\nM1,1,1,1\n", ["line 1", "'hours'"]),
    ],
)
def test_bad_patronage_file(run, csv_text, named):
    assert_bad_input(run("--surplus", "100", csv_text=csv_text), *named)


@pytest.mark.parametrize(
    "args, named",
    [
        (["--surplus", "abc"], ["--surplus"]),
        (["--surplus", "1.234"], ["--surplus"]),
        (["--surplus", "100", *FOUR_AMOUNTS], ["--surplus", "--member-fees"]),
        ([], ["--surplus", "--member-fees"]),
        (["--member-fees", "1", "--expenses", "1"], ["--nonmember-fees", "--other-income"]),
        (["--member-fees", "-1", "--nonmember-fees", "1", "--other-income", "1", "--expenses", "1"], ["--member-fees"]),
        (["--surplus", "100", "--reserve-percent", "100.5"], ["--reserve-percent", "100"]),
        (["--surplus", "100", "--cash-percent", "-5"], ["--cash-percent", "negative"]),
        (["--surplus", "100", "--cash-percent", "1e2"], ["--cash-percent", "not a number"]),
        (["--surplus", "100", "--hours-weight", "-1"], ["--hours-weight"]),
        (["--surplus", "1", "--hours-weight", "0", "--earnings-weight", "0"], ["--hours-weight", "--earnings-weight"]),
        (["--surplus", "100", "--format", "xml"], ["--format"]),
    ],
)
def test_bad_options(run, args, named):
    assert_bad_input(run(*args), *named)


def test_missing_file():
    result = CliRunner().invoke(dividends, ["simulate", "/nonexistent/PATRONAGE.csv", "--surplus", "1"])
    assert_bad_input(result, "PATRONAGE.csv", "does not exist")


def test_no_patronage_at_all_cannot_take_a_surplus(run):
    assert_bad_input(run("--surplus", "1", csv_text="member,hours,earnings\nM1,0,0\n"), "no member has any patronage")
