import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { redact } from '../config/redact.js';
import { usageError } from '../core/errors.js';
import type { SmokeReport, SmokeStep } from './run.js';

/** One testsuite, one testcase per step, times in seconds: what CI test-report readers (Jenkins, GitLab) expect. */
function junitXml(report: SmokeReport, timestamp = new Date()): string {
  const count = (status: SmokeStep['status']) => report.steps.filter((step) => step.status === status).length;
  const suite = attributes({
    name: 'todo-db smoke',
    tests: report.steps.length,
    failures: count('failed'),
    errors: report.cleanup.error === null ? 0 : 1,
    skipped: count('skipped'),
    time: seconds(report.durationMs),
    timestamp: timestamp.toISOString().replace(/\.\d+Z$/, ''),
  });
  const cases = report.steps.map(testcase);
  const cleanupError =
    report.cleanup.error === null
      ? ''
      : `  <system-err>${escapeXml(`cleanup failed, left behind users ${report.cleanup.leftover.join(', ')}: ${report.cleanup.error}`)}</system-err>\n`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite ${suite}>\n${cases.join('')}${cleanupError}</testsuite>\n`;
}

function testcase(step: SmokeStep): string {
  const head = `  <testcase ${attributes({ classname: 'todo-db.smoke', name: `${step.name}: ${step.description}`, time: seconds(step.durationMs) })}`;
  if (step.status === 'passed') return `${head}/>\n`;
  const message = redact(step.message ?? '');
  const body =
    step.status === 'failed'
      ? `<failure ${attributes({ message, type: 'SmokeStepFailed' })}>${escapeXml(message)}</failure>`
      : `<skipped ${attributes({ message })}/>`;
  return `${head}>\n    ${body}\n  </testcase>\n`;
}

/** Writes the report, creating its folder; an unwritable path is the caller's to fix (exit 2). */
export async function writeJunitReport(path: string, report: SmokeReport): Promise<string> {
  const file = resolve(path);
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, junitXml(report));
    return file;
  } catch (error) {
    throw usageError(
      'JUNIT_UNWRITABLE',
      `The JUnit report could not be written to ${file}: ${(error as Error).message}.`,
      'Pass a --junit path in a writable directory.',
    );
  }
}

function attributes(values: Record<string, string | number>): string {
  // Parsers turn a raw newline in an attribute into a space; a character reference keeps it.
  const escapeAttribute = (text: string) => escapeXml(text).replace(/[\t\n\r]/g, (char) => `&#${char.charCodeAt(0)};`);
  return Object.entries(values)
    .map(([name, value]) => `${name}="${escapeAttribute(String(value))}"`)
    .join(' ');
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes markup, and drops the characters XML 1.0 cannot carry at all (NUL and most other control codes). */
function escapeXml(text: string): string {
  // XML 1.0 has no way to write these characters, even escaped.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this removes
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (char) => ENTITIES[char] as string);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
