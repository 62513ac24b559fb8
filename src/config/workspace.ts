/**
 * npm, yarn and pnpm workspaces, read as cheaply as every command start allows: two small files per folder, a
 * dozen-line reader for pnpm-workspace.yaml's `packages` list instead of a YAML library, and a glob matcher for
 * the patterns workspaces use (`*`, `**`, `?`, `{a,b}`, `!` to exclude).
 */
import { type Dirent, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Workspace {
  root: string;
  /** The member patterns, relative to the root, as package.json "workspaces" and pnpm-workspace.yaml list them. */
  patterns: string[];
}

/** The nearest folder at or above dir that declares a workspace: package.json "workspaces" or pnpm-workspace.yaml. */
export function findWorkspace(dir: string): Workspace | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const patterns = declaredPatterns(current);
    if (patterns) return { root: current, patterns };
    if (path.dirname(current) === current) return undefined;
  }
}

/** Whether dir is the workspace's root or one of the members its patterns list. */
export function isWorkspacePackage(workspace: Workspace, dir: string): boolean {
  const relative = path.relative(workspace.root, path.resolve(dir));
  if (relative === '') return true;
  if (relative.startsWith('..') || path.isAbsolute(relative)) return false;
  return memberMatcher(workspace.patterns)(relative.split(path.sep));
}

/**
 * Every member folder with a package.json, found by walking only below the fixed part of each pattern
 * ("packages/*" reads packages/), never into node_modules or dot folders.
 */
export function workspaceMembers(workspace: Workspace): string[] {
  const matches = memberMatcher(workspace.patterns);
  const members = new Set<string>();
  for (const pattern of workspace.patterns.flatMap(expandBraces).filter((pattern) => !pattern.startsWith('!'))) {
    const segments = segmentsOf(pattern);
    const fixed = segments.slice(0, firstGlob(segments));
    const depth = segments.includes('**') ? Infinity : segments.length - fixed.length;
    walk(path.join(workspace.root, ...fixed), fixed, depth, (dir, relative) => {
      if (matches(relative) && existsSync(path.join(dir, 'package.json'))) members.add(dir);
    });
  }
  return [...members].sort();
}

function walk(dir: string, relative: string[], depth: number, visit: (dir: string, relative: string[]) => void): void {
  visit(dir, relative);
  if (depth <= 0) return;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a pattern whose fixed part does not exist lists nothing
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    walk(path.join(dir, entry.name), [...relative, entry.name], depth - 1, visit);
  }
}

function declaredPatterns(dir: string): string[] | undefined {
  const fromPackage = packageJsonPatterns(path.join(dir, 'package.json'));
  const fromPnpm = pnpmPatterns(path.join(dir, 'pnpm-workspace.yaml'));
  if (!fromPackage && !fromPnpm) return undefined;
  return [...(fromPackage ?? []), ...(fromPnpm ?? [])];
}

/** npm and yarn: "workspaces": [...], or yarn classic's { "packages": [...] }. */
function packageJsonPatterns(file: string): string[] | undefined {
  const manifest = readJson(file);
  if (!manifest || !('workspaces' in manifest)) return undefined;
  const declared = manifest.workspaces;
  const list = Array.isArray(declared) ? declared : (declared as { packages?: unknown } | null)?.packages;
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}

/** A package.json's fields, or undefined when it is missing or not JSON (npm reports that, not us). */
export function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * pnpm-workspace.yaml's top-level `packages`, as a block list (`- 'apps/*'`) or a flow list (`['apps/*']`). A
 * file without it still makes a workspace (pnpm keeps settings there): one whose only package is the root.
 */
function pnpmPatterns(file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => /^packages\s*:/.test(line));
  if (start === -1) return [];
  const inline = withoutComment((lines[start] as string).replace(/^packages\s*:/, '')).trim();
  if (inline.startsWith('[')) return flowList([inline, ...lines.slice(start + 1)].join('\n'));
  const patterns: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const item = /^\s*-\s+(.*)$/.exec(line);
    if (!item) break; // the next top-level key
    patterns.push(unquote(withoutComment(item[1] as string).trim()));
  }
  return patterns;
}

function flowList(text: string): string[] {
  const body = text.slice(text.indexOf('[') + 1, text.indexOf(']'));
  return [...body.matchAll(/'((?:[^']|'')*)'|"((?:[^"\\]|\\.)*)"|([^,\s][^,]*)/g)].map((match) => unquote(match[0].trim())).filter((item) => item !== '');
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replaceAll("''", "'");
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

/** A # starts a comment outside quotes, after whitespace or at the start. */
function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote) {
      if (char === quote) quote = '';
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** A folder is a member when some pattern lists it and no `!` pattern excludes it. */
function memberMatcher(patterns: string[]): (relative: string[]) => boolean {
  const expanded = patterns.flatMap(expandBraces);
  const include = expanded.filter((pattern) => !pattern.startsWith('!')).map(segmentsOf);
  const exclude = expanded.filter((pattern) => pattern.startsWith('!')).map((pattern) => segmentsOf(pattern.slice(1)));
  return (relative) => include.some((pattern) => matchSegments(pattern, relative)) && !exclude.some((pattern) => matchSegments(pattern, relative));
}

function segmentsOf(pattern: string): string[] {
  return pattern
    .trim()
    .replace(/^\.\//, '')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
}

function firstGlob(segments: string[]): number {
  const index = segments.findIndex((segment) => /[*?]/.test(segment));
  return index === -1 ? segments.length : index;
}

function matchSegments(pattern: string[], relative: string[]): boolean {
  if (pattern.length === 0) return relative.length === 0;
  const [head, ...rest] = pattern as [string, ...string[]];
  if (head === '**') {
    for (let skip = 0; skip <= relative.length; skip++) {
      if (matchSegments(rest, relative.slice(skip))) return true;
      if (relative[skip]?.startsWith('.')) return false; // ** does not enter dot folders either
    }
    return false;
  }
  return relative.length > 0 && segmentRegExp(head).test(relative[0] as string) && matchSegments(rest, relative.slice(1));
}

/** `*` and `?` within one folder name; a wildcard never matches a leading dot (npm's and pnpm's globs do not). */
function segmentRegExp(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '[^/]*')
    .replaceAll('?', '[^/]');
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${body}$`);
}

/** `packages/{db,api}` is `packages/db` and `packages/api`. */
function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const [before, after] = [pattern.slice(0, match.index), pattern.slice(match.index + match[0].length)];
  return (match[1] as string).split(',').flatMap((choice) => expandBraces(before + choice + after));
}
