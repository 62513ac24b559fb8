/**
 * Better Auth's tables as its CLI creates them on PostgreSQL: the core schema (user, session, account,
 * verification) and the JWT plugin's jwks, with camelCase quoted columns, foreign keys to "user" and the
 * indexes on "userId" and "identifier". Written from its documented schema; used to prove that todo-db leaves
 * tables it does not own alone.
 */
export const BETTER_AUTH_TABLES = ['account', 'jwks', 'session', 'user', 'verification'];

export const BETTER_AUTH_SQL = `
create table "user" (
  "id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" boolean not null,
  "image" text, "createdAt" timestamptz default current_timestamp not null, "updatedAt" timestamptz default current_timestamp not null
);
create table "session" (
  "id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique,
  "createdAt" timestamptz default current_timestamp not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text,
  "userId" text not null references "user" ("id") on delete cascade
);
create table "account" (
  "id" text not null primary key, "accountId" text not null, "providerId" text not null,
  "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text,
  "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text, "password" text,
  "createdAt" timestamptz default current_timestamp not null, "updatedAt" timestamptz not null
);
create table "verification" (
  "id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" timestamptz not null,
  "createdAt" timestamptz default current_timestamp not null, "updatedAt" timestamptz default current_timestamp not null
);
create table "jwks" (
  "id" text not null primary key, "publicKey" text not null, "privateKey" text not null, "createdAt" timestamptz not null, "expiresAt" timestamptz
);
create index "session_userId_idx" on "session" ("userId");
create index "account_userId_idx" on "account" ("userId");
create index "verification_identifier_idx" on "verification" ("identifier");
`;
