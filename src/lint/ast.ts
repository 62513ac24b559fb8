/**
 * Small readers over libpg-query's JSON parse tree (types in @pgsql/types), so the rules read as sentences.
 * Names are kept as PostgreSQL folds them: the parser has already lowercased unquoted identifiers.
 */
export type Node = Record<string, unknown>;

/** `{ String: { sval } }` lists, e.g. a qualified name, as plain strings. */
export function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    const value = (item as { String?: { sval?: string } }).String?.sval;
    return value === undefined ? [] : [value];
  });
}

/** A RangeVar as the name a person reads: `tasks`, or `audit.tasks` outside schema public. */
export function relationName(relation: unknown): string | undefined {
  const range = relation as { schemaname?: string; relname?: string } | undefined;
  if (!range?.relname) return undefined;
  return range.schemaname && range.schemaname !== 'public' ? `${range.schemaname}.${range.relname}` : range.relname;
}

/** A qualified name list (`["public", "x"]`) the same way. */
export function qualifiedName(parts: string[]): string {
  return parts.length > 1 && parts[0] !== 'public' ? parts.join('.') : (parts.at(-1) ?? '');
}

/** The single wrapped node of a `{ Kind: body }` object. */
export function unwrap(node: unknown): [string, Node] | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const entries = Object.entries(node as Node);
  if (entries.length !== 1) return undefined;
  const [kind, body] = entries[0] as [string, unknown];
  return body && typeof body === 'object' && !Array.isArray(body) ? [kind, body as Node] : undefined;
}

/** Every node of a kind (or of any of several) anywhere below a node (for function calls in a default, literals in a statement). */
export function findAll(node: unknown, kind: string | ReadonlySet<string>, found: Node[] = []): Node[] {
  if (Array.isArray(node)) {
    for (const item of node) findAll(item, kind, found);
  } else if (node && typeof node === 'object') {
    for (const key in node as Node) {
      const value = (node as Node)[key];
      if ((typeof kind === 'string' ? key === kind : kind.has(key)) && value && typeof value === 'object') found.push(value as Node);
      if (value && typeof value === 'object') findAll(value, kind, found);
    }
  }
  return found;
}

export interface TypeRef {
  /** The type's own name, without pg_catalog: `varchar`, `int4`, `timestamptz`, `task_status`. */
  name: string;
  /** As written, qualified when it was: `pg_catalog.varchar`, for to_regtype. */
  qualified: string;
  /** Its modifiers: `[200]` for varchar(200), `[10, 2]` for numeric(10,2). */
  mods: number[];
  array: boolean;
}

export function typeRef(typeName: unknown): TypeRef {
  const type = typeName as { names?: unknown; typmods?: unknown[]; arrayBounds?: unknown[] } | undefined;
  const mods = (type?.typmods ?? []).map((mod) => Number((mod as { A_Const?: { ival?: { ival?: number } } }).A_Const?.ival?.ival ?? 0));
  const parts = names(type?.names);
  return { name: parts.at(-1) ?? '', qualified: parts.join('.'), mods, array: (type?.arrayBounds?.length ?? 0) > 0 };
}

export interface ColumnDefinition {
  name: string;
  type: TypeRef;
  constraints: Node[];
}

export function columnDefinition(def: unknown): ColumnDefinition | undefined {
  const column = unwrap(def);
  if (column?.[0] !== 'ColumnDef') return undefined;
  const body = column[1] as { colname?: string; typeName?: unknown; constraints?: unknown[] };
  const constraints = (body.constraints ?? []).flatMap((item) => {
    const wrapped = unwrap(item);
    return wrapped?.[0] === 'Constraint' ? [wrapped[1]] : [];
  });
  return { name: body.colname ?? '', type: typeRef(body.typeName), constraints };
}

/** The CREATE TABLE or ALTER TABLE ... ADD constraint's kind, without the `CONSTR_` prefix: CHECK, FOREIGN, UNIQUE. */
export function constraintType(constraint: Node): string {
  return String(constraint.contype ?? '').replace(/^CONSTR_/, '');
}
