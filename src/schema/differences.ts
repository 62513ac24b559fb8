import type { Catalog, ColumnInfo, ConstraintInfo, IndexInfo, PolicyInfo, SequenceInfo, TableInfo, TriggerInfo } from './catalog-reader.js';

export type DifferenceKind =
  | 'table'
  | 'column'
  | 'constraint'
  | 'index'
  | 'enum'
  | 'trigger'
  | 'function'
  | 'type'
  | 'view'
  | 'sequence'
  | 'extension'
  | 'row-level-security'
  | 'policy'
  | 'comment';

export interface Difference {
  kind: DifferenceKind;
  /** The object as the message names it: tasks, tasks.title, tasks_title_length_check, task_status, f(text[]). */
  object: string;
  /** The table the object is on, for columns, constraints, indexes, triggers, row-level security and policies. */
  table?: string;
  message: string;
}

/** How one side of a comparison is named in the messages. */
export interface SideLabel {
  /** After "in": "the live database". */
  where: string;
  /** Before that side's value: "live character varying(250)", "migrations say character varying(200)". */
  says: string;
}

const LIVE: SideLabel = { where: 'the live database', says: 'live' };
export const MIGRATIONS: SideLabel = { where: 'the migrations', says: 'migrations say' };
export const SCHEMA_PRISMA: SideLabel = { where: 'schema.prisma', says: 'schema.prisma says' };

export type Ignorable = 'check' | 'trigger' | 'function' | 'type' | 'view' | 'sequence' | 'extension' | 'row-level-security' | 'policy';

export interface CompareOptions {
  ignore?: Ignorable[];
  /** Comments are documentation, so they are compared only when asked (migrate diff --comments). */
  comments?: boolean;
  /** Default LIVE. A plain string is used for both forms. */
  leftLabel?: SideLabel | string;
  /** Default MIGRATIONS. */
  rightLabel?: SideLabel | string;
}

interface Context {
  left: SideLabel;
  right: SideLabel;
  ignore: Set<Ignorable>;
  comments: boolean;
  out: Difference[];
}

/**
 * The differences between two catalogs, each reported once: a missing table is one difference (not one per
 * column), an index that backs a reported constraint is not reported again, and an object present on both
 * sides under different names with the same content is one rename.
 */
export function compareCatalogs(left: Catalog, right: Catalog, options: CompareOptions = {}): Difference[] {
  const context: Context = {
    left: label(options.leftLabel, LIVE),
    right: label(options.rightLabel, MIGRATIONS),
    ignore: new Set(options.ignore),
    comments: options.comments === true,
    out: [],
  };
  if (!context.ignore.has('extension')) compareExtensions(left, right, context);
  compareEnums(left, right, context);
  if (!context.ignore.has('type')) compareTypes(left, right, context);
  const { both } = pair(
    left.tables,
    right.tables,
    (table) => table.name,
    (side, table) => missing(context, side, 'table', table.name, `table ${table.name}`),
  );
  for (const [l, r] of both) compareTable(l, r, context);
  if (!context.ignore.has('sequence')) compareSequences(left, right, context);
  if (!context.ignore.has('view')) compareViews(left, right, context);
  if (!context.ignore.has('function')) compareFunctions(left, right, context);
  if (context.comments) compareComments(left, right, context);
  return context.out;
}

function label(given: SideLabel | string | undefined, fallback: SideLabel): SideLabel {
  if (given === undefined) return fallback;
  return typeof given === 'string' ? { where: given, says: given } : given;
}

function compareEnums(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.enums,
    right.enums,
    (e) => e.name,
    (side, e) => missing(context, side, 'enum', e.name, `enum ${e.name}`),
  );
  for (const [l, r] of both) {
    if (l.labels.join('\0') === r.labels.join('\0')) continue;
    const list = (labels: string[]) => `(${labels.join(', ')})`;
    add(context, 'enum', l.name, `enum ${l.name}: ${context.left.says} ${list(l.labels)}, ${context.right.says} ${list(r.labels)}`);
  }
}

function compareTypes(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.types,
    right.types,
    (t) => t.name,
    (side, t) => missing(context, side, 'type', t.name, `${t.kind} ${t.name}`),
  );
  for (const [l, r] of both) {
    if (l.kind !== r.kind) add(context, 'type', l.name, `type ${l.name}: ${context.left.says} ${l.kind}, ${context.right.says} ${r.kind}`);
    else if (l.definition !== r.definition)
      add(context, 'type', l.name, `${l.kind} ${l.name}: ${context.left.says} ${l.definition}, ${context.right.says} ${r.definition}`);
  }
}

