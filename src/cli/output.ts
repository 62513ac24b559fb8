import type { ChalkInstance } from 'chalk';
import { redact, redactDeep } from '../config/redact.js';
import type { LogLevel } from '../config/settings.js';
import type { TimeoutSetting, TodoDbError } from '../core/errors.js';

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

interface Spinner {
  clear(): void;
  render(): void;
  succeed(text?: string): void;
  fail(text?: string): void;
}

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
  /** A failure's sqlstate (PostgreSQL's, null when it was not PostgreSQL's) and cause code: see db/causes.ts. */
  error: { code: string; message: string; hint: string; sqlstate?: string | null; cause?: string | null; setting?: TimeoutSetting } | null;
}

export class Output {
  private level: number;
  private spinner?: Spinner;

  /**
   * chalk is loaded only where colour is on: plain and JSON output (CI, pipes, every machine) never paint, and
   * loading it costs such a command a millisecond or two.
   */
  static async open(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): Promise<Output> {
    const plain = Boolean(env.CI) || env.NO_COLOR !== undefined || options.color === false || !isTTY;
    const mode: OutputMode = options.json ? 'json' : plain ? 'plain' : 'human';
    const chalk = mode === 'human' ? new (await import('chalk')).Chalk({ level: 1 }) : undefined;
    return new Output(options, mode, chalk);
  }

  private constructor(
    private readonly options: GlobalOptions,
    readonly mode: OutputMode,
    private readonly chalk: ChalkInstance | undefined,
  ) {
    this.level = LEVELS[options.quiet ? 'error' : options.verbose ? 'debug' : 'info'];
  }

  /** LOG_LEVEL applies unless --quiet or --verbose said otherwise. */
  useLogLevel(level: LogLevel): void {
    if (!this.options.quiet && !this.options.verbose) this.level = LEVELS[level];
  }

  /** Runs a step under a spinner on a TTY; elsewhere it just runs it. */
  async task<T>(text: string, step: () => Promise<T>): Promise<T> {
    // ora divides by the terminal width and loops forever on a zero-column pseudo-terminal.
    const spinnable = process.stderr.isTTY && process.stderr.columns > 0;
    if (this.mode !== 'human' || this.level > LEVELS.info || !spinnable) return step();
    const { default: ora } = await import('ora');
    this.spinner = ora({ text, stream: process.stderr }).start();
    try {
      const result = await step();
      this.spinner.succeed();
      return result;
    } catch (error) {
      this.spinner.fail();
      throw error;
    } finally {
      this.spinner = undefined;
    }
  }

  /** The command's result, on stdout. */
  print(text: string, { reveal = false } = {}): void {
    if (this.options.quiet) return;
    process.stdout.write(`${reveal ? text : redact(text)}\n`);
  }

  /** `reveal` is only for output the user asked to contain a secret (local url --show-password). */
  json<T>(envelope: Envelope<T>, { reveal = false } = {}): void {
    process.stdout.write(`${JSON.stringify(reveal ? envelope : redactDeep(envelope), null, 2)}\n`);
  }

  info(line: string): void {
    this.log('info', line);
  }

  warn(line: string): void {
    this.log('warn', `${this.paint('yellow', this.symbol('warn'))} ${line}`);
  }

  debug(line: string): void {
    this.log('debug', `${this.paint('gray', 'debug:')} ${line}`);
  }

  error(error: Pick<TodoDbError, 'code' | 'message' | 'hint'>): void {
    const [first, ...rest] = error.message.split('\n');
    const lines = [`${this.paint('red', this.symbol('fail'))} ${first} [${error.code}]`, ...rest];
    if (error.hint) lines.push(`  ${this.paint('gray', 'hint:')} ${error.hint}`);
    this.log('error', lines.join('\n'));
  }

  private log(level: LogLevel, text: string): void {
    if (LEVELS[level] < this.level) return;
    this.spinner?.clear();
    process.stderr.write(`${redact(text)}\n`);
    this.spinner?.render();
  }

  symbol(kind: 'ok' | 'fail' | 'warn'): string {
    if (this.mode === 'human') return { ok: '✓', fail: '✗', warn: '!' }[kind];
    return { ok: 'ok', fail: 'error:', warn: 'warning:' }[kind];
  }

  paint(color: 'red' | 'green' | 'yellow' | 'gray' | 'bold', text: string): string {
    return this.chalk ? this.chalk[color](text) : text;
  }

  /** Aligned "label  value" lines. */
  table(rows: Array<[string, string]>): string {
    const width = Math.max(...rows.map(([label]) => label.length));
    return rows.map(([label, value]) => `  ${this.paint('gray', label.padEnd(width))}  ${value}`).join('\n');
  }
}

/** "1 migration", "2 migrations". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** migrate diff and inspect-indexes name the tables another tool manages, never skip them silently. */
export function leftOutLine(tables: string[]): string {
  return `${plural(tables.length, 'table')} left out, managed by other tools (externalTables): ${tables.join(', ')}`;
}
