/**
 * Tables another tool owns in the app's database (an organisations plugin with its audit log): never made by
 * todo-db's migrations. Quoted camelCase columns, an enum, a domain, a serial and an identity column, foreign
 * keys among them, a partial index: what a shadow database must be given for a migration that references them.
 */
export const EXTERNAL_TABLES = ['audit_log', 'member', 'organization'];

export const EXTERNAL_TABLES_SETTING = EXTERNAL_TABLES.join(',');

export const EXTERNAL_SQL = `
create type "audit_action" as enum ('create', 'update', 'delete');
create domain "slug" as text check (value ~ '^[a-z0-9-]+$');
create table "organization" (
  "id" text not null primary key, "name" text not null, "slug" slug not null unique, "createdAt" timestamptz default current_timestamp not null
);
create table "member" (
  "id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade,
  "role" text not null default 'member', "createdAt" timestamptz not null
);
create table "audit_log" (
  "id" bigserial primary key, "organizationId" text references "organization" ("id"), "action" audit_action not null,
  "at" timestamptz not null default now(), "payload" jsonb, "seq" bigint generated always as identity
);
create index "member_organizationId_idx" on "member" ("organizationId");
create index "audit_log_at_idx" on "audit_log" ("at" desc) where "payload" is not null;
`;

export const EXTERNAL_ROWS = `
insert into "organization" ("id", "name", "slug") values ('o1', 'Acme', 'acme');
insert into "member" values ('m1', 'o1', 'owner', now());
insert into "audit_log" ("organizationId", "action") values ('o1', 'create');
`;
