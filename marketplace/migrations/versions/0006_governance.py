"""governance: membership register and history, shares, proposals, votes, secret ballots, discussion

Revision ID: 0006_governance
Revises: 0002_marketplace
Create Date: 2026-11-28 10:00:00

Membership status history and member shares; proposals with their options, electorate (participations),
secret ballots kept apart from who voted (no voter, no timestamp, random keys), the per-proposal ballot
keys destroyed at the close, comments and officer terms. Only the governance tables: a separate branch
from 0002 (the app upgrades to all heads).

"""
from alembic import op
import sqlalchemy as sa

import marketplace.models.base


# revision identifiers, used by Alembic.
revision = '0006_governance'
down_revision = '0002_marketplace'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('memberships',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('member_number', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('share_amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('share_paid_cents', sa.BigInteger(), nullable=False),
    sa.Column('share_plan', sa.String(length=12), nullable=False),
    sa.Column('instalment_cents', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("share_plan IN ('lump', 'instalments')", name=op.f('ck_memberships_share_plan_known')),
    sa.CheckConstraint("status IN ('probationary', 'applicant', 'member', 'left', 'expelled')", name=op.f('ck_memberships_status_known')),
    sa.CheckConstraint('share_paid_cents >= 0 AND share_paid_cents <= share_amount_cents', name=op.f('ck_memberships_share_paid_range')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('member_number', name=op.f('uq_memberships_member_number'))
    )
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quorum_percent', sa.String(length=20), nullable=False),
    sa.Column('threshold_percent', sa.String(length=20), nullable=False),
    sa.Column('eligible_count', sa.Integer(), nullable=False),
    sa.Column('voted_count', sa.Integer(), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=False),
    sa.Column('effect_status', sa.String(length=10), nullable=False),
    sa.Column('effect_applied_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('effect_detail', sa.Text(), nullable=False),
    sa.Column('announced_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("effect_status IN ('none', 'pending', 'applied', 'failed')", name=op.f('ck_proposals_effect_status_known')),
    sa.CheckConstraint("kind IN ('general', 'fee_change', 'policy', 'dividend_run', 'admission', 'election')", name=op.f('ck_proposals_kind_known')),
    sa.CheckConstraint("status IN ('open', 'closing', 'passed', 'failed')", name=op.f('ck_proposals_status_known')),
    sa.CheckConstraint('closes_at > opened_at', name=op.f('ck_proposals_window_positive')),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_proposals_proposer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_status_closes_at', ['status', 'closes_at'], unique=False)

    op.create_table('share_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('ledger_key', sa.String(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('bank', 'payout')", name=op.f('ck_share_payments_method_known')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_share_payments_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_share_payments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_share_payments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_payments')),
    sa.UniqueConstraint('ledger_key', name=op.f('uq_share_payments_ledger_key'))
    )
    with op.batch_alter_table('share_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_payments_user_id'), ['user_id'], unique=False)

    op.create_table('ballot_keys',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballot_keys_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', name=op.f('pk_ballot_keys'))
    )
    op.create_table('membership_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_membership_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_membership_events_proposal_id_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_membership_events_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_events'))
    )
    with op.batch_alter_table('membership_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_events_user_id'), ['user_id'], unique=False)

    op.create_table('officer_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_officer_terms_member_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_officer_terms_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_terms'))
    )
    with op.batch_alter_table('officer_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_terms_member_id'), ['member_id'], unique=False)

    op.create_table('proposal_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposal_comments_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_comments_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_comments'))
    )
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_comments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_options_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_options')),
    sa.UniqueConstraint('proposal_id', 'position', name=op.f('uq_proposal_options_proposal_id_position')),
    sa.UniqueConstraint('proposal_id', 'value', name=op.f('uq_proposal_options_proposal_id_value'))
    )
    with op.batch_alter_table('proposal_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_options_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('token_mac', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['option_id'], ['proposal_options.id'], name=op.f('fk_ballots_option_id_proposal_options'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballots_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('proposal_id', 'token_mac', name=op.f('uq_ballots_proposal_id_token_mac'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('participations',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('voted', sa.Boolean(), nullable=False),
    sa.Column('open_option_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_participations_member_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['open_option_id'], ['proposal_options.id'], name=op.f('fk_participations_open_option_id_proposal_options'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_participations_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id', name=op.f('pk_participations'))
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participations_member_id'), ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index('ix_participations_member_id')
    op.drop_table('participations')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_proposal_id')
    op.drop_table('ballots')
    with op.batch_alter_table('proposal_options', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_options_proposal_id')
    op.drop_table('proposal_options')
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_comments_proposal_id')
    op.drop_table('proposal_comments')
    with op.batch_alter_table('officer_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_terms_member_id')
    op.drop_table('officer_terms')
    with op.batch_alter_table('membership_events', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_events_user_id')
    op.drop_table('membership_events')
    op.drop_table('ballot_keys')
    with op.batch_alter_table('share_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_share_payments_user_id')
    op.drop_table('share_payments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_status_closes_at')
    op.drop_table('proposals')
    op.drop_table('memberships')
