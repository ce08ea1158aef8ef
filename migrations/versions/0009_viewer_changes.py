"""viewer_changes: PostgreSQL tells every app process when a signed-in member's snapshot may have changed

Each app process keeps the members it has recently loaded (web.viewer_cache.ViewerCache: name, role, time zone,
silencing, the unread notification count) by session token, instead of looking the session up on every request.
An entry is kept only while nothing it was read from has changed. Triggers send, in the same transaction as the
change (so listeners hear of it when it commits, and never of a rolled-back one), a NOTIFY on the channel
`viewer_changes` whose payload says whose snapshot is out of date:

- `u:<member id>`: the member's row (name, role, suspension, deletion...), one of their sessions (sign-out,
  revocation), or one of the notifications addressed to them changed;
- `t:<sealed tag>`: a notification addressed to an anonymous author's tag changed (the process knows which
  sessions belong to a tag; the database never does);
- content a notification is about changed in a way that can change whether its recipient may see it (a post's,
  thread's, reflection's or reply's state, visibility or author; a room message's deletion): every recipient of
  an unread notification about it, by id or tag (the unread count only counts what the recipient may see; see
  actions.notifications.target_visible_sql).

PostgreSQL delivers one NOTIFY per distinct payload per transaction, so a statement touching many rows of one
member sends one message. The partial index finds the unread notifications about a piece of content.

This revision merges the branch heads (discussions, reflections, rooms, notification targets): its triggers are
on tables of all of them.

Revision ID: 0009
Revises: 0004, 0006, 0007, 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = ("0004", "0006", "0007", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "viewer_changes"

# One statement per op.execute (asyncpg prepares each): functions are split after each body's END $$,
# triggers at each semicolon.
FUNCTIONS = [f + "END $$" for f in """
CREATE FUNCTION viewer_changes_recipients(about_kind text, about_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('viewer_changes', CASE WHEN n.user_id IS NOT NULL THEN 'u:' || n.user_id
                                          ELSE 't:' || n.recipient_tag END)
     FROM notifications n
    WHERE n.read_at IS NULL AND n.target_kind = about_kind AND n.target_id = ANY (about_ids)
      AND (n.user_id IS NOT NULL OR n.recipient_tag IS NOT NULL);
END $$;

CREATE FUNCTION viewer_changes_from_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('viewer_changes', 'u:' || OLD.id);
  RETURN NULL;
END $$;

CREATE FUNCTION viewer_changes_from_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('viewer_changes', 'u:' || OLD.user_id);
  RETURN NULL;
END $$;

CREATE FUNCTION viewer_changes_from_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    IF NEW.user_id IS NOT NULL THEN
      PERFORM pg_notify('viewer_changes', 'u:' || NEW.user_id);
    ELSIF NEW.recipient_tag IS NOT NULL THEN
      PERFORM pg_notify('viewer_changes', 't:' || NEW.recipient_tag);
    END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    IF OLD.user_id IS NOT NULL THEN
      PERFORM pg_notify('viewer_changes', 'u:' || OLD.user_id);
    ELSIF OLD.recipient_tag IS NOT NULL THEN
      PERFORM pg_notify('viewer_changes', 't:' || OLD.recipient_tag);
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Content a notification can be about directly: TG_ARGV[0] is its target_kind.
CREATE FUNCTION viewer_changes_from_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM viewer_changes_recipients(TG_ARGV[0], ARRAY[OLD.id]);
  RETURN NULL;
END $$;

CREATE FUNCTION viewer_changes_from_threads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM viewer_changes_recipients('post', ARRAY(SELECT p.id FROM posts p WHERE p.thread_id = OLD.id));
  RETURN NULL;
END $$;

CREATE FUNCTION viewer_changes_from_reflections() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM viewer_changes_recipients('reflection', ARRAY[OLD.id]);
  PERFORM viewer_changes_recipients('reflection_reply',
                                    ARRAY(SELECT x.id FROM reflection_replies x WHERE x.reflection_id = OLD.id));
  RETURN NULL;
END $$;
""".split("END $$;") if f.strip()]

# (name, table, statement)
TRIGGERS = [
    ("users_viewer_changes", "users", """
CREATE TRIGGER users_viewer_changes AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_users()"""),
    ("sessions_viewer_changes", "sessions", """
CREATE TRIGGER sessions_viewer_changes AFTER UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_sessions()"""),
    ("notifications_viewer_changes", "notifications", """
CREATE TRIGGER notifications_viewer_changes AFTER INSERT OR UPDATE OR DELETE ON notifications
  FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_notifications()"""),
    ("posts_viewer_changes", "posts", """
CREATE TRIGGER posts_viewer_changes AFTER UPDATE OF state, deleted_by_author, author_id, thread_id OR DELETE
  ON posts FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_content('post')"""),
    ("threads_viewer_changes", "threads", """
CREATE TRIGGER threads_viewer_changes AFTER UPDATE OF state, author_id OR DELETE
  ON threads FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_threads()"""),
    ("reflections_viewer_changes", "reflections", """
CREATE TRIGGER reflections_viewer_changes AFTER UPDATE OF visibility, state, author_id, author_tag OR DELETE
  ON reflections FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_reflections()"""),
    ("reflection_replies_viewer_changes", "reflection_replies", """
CREATE TRIGGER reflection_replies_viewer_changes AFTER UPDATE OF state, author_id, reflection_id OR DELETE
  ON reflection_replies FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_content('reflection_reply')"""),
    ("room_messages_viewer_changes", "room_messages", """
CREATE TRIGGER room_messages_viewer_changes AFTER UPDATE OF deleted_at OR DELETE
  ON room_messages FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_content('room_message')"""),
]


def upgrade() -> None:
    op.create_index("ix_notifications_unread_target", "notifications", ["target_kind", "target_id"],
                    postgresql_where="read_at IS NULL AND target_kind IS NOT NULL")
    for statement in FUNCTIONS:
        op.execute(statement)
    for _name, _table, statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for name, table, _statement in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in ("viewer_changes_from_users", "viewer_changes_from_sessions", "viewer_changes_from_notifications",
                     "viewer_changes_from_content", "viewer_changes_from_threads", "viewer_changes_from_reflections"):
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION viewer_changes_recipients(text, bigint[])")
    op.drop_index("ix_notifications_unread_target", table_name="notifications")