function compareTable(left: TableInfo, right: TableInfo, context: Context): void {
  compareColumns(left, right, context);
  const reported = compareConstraints(left, right, context);
  compareIndexes(left, right, reported, context);
  if (!context.ignore.has('trigger')) compareTriggers(left, right, context);
  if (!context.ignore.has('row-level-security')) compareRowSecurity(left, right, context);
  if (!context.ignore.has('policy')) comparePolicies(left, right, context);
}

function compareRowSecurity(left: TableInfo, right: TableInfo, context: Context): void {
  const changes: string[] = [];
  const [l, r] = [left.rowSecurity, right.rowSecurity];
  if (l.enabled !== r.enabled)
    changes.push(`${context.left.says} ${l.enabled ? 'enabled' : 'disabled'}, ${context.right.says} ${r.enabled ? 'enabled' : 'disabled'}`);
  if (l.forced !== r.forced)
    changes.push(`${context.left.says} ${l.forced ? 'forced' : 'not forced'}, ${context.right.says} ${r.forced ? 'forced' : 'not forced'}`);
  if (changes.length > 0) add(context, 'row-level-security', left.name, `row-level security on ${left.name}: ${changes.join('; ')}`, left.name);
}

function comparePolicies(left: TableInfo, right: TableInfo, context: Context): void {
  const table = left.name;
  const { both } = pair(
    left.policies,
    right.policies,
    (p) => p.name,
    (side, p) => missing(context, side, 'policy', p.name, `policy ${p.name} on ${table}`, table),
  );
  for (const [l, r] of both) {
    const changes = (
      [
        ['command', (p: PolicyInfo) => p.command],
        ['', (p: PolicyInfo) => (p.permissive ? 'permissive' : 'restrictive')],
        ['to', (p: PolicyInfo) => p.roles.join(', ')],
        ['using', (p: PolicyInfo) => p.using ?? '(none)'],
        ['with check', (p: PolicyInfo) => p.check ?? '(none)'],
      ] as const
    )
      .filter(([, value]) => value(l) !== value(r))
      .map(([what, value]) => `${context.left.says} ${what} ${value(l)}, ${context.right.says} ${what} ${value(r)}`.replace(/ {2}/g, ' '));
    if (changes.length > 0) add(context, 'policy', l.name, `policy ${l.name} on ${table}: ${changes.join('; ')}`, table);
  }
}

function compareExtensions(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.extensions,
    right.extensions,
    (e) => e.name,
    (side, e) => missing(context, side, 'extension', e.name, `extension ${e.name} ${e.version}`),
  );
  for (const [l, r] of both) {
    if (l.version !== r.version)
      add(context, 'extension', l.name, `extension ${l.name}: ${context.left.says} version ${l.version}, ${context.right.says} version ${r.version}`);
  }
}

function compareSequences(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.sequences,
    right.sequences,
    (q) => q.name,
    (side, q) => missing(context, side, 'sequence', q.name, `sequence ${q.name}`),
  );
  const owner = (q: SequenceInfo) => (q.ownedBy === null ? 'owned by no column' : `owned by ${q.ownedBy}`);
  for (const [l, r] of both) {
    const changes: string[] = [];
    if (l.type !== r.type) changes.push(`${context.left.says} ${l.type}, ${context.right.says} ${r.type}`);
    if (l.increment !== r.increment) changes.push(`${context.left.says} increment ${l.increment}, ${context.right.says} increment ${r.increment}`);
    if (l.ownedBy !== r.ownedBy) changes.push(`${context.left.says} ${owner(l)}, ${context.right.says} ${owner(r)}`);
    if (changes.length > 0) add(context, 'sequence', l.name, `sequence ${l.name}: ${changes.join('; ')}`);
  }
}

