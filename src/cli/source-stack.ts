import { readFileSync } from 'node:fs';
import type { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A frame's location in a bundle file: `file:///…/dist/chunks/x.js:12:7` (or a plain path). */
const FRAME = /((?:file:\/\/)?\/[^\s()]*?\.js):(\d+):(\d+)/g;

/**
 * The stack with each frame in the bundle mapped to its src/ file and line, through the .map file next to it.
 * Node maps stacks itself only when source maps are on before the bundle loads (on Node 20, turning them on later
 * maps nothing already loaded), and then every start-up pays for reading every map: an unexpected error is rare,
 * so the cost is paid here, when one is printed. A frame without a map (node:internal, the app's own) is kept.
 */
export function sourceStack(stack: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  return stack.replace(FRAME, (frame, file: string, line: string, column: string) => {
    if (!maps.has(file)) maps.set(file, readSourceMap(file));
    const entry = maps.get(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return frame;
    const source = fileURLToPath(new URL(entry.originalSource, asUrl(file)));
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

function readSourceMap(file: string): SourceMap | undefined {
  try {
    // Taken here, not imported: node:module (and its source-map reader) would load in every command.
    const { SourceMap } = process.getBuiltinModule('node:module');
    return new SourceMap(JSON.parse(readFileSync(new URL(`${asUrl(file)}.map`), 'utf8')));
  } catch {
    return undefined;
  }
}

const asUrl = (file: string) => (file.startsWith('file://') ? file : `file://${file}`);

/**
 * Before Node prints an uncaught error (and exits 1, as it would anyway), its stack names src/ files and lines.
 * Nothing is loaded or read unless it happens.
 */
export function mapUncaughtStacks(): void {
  process.on('uncaughtExceptionMonitor', (error) => {
    if (error instanceof Error && error.stack) error.stack = sourceStack(error.stack);
  });
}
