import { Chalk, type ChalkInstance } from 'chalk';
import { redact, redactDeep } from '../config/redact.js';
import type { TodoDbError } from '../errors.js';

/**
 * Two audiences: people get colour and symbols on a TTY; machines get one JSON document (--json) or plain
 * text (CI, NO_COLOR, --no-color, or a pipe). Diagnostics always go to stderr, and everything is redacted.
 */
export type OutputMode = 'human' | 'plain' | 'json';

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface Envelope<T> {
  ok: boolean;
  command: string;
  status_code: number;
  data: T | null;
  error: { code: string; message: string; hint: string } | null;
}

export class Output {
  readonly mode: OutputMode;
  private readonly chalk: ChalkInstance;

  constructor(
    private readonly options: GlobalOptions,
    env: NodeJS.ProcessEnv = process.env,
    isTTY = process.stdout.isTTY === true,
  ) {
    const plain = Boolean(env.CI) || env.NO_COLOR !== undefined || options.color === false || !isTTY;
    this.mode = options.json ? 'json' : plain ? 'plain' : 'human';
    this.chalk = new Chalk({ level: this.mode === 'human' ? 1 : 0 });
  }

  /** The command's result, on stdout. */
  print(text: string, { reveal = false } = {}): void {
    if (this.options.quiet) return;
    process.stdout.write((reveal ? text : redact(text)) + '\n');
  }

  /** `reveal` is only for output the user asked to contain a secret (local url --show-password). */
  json<T>(envelope: Envelope<T>, { reveal = false } = {}): void {
    process.stdout.write(JSON.stringify(reveal ? envelope : redactDeep(envelope), null, 2) + '\n');
  }

  info(line: string): void {
    if (this.options.quiet) return;
    process.stderr.write(redact(line) + '\n');
  }

  warn(line: string): void {
    if (this.options.quiet) return;
    process.stderr.write(redact(`${this.paint('yellow', 'warning:')} ${line}`) + '\n');
  }

  debug(line: string): void {
    if (!this.options.verbose) return;
    process.stderr.write(redact(`${this.paint('gray', 'debug:')} ${line}`) + '\n');
  }

  error(error: Pick<TodoDbError, 'code' | 'message' | 'hint'>): void {
    const lines = [`${this.paint('red', this.symbol('fail'))} ${error.message} [${error.code}]`];
    if (error.hint) lines.push(`  ${this.paint('gray', 'hint:')} ${error.hint}`);
    process.stderr.write(redact(lines.join('\n')) + '\n');
  }

  symbol(kind: 'ok' | 'fail' | 'warn'): string {
    if (this.mode === 'human') return { ok: '✓', fail: '✗', warn: '!' }[kind];
    return { ok: 'ok', fail: 'error:', warn: 'warning:' }[kind];
  }

  paint(color: 'red' | 'green' | 'yellow' | 'gray' | 'bold', text: string): string {
    return this.chalk[color](text);
  }

  /** Aligned "label  value" lines. */
  table(rows: Array<[string, string]>): string {
    const width = Math.max(...rows.map(([label]) => label.length));
    return rows.map(([label, value]) => `  ${this.paint('gray', label.padEnd(width))}  ${value}`).join('\n');
  }
}