function compareViews(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.views,
    right.views,
    (v) => v.name,
    (side, v) => missing(context, side, 'view', v.name, `${v.kind} ${v.name}`),
  );
  // One line, however PostgreSQL laid the SELECT out, and without its closing semicolon.
  const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');
  for (const [l, r] of both) {
    if (l.kind !== r.kind) add(context, 'view', l.name, `view ${l.name}: ${context.left.says} ${l.kind}, ${context.right.says} ${r.kind}`);
    else if (l.definition !== r.definition)
      add(context, 'view', l.name, `${l.kind} ${l.name}: ${context.left.says} ${oneLine(l.definition)}, ${context.right.says} ${oneLine(r.definition)}`);
  }
}

function compareComments(left: Catalog, right: Catalog, context: Context): void {
  const quoted = (comment: string | undefined) => (comment === undefined ? 'no comment' : JSON.stringify(comment));
  const rightByObject = new Map(right.comments.map((c) => [c.object, c]));
  const leftByObject = new Map(left.comments.map((c) => [c.object, c]));
  // A missing comment is just "no comment" on one side: the object itself is compared elsewhere.
  for (const object of [...new Set([...leftByObject.keys(), ...rightByObject.keys()])]) {
    const [l, r] = [leftByObject.get(object), rightByObject.get(object)];
    if (l?.comment === r?.comment) continue;
    const table = (l ?? r)?.table ?? undefined;
    add(context, 'comment', object, `comment on ${object}: ${context.left.says} ${quoted(l?.comment)}, ${context.right.says} ${quoted(r?.comment)}`, table);
  }
}

function compareColumns(left: TableInfo, right: TableInfo, context: Context): void {
  const table = left.name;
  const { both } = pair(
    left.columns,
    right.columns,
    (c) => c.name,
    (side, c) => missing(context, side, 'column', `${table}.${c.name}`, `column ${table}.${c.name}`, table),
  );
  for (const [l, r] of both) {
    const changes = columnChanges(l, r, context);
    if (changes.length > 0) add(context, 'column', `${table}.${l.name}`, `column ${table}.${l.name}: ${changes.join('; ')}`, table);
  }
}

/** How catalog.ts words an identity or generated column in place of a default. */
const GENERATED = /^generated (always|by default) as /;

function columnChanges(l: ColumnInfo, r: ColumnInfo, { left, right }: Context): string[] {
  const changes: string[] = [];
  if (l.type !== r.type) changes.push(`${left.says} ${l.type}, ${right.says} ${r.type}`);
  const nullability = (c: ColumnInfo) => (c.nullable ? 'nullable' : 'NOT NULL');
  if (l.nullable !== r.nullable) changes.push(`${left.says} ${nullability(l)}, ${right.says} ${nullability(r)}`);
  const fallback = (c: ColumnInfo) => (c.default === null ? 'no default' : GENERATED.test(c.default) ? c.default : `default ${c.default}`);
  if (l.default !== r.default) changes.push(`${left.says} ${fallback(l)}, ${right.says} ${fallback(r)}`);
  return changes;
}

/** Returns the names of the constraints it reported, so their backing indexes are not reported again. */
function compareConstraints(left: TableInfo, right: TableInfo, context: Context): Set<string> {
  const keep = (c: ConstraintInfo) => !(context.ignore.has('check') && c.type === 'check');
  const table = left.name;
  const reported = new Set<string>();
  const { both } = pairWithRenames(
    left.constraints.filter(keep),
    right.constraints.filter(keep),
    (c) => c.name,
    (c) => `${c.type} ${c.definition}`,
    {
      missing: (side, c) => {
        reported.add(c.name);
        missing(context, side, 'constraint', c.name, `constraint ${c.name} on ${table}`, table);
      },
      renamed: (l, r) => {
        reported.add(l.name).add(r.name);
        renamed(context, 'constraint', l.name, r.name, table);
      },
    },
  );
  for (const [l, r] of both) {
    if (l.definition === r.definition) continue;
    reported.add(l.name);
    add(context, 'constraint', l.name, `constraint ${l.name} on ${table}: ${context.left.says} ${l.definition}, ${context.right.says} ${r.definition}`, table);
  }
  return reported;
}

