import type { TypeRef } from './ast.js';

/**
 * Which ALTER COLUMN ... TYPE changes PostgreSQL makes without rewriting the table: the type keeps its binary
 * form and only a limit is relaxed (varchar(n) to a larger n or none, numeric precision up with the same scale,
 * a time precision up), or the cast between the two types is binary (pg_cast.castmethod = 'b', e.g. varchar to
 * text), read from the live catalog when there is one.
 */

/** format_type()'s long names, as the parser spells them. */
const PARSER_NAMES: Record<string, string> = {
  'character varying': 'varchar',
  character: 'bpchar',
  'bit varying': 'varbit',
  integer: 'int4',
  bigint: 'int8',
  smallint: 'int2',
  'double precision': 'float8',
  real: 'float4',
  boolean: 'bool',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
  'time with time zone': 'timetz',
  'time without time zone': 'time',
};

/** Types whose modifier only limits values: a larger limit, or none, keeps every stored value valid as it is. */
const RELAXABLE = new Set(['varchar', 'varbit', 'timestamp', 'timestamptz', 'time', 'timetz', 'interval']);

/** Binary casts that need no catalog to know (pg_cast says 'b' for them on every supported version). */
const KNOWN_BINARY = new Set(['varchar->text', 'text->varchar', 'cidr->inet']);

/** `character varying(200)` or `timestamp(3) with time zone` or `integer[]` as a TypeRef. */
export function parseFormatType(formatted: string): TypeRef {
  const array = formatted.endsWith('[]');
  const text = formatted.replace(/\[\]$/, '').replace(/^"(.*)"$/, '$1');
  const match = /^([^(]+?)(?:\(([\d, ]+)\))?( with(?:out)? time zone)?$/.exec(text);
  const base = ((match?.[1] ?? text) + (match?.[3] ?? '')).trim();
  const mods = match?.[2] ? match[2].split(',').map((mod) => Number(mod.trim())) : [];
  const name = PARSER_NAMES[base] ?? base.split('.').at(-1) ?? base;
  return { name, qualified: name, mods, array };
}

/** True when changing from `current` to `next` needs no rewrite; `binaryCasts` holds live `from->to` pairs. */
export function isRewriteFree(current: TypeRef, next: TypeRef, binaryCasts: ReadonlySet<string> = new Set()): boolean {
  if (current.array !== next.array) return false;
  if (current.name === next.name) return sameTypeRelaxed(current, next);
  // A binary cast to a type whose modifier would have to be checked is still a rewrite-free change only without one.
  if (next.mods.length > 0) return false;
  const pair = `${current.name}->${next.name}`;
  return KNOWN_BINARY.has(pair) || binaryCasts.has(pair);
}

function sameTypeRelaxed(current: TypeRef, next: TypeRef): boolean {
  if (current.mods.join() === next.mods.join()) return true;
  if (next.mods.length === 0) return RELAXABLE.has(current.name) || current.name === 'numeric';
  if (current.mods.length === 0) return false;
  if (current.name === 'numeric') return (next.mods[1] ?? 0) === (current.mods[1] ?? 0) && (next.mods[0] ?? 0) >= (current.mods[0] ?? 0);
  return RELAXABLE.has(current.name) && (next.mods[0] ?? 0) >= (current.mods[0] ?? 0);
}

/** Offline, the current type is unknown: a target of these families may well be a widening. */
export function mayBeWidening(next: TypeRef): boolean {
  return !next.array && (RELAXABLE.has(next.name) || next.name === 'numeric' || next.name === 'text');
}
