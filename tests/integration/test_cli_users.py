from sqlalchemy import select

from marketplace.models import User


def test_users_create_with_several_roles(runner, db):
    result = runner.invoke(args=["users", "create", "ops@example.org", "--password", "maple-syrup-77",
                                 "--role", "treasurer", "--role", "member", "--name", "Olga Novak"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ops@example.org"))
    assert user.roles == {"treasurer", "member"} and user.name == "Olga Novak"


def test_users_create_bad_input_exits_2_without_traceback(runner, db):
    runner.invoke(args=["users", "create", "dup@example.org", "--password", "maple-syrup-77", "--role", "client"])
    cases = [
        ["users", "create", "dup@example.org", "--password", "maple-syrup-77", "--role", "client"],
        ["users", "create", "x@example.org", "--password", "password", "--role", "client"],
        ["users", "create", "not-an-email", "--password", "maple-syrup-77", "--role", "client"],
        ["users", "create", "y@example.org", "--password", "maple-syrup-77", "--role", "emperor"],
    ]
    for args in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_seed_demo_builds_the_demo_coop_once(runner, db):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    users = db.session.scalars(select(User)).all()
    roles = [u.roles for u in users]
    assert sum("worker" in r for r in roles) >= 30
    assert sum("client" in r for r in roles) == 20
    assert any("treasurer" in r for r in roles) and any("admin" in r for r in roles)
    assert sum(r == {"worker"} for r in roles) >= 3  # probationary workers
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "skipped" in again.output
    assert len(db.session.scalars(select(User)).all()) == len(users)