function compareIndexes(left: TableInfo, right: TableInfo, reportedConstraints: Set<string>, context: Context): void {
  const keep = (i: IndexInfo) => i.constraint === null || !reportedConstraints.has(i.constraint);
  const table = left.name;
  // The definition names the index: without the name, it is the index's content.
  const content = (i: IndexInfo) => i.definition.replace(/^(CREATE (?:UNIQUE )?INDEX )\S+ /, '$1');
  const { both } = pairWithRenames(left.indexes.filter(keep), right.indexes.filter(keep), (i) => i.name, content, {
    missing: (side, i) => missing(context, side, 'index', i.name, `index ${i.name} on ${table}`, table),
    renamed: (l, r) => renamed(context, 'index', l.name, r.name, table),
  });
  for (const [l, r] of both) {
    if (content(l) === content(r)) continue;
    add(context, 'index', l.name, `index ${l.name}: ${context.left.says} ${content(l)}, ${context.right.says} ${content(r)}`, table);
  }
}

function compareTriggers(left: TableInfo, right: TableInfo, context: Context): void {
  const table = left.name;
  const { both } = pair(
    left.triggers,
    right.triggers,
    (t) => t.name,
    (side, t) => missing(context, side, 'trigger', t.name, `trigger ${t.name} on ${table}`, table),
  );
  for (const [l, r] of both) {
    const [dl, dr] = describeTrigger(l) === describeTrigger(r) ? [l.definition, r.definition] : [describeTrigger(l), describeTrigger(r)];
    if (dl === dr) continue;
    add(context, 'trigger', l.name, `trigger ${l.name} on ${table}: ${context.left.says} ${dl}, ${context.right.says} ${dr}`, table);
  }
}

function describeTrigger(t: TriggerInfo): string {
  return `${t.timing} ${t.events.join(' OR ')} FOR EACH ${t.level} EXECUTE ${t.function}()`;
}

function compareFunctions(left: Catalog, right: Catalog, context: Context): void {
  const { both } = pair(
    left.functions,
    right.functions,
    (f) => f.signature,
    (side, f) => missing(context, side, 'function', f.signature, `${f.kind} ${f.signature}`),
  );
  for (const [l, r] of both) {
    if (l.definition === r.definition) continue;
    add(context, 'function', l.signature, `${l.kind} ${l.signature}: defined differently in ${context.left.where} and in ${context.right.where}`);
  }
}

type Side = 'left' | 'right';

function missing(context: Context, presentOn: Side, kind: DifferenceKind, object: string, noun: string, table?: string): void {
  const [here, there] = presentOn === 'left' ? [context.left, context.right] : [context.right, context.left];
  add(context, kind, object, `${noun}: in ${here.where}, not in ${there.where}`, table);
}

function renamed(context: Context, kind: DifferenceKind, leftName: string, rightName: string, table: string): void {
  add(
    context,
    kind,
    leftName,
    `${kind} ${leftName} on ${table}: named ${leftName} in ${context.left.where}, ${rightName} in ${context.right.where} (otherwise the same)`,
    table,
  );
}

function add(context: Context, kind: DifferenceKind, object: string, message: string, table?: string): void {
  context.out.push(table === undefined ? { kind, object, message } : { kind, object, table, message });
}

/** Matches items by key; reports those on one side only, in the left side's order, then the right's. */
function pair<T>(left: T[], right: T[], key: (item: T) => string, onMissing: (side: Side, item: T) => void): { both: Array<[T, T]> } {
  const rightByKey = new Map(right.map((item) => [key(item), item]));
  const leftKeys = new Set(left.map(key));
  const both: Array<[T, T]> = [];
  for (const item of left) {
    const match = rightByKey.get(key(item));
    if (match) both.push([item, match]);
    else onMissing('left', item);
  }
  for (const item of right) if (!leftKeys.has(key(item))) onMissing('right', item);
  return { both };
}

/** Like pair, but an unmatched item on each side with the same content is one rename, not two differences. */
function pairWithRenames<T>(
  left: T[],
  right: T[],
  key: (item: T) => string,
  content: (item: T) => string,
  on: { missing: (side: Side, item: T) => void; renamed: (l: T, r: T) => void },
): { both: Array<[T, T]> } {
  const onlyLeft: T[] = [];
  const onlyRight: T[] = [];
  const { both } = pair(left, right, key, (side, item) => (side === 'left' ? onlyLeft : onlyRight).push(item));
  for (const l of onlyLeft) {
    const at = onlyRight.findIndex((r) => content(r) === content(l));
    if (at === -1) on.missing('left', l);
    else on.renamed(l, onlyRight.splice(at, 1)[0] as T);
  }
  for (const r of onlyRight) on.missing('right', r);
  return { both };
}
