"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import iocflow.store.models
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('allowlist_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('value')
    )
    op.create_table('feeds',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_run_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Text(), nullable=True),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('indicators',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('first_seen', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('confidence', sa.String(length=8), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('reputation', sa.String(length=12), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=False),
    sa.Column('expires_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('industries', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('techniques', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('indicator_class', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.Column('sighting_count', sa.Integer(), nullable=False),
    sa.Column('allowlisted', sa.Boolean(), nullable=False),
    sa.Column('allowlist_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index('ix_indicators_last_seen_pk', ['last_seen', 'pk'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('created_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('articles',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source_id', sa.String(length=36), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('published_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ingested_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=True),
    sa.Column('techniques', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('industries', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_source_id'), ['source_id'], unique=False)

    op.create_table('sightings',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('indicator_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.String(length=36), nullable=False),
    sa.Column('article_id', sa.String(length=36), nullable=False),
    sa.Column('first_seen', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', iocflow.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('extraction_confidence', sa.String(length=8), nullable=False),
    sa.Column('confidence', sa.String(length=8), nullable=False),
    sa.Column('confidence_rank', sa.Integer(), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=True),
    sa.Column('reputation', sa.String(length=12), nullable=True),
    sa.Column('expires_at', iocflow.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('never_expires', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('malware', sa.Text(), nullable=True),
    sa.Column('threat_type', sa.Text(), nullable=True),
    sa.Column('reporter', sa.Text(), nullable=True),
    sa.Column('indicator_class', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['indicator_pk'], ['indicators.pk'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('indicator_pk', 'source_id', 'article_id', name='uq_sightings_indicator_source_article')
    )
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.create_index('ix_sightings_article_id', ['article_id'], unique=False, sqlite_where=sa.text("article_id != ''"), postgresql_where=sa.text("article_id != ''"))



def downgrade() -> None:
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.drop_index('ix_sightings_article_id', sqlite_where=sa.text("article_id != ''"), postgresql_where=sa.text("article_id != ''"))

    op.drop_table('sightings')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_source_id'))

    op.drop_table('articles')
    op.drop_table('sources')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_indicators_last_seen_pk')

    op.drop_table('indicators')
    op.drop_table('feeds')
    op.drop_table('allowlist_entries')
