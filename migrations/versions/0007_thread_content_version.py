"""threads.content_version and content_epoch: what a cached page of posts is validated against

A thread page's posts (bodies, states, reaction counts, author names and roles, reply positions, placeholders)
are kept in each app process (web.discussions, actions.discussion_reads.PostPages) and reused while nothing they
were read from has changed. Triggers record every such change in the same transaction as the change:

- a row written in `posts` or `reactions` gives its thread a new `content_version`;
- a member's name, handle or role changing (or the member being deleted) gives `content_epoch` a new value
  (a member's posts can be in any thread, and a member's next post could be committed while the rename runs).

Both values come from one sequence, so no value is ever given twice (not even after a rollback). The page
statement reads the version and the epoch in the same snapshot as the posts, so a cached page whose pair still
matches is exactly what the statement would return.

Revision ID: 0007
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One statement per op.execute (asyncpg prepares each, and a prepared statement holds a single command): the
# functions are split after each body's END $$, the triggers at each semicolon.
FUNCTIONS = [f + "END $$" for f in """
CREATE FUNCTION bump_thread_content_from_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT DISTINCT thread_id FROM new_rows);
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT thread_id FROM new_rows UNION SELECT thread_id FROM old_rows);
  ELSE
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT DISTINCT thread_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION bump_thread_content_from_reactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT p.thread_id FROM posts p WHERE p.id IN (SELECT post_id FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT p.thread_id FROM posts p
                 WHERE p.id IN (SELECT post_id FROM new_rows UNION SELECT post_id FROM old_rows));
  ELSE
    -- A post deleted with its reactions (ON DELETE CASCADE) is gone here; the posts trigger bumped its thread.
    UPDATE threads SET content_version = nextval('content_version_seq')
    WHERE id IN (SELECT p.thread_id FROM posts p WHERE p.id IN (SELECT post_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION bump_content_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE content_epoch SET value = nextval('content_version_seq') WHERE id = 1;
  RETURN NULL;
END $$;
""".split("END $$;") if f.strip()]

TRIGGERS = """
CREATE TRIGGER posts_content_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_posts();
CREATE TRIGGER posts_content_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_posts();
CREATE TRIGGER posts_content_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_posts();
CREATE TRIGGER reactions_content_insert AFTER INSERT ON reactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_reactions();
CREATE TRIGGER reactions_content_update AFTER UPDATE ON reactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_reactions();
CREATE TRIGGER reactions_content_delete AFTER DELETE ON reactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_thread_content_from_reactions();
CREATE TRIGGER users_content_update AFTER UPDATE OF display_name, handle, role ON users
  FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.handle IS DISTINCT FROM NEW.handle
                     OR OLD.role IS DISTINCT FROM NEW.role)
  EXECUTE FUNCTION bump_content_epoch();
CREATE TRIGGER users_content_delete AFTER DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION bump_content_epoch();
""".split(";")


def upgrade() -> None:
    op.execute("CREATE SEQUENCE content_version_seq")
    op.add_column("threads", sa.Column("content_version", sa.BigInteger(), nullable=False,
                                       server_default=sa.text("nextval('content_version_seq')")))
    op.create_table(
        "content_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_content_epoch_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_epoch")),
    )
    op.execute("INSERT INTO content_epoch (id, value) VALUES (1, nextval('content_version_seq'))")
    for statement in [*FUNCTIONS, *TRIGGERS]:
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for trigger, table in [("posts_content_insert", "posts"), ("posts_content_update", "posts"),
                           ("posts_content_delete", "posts"), ("reactions_content_insert", "reactions"),
                           ("reactions_content_update", "reactions"), ("reactions_content_delete", "reactions"),
                           ("users_content_update", "users"), ("users_content_delete", "users")]:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in ("bump_thread_content_from_posts", "bump_thread_content_from_reactions", "bump_content_epoch"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("content_epoch")
    op.drop_column("threads", "content_version")
    op.execute("DROP SEQUENCE content_version_seq")
