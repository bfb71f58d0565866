"""ledger: accounts, journal entries and postings (immutable), fee rates, payments, invoices, payouts

Revision ID: 0003_ledger
Revises: 0002_marketplace
Create Date: 2026-11-27 09:00:00

Posted journal entries and postings are never edited: triggers make the database itself refuse UPDATE
and DELETE on them (SQLite: RAISE(ABORT); PostgreSQL: a plpgsql function). TRUNCATE fires no row
trigger, so test fixtures can still empty the tables.
"""
from alembic import op
import sqlalchemy as sa

import marketplace.models.base


# revision identifiers, used by Alembic.
revision = '0003_ledger'
down_revision = '0002_marketplace'
branch_labels = None
depends_on = None

IMMUTABLE_TABLES = ('journal_entries', 'postings')
MESSAGE = 'ledger rows are immutable'


def _create_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(
            "CREATE FUNCTION ledger_rows_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}: % on %', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; END; $$"
        )
        for table in IMMUTABLE_TABLES:
            op.execute(f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_rows_immutable()")
    elif dialect == 'sqlite':
        for table in IMMUTABLE_TABLES:
            for event in ('UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    else:
        raise RuntimeError(f"no immutability triggers for the {dialect} database; add them before using it")


def _drop_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_rows_immutable()")
    elif dialect == 'sqlite':
        for table in IMMUTABLE_TABLES:
            for event in ('update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def upgrade():
    op.create_table('journal_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('posted_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_type', sa.String(length=40), nullable=True),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['journal_entries.id'], name=op.f('fk_journal_entries_reverses_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_journal_entries_idempotency_key'))
    )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entries_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index('ix_journal_entries_source', ['source_type', 'source_id'], unique=False)

    op.create_table('ledger_accounts',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('asset', 'liability', 'equity', 'income', 'expense')", name=op.f('ck_ledger_accounts_kind_known')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_ledger_accounts'))
    )
    op.create_table('payout_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('minimum_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_cents >= 0 AND minimum_cents >= 0', name=op.f('ck_payout_batches_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches')),
    sa.UniqueConstraint('week_start', name=op.f('uq_payout_batches_week_start'))
    )
    op.create_table('fee_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=False),
    sa.Column('min_cents', sa.BigInteger(), nullable=True),
    sa.Column('max_cents', sa.BigInteger(), nullable=True),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("mode IN ('on_top', 'deducted')", name=op.f('ck_fee_rates_mode_known')),
    sa.CheckConstraint('max_cents IS NULL OR max_cents >= 0', name=op.f('ck_fee_rates_max_not_negative')),
    sa.CheckConstraint('min_cents IS NULL OR max_cents IS NULL OR min_cents <= max_cents', name=op.f('ck_fee_rates_min_below_max')),
    sa.CheckConstraint('min_cents IS NULL OR min_cents >= 0', name=op.f('ck_fee_rates_min_not_negative')),
    sa.CheckConstraint('percent_bp BETWEEN 0 AND 10000', name=op.f('ck_fee_rates_percent_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fee_rates_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rates')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_fee_rates_effective_from'))
    )
    op.create_table('payment_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('token', sa.String(length=80), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payment_methods_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_methods')),
    sa.UniqueConstraint('user_id', name=op.f('uq_payment_methods_user_id'))
    )
    op.create_table('payout_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('holder_name', sa.String(length=120), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('updated_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payout_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_payout_accounts'))
    )
    op.create_table('payout_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('payee', sa.String(length=120), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('journal_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payout_lines_amount_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_lines_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], name=op.f('fk_payout_lines_journal_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_payout_lines_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_lines')),
    sa.UniqueConstraint('batch_id', 'worker_id', name=op.f('uq_payout_lines_batch_id_worker_id'))
    )
    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_lines_worker_id'), ['worker_id'], unique=False)

    op.create_table('postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_code', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_postings_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_code'], ['ledger_accounts.code'], name=op.f('fk_postings_account_code_ledger_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_postings_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postings'))
    )
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.create_index('ix_postings_account_entry', ['account_code', 'entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_postings_entry_id'), ['entry_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('authorized_cents', sa.BigInteger(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=False),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('failure_message', sa.String(length=200), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("provider IN ('test_card', 'bank_transfer')", name=op.f('ck_payments_provider_known')),
    sa.CheckConstraint("status IN ('pending', 'authorized', 'capturing', 'captured', 'invoiced', 'failed', 'voided')", name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('authorized_cents >= 0 AND amount_cents >= 0 AND refunded_cents >= 0', name=op.f('ck_payments_not_negative')),
    sa.CheckConstraint('refunded_cents <= amount_cents', name=op.f('ck_payments_refund_within_paid')),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_payments_client_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_payments_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payments_idempotency_key')),
    sa.UniqueConstraint('job_id', name=op.f('uq_payments_job_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_client_id'), ['client_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('paid_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('marked_paid_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'paid', 'void')", name=op.f('ck_invoices_status_known')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_invoices_amount_positive')),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_invoices_client_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_invoices_job_id_jobs')),
    sa.ForeignKeyConstraint(['marked_paid_by_id'], ['users.id'], name=op.f('fk_invoices_marked_paid_by_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_invoices_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_invoices_payment_id'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_status', ['status', 'issued_on'], unique=False)
    _create_triggers()


def downgrade():
    _drop_triggers()
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_status')

    op.drop_table('invoices')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_client_id'))

    op.drop_table('payments')
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postings_entry_id'))
        batch_op.drop_index('ix_postings_account_entry')

    op.drop_table('postings')
    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_lines_worker_id'))

    op.drop_table('payout_lines')
    op.drop_table('payout_accounts')
    op.drop_table('payment_methods')
    op.drop_table('fee_rates')
    op.drop_table('payout_batches')
    op.drop_table('ledger_accounts')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_source')
        batch_op.drop_index(batch_op.f('ix_journal_entries_occurred_on'))

    op.drop_table('journal_entries')
