"""What a Python service does with the Todo database, through python/todo_models.py, SQLAlchemy and asyncpg.

Usage: tasks_roundtrip.py <postgresql+asyncpg:// URL> <email of a Better Auth user>
Prints one JSON document: what the model saw of the schema, and what each step read back.
"""

import asyncio
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from sqlalchemy import inspect, select  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from todo_models import Base, Task, TaskPriority, TaskStatus, User  # noqa: E402


def schema_differences(conn):
    """Columns the model and the database disagree on: name, type, and whether NULL is allowed."""
    found = []
    sql_type = lambda t: t.compile(dialect=conn.dialect)  # noqa: E731
    for table in Base.metadata.sorted_tables:
        live = {c["name"]: c for c in inspect(conn).get_columns(table.name)}
        for column in table.columns:
            if column.name not in live:
                found.append(f"{table.name}.{column.name}: not in the database")
            elif sql_type(live[column.name]["type"]) != sql_type(column.type):
                found.append(f"{table.name}.{column.name}: {sql_type(live[column.name]['type'])} in the database, {sql_type(column.type)} in the model")
            elif live[column.name]["nullable"] != column.nullable:
                found.append(f"{table.name}.{column.name}: nullable {live[column.name]['nullable']} in the database")
        for name, c in live.items():
            if name not in table.columns and not c["nullable"] and c.get("default") is None:
                found.append(f"{table.name}.{name}: NOT NULL without a default, missing from the model")
    return found


def iso(value):
    return value.isoformat() if value is not None else None


async def main(url, email):
    engine = create_async_engine(url)
    out = {}
    try:
        async with engine.connect() as conn:
            out["differences"] = await conn.run_sync(schema_differences)

        async with AsyncSession(engine, expire_on_commit=False) as session:
            user = (await session.execute(select(User).where(User.email == email))).scalar_one()
            due = datetime.datetime(2027, 1, 15, 9, 30, tzinfo=datetime.timezone.utc)
            task = Task(user_id=user.id, title="Written from Python", tags=["python"], priority=TaskPriority.high, due_date=due)
            session.add(task)
            await session.commit()
            out["created"] = {
                "id": str(task.id),
                "userId": task.user_id,
                "status": task.status.value,
                "completedAt": iso(task.completed_at),
                "createdAt": iso(task.created_at),
                "dueDate": iso(task.due_date),
            }

            task.status = TaskStatus.completed
            await session.commit()
            await session.refresh(task)
            out["completed"] = {"status": task.status.value, "completedAt": iso(task.completed_at), "updatedAt": iso(task.updated_at)}

            tasks = (await session.execute(select(Task).where(Task.user_id == user.id).order_by(Task.title))).scalars().all()
            out["titles"] = [t.title for t in tasks]

            session.add(Task(user_id=user.id, title="Bad tags", tags=["Not Lowercase"]))
            try:
                await session.commit()
                out["badTags"] = "accepted"
            except IntegrityError as error:
                await session.rollback()
                out["badTags"] = getattr(error.orig, "sqlstate", None) or type(error.orig).__name__
    finally:
        await engine.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
