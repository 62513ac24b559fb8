"""SQLAlchemy models of the tables todo-db's migrations create, for the app's Python services.

The schema belongs to todo-db (prisma/migrations): these classes map it and never create or alter it (no
metadata.create_all, no Alembic autogenerate). Works with SQLAlchemy 1.4 and 2.0, sync or async (asyncpg).

- Users are Better Auth's: table "user", text ids, camelCase columns. A task's user_id holds that id.
- Server-side defaults and triggers own id, created_at, updated_at, status, priority, tags and completed_at:
  they are declared server-generated, so inserts leave them out and reads fetch what the database set.
"""

import enum

from sqlalchemy import Boolean, Column, Enum, FetchedValue, ForeignKey, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP, UUID
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class TaskStatus(str, enum.Enum):
    pending = "pending"
    completed = "completed"


class TaskPriority(str, enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"


def _timestamptz():
    # timestamptz(6), as the migrations declare every timestamp: values are timezone-aware datetimes.
    return TIMESTAMP(timezone=True, precision=6)


def _db_enum(cls, name):
    # The PostgreSQL types exist (the migrations made them): never CREATE TYPE from Python.
    return Enum(cls, name=name, create_type=False, values_callable=lambda members: [m.value for m in members])


class User(Base):
    """Better Auth's user. Sign-up, passwords and sessions go through Better Auth, not through this model."""

    __tablename__ = "user"

    id = Column(Text, primary_key=True)
    name = Column(Text, nullable=False)
    email = Column(Text, nullable=False, unique=True)
    email_verified = Column("emailVerified", Boolean, nullable=False, server_default=text("false"))
    image = Column(Text)
    created_at = Column("createdAt", _timestamptz(), nullable=False, server_default=FetchedValue())
    updated_at = Column("updatedAt", _timestamptz(), nullable=False, server_default=FetchedValue())

    tasks = relationship("Task", back_populates="user", passive_deletes=True)


class Task(Base):
    __tablename__ = "tasks"
    # created_at, updated_at and completed_at come back from the database after an INSERT or UPDATE.
    __mapper_args__ = {"eager_defaults": True}

    id = Column(UUID(as_uuid=True), primary_key=True, server_default=FetchedValue())
    # Better Auth's user id (text); deleting the user deletes their tasks (ON DELETE CASCADE).
    user_id = Column(Text, ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    title = Column(String(200), nullable=False)
    description = Column(String(1000))
    status = Column(_db_enum(TaskStatus, "task_status"), nullable=False, server_default=FetchedValue())
    priority = Column(_db_enum(TaskPriority, "task_priority"), nullable=False, server_default=FetchedValue())
    due_date = Column(_timestamptz())
    # text[], not varchar[]: at most 20 tags of 1-10 lowercase characters (CHECK constraints).
    tags = Column(ARRAY(Text), nullable=False, server_default=FetchedValue())
    # Set by the tasks_sync_completed_at trigger from status.
    completed_at = Column(_timestamptz(), server_default=FetchedValue(), server_onupdate=FetchedValue())
    created_at = Column(_timestamptz(), nullable=False, server_default=FetchedValue())
    # Set to now() by the tasks_set_updated_at trigger on every update.
    updated_at = Column(_timestamptz(), nullable=False, server_default=FetchedValue(), server_onupdate=FetchedValue())

    user = relationship("User", back_populates="tasks")
