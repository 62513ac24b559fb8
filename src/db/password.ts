import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseUrl } from '../config/database-url.js';
import { registerSecret } from '../config/redact.js';

/**
 * A URL without a password is tried as such: peer or trust authentication never asks for one. When the server
 * does ask, the password comes from where libpq would look, in its order: PGPASSWORD, then the password file
 * (PGPASSFILE, default ~/.pgpass). Found nowhere, the connection fails with PASSWORD_MISSING naming those places.
 */
export function passwordFor(url: DatabaseUrl, env: NodeJS.ProcessEnv = process.env): string | (() => Promise<string>) | undefined {
  if (url.password !== undefined) return url.password;
  return async () => {
    const found = env.PGPASSWORD || fromPasswordFile(url, passwordFile(env));
    if (found) {
      registerSecret(found);
      return found;
    }
    throw Object.assign(
      new Error(`the server asks for a password for user "${url.user}", and there is none in ${url.variable}, PGPASSWORD or ${passwordFile(env)}`),
      { code: 'PASSWORD_MISSING' },
    );
  };
}

function passwordFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
}

/** libpq's format: host:port:database:user:password, "*" matches anything, "\" escapes ":" and "\". */
function fromPasswordFile(url: DatabaseUrl, file: string): string | undefined {
  let text: string;
  try {
    // libpq ignores a file others can read: so do we, or a password would work here and not in psql.
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = [url.socket ? 'localhost' : url.host, String(url.port), url.database, url.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitFields(line);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, i) => fields[i] === '*' || fields[i] === value || (i === 0 && fields[i] === 'localhost' && url.isLocal));
    if (matches) return fields[4];
  }
  return undefined;
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const char = line.charAt(i);
    if (char === '\\' && i + 1 < line.length) field += line.charAt(++i);
    else if (char === ':' && fields.length < 4) {
      fields.push(field);
      field = '';
    } else field += char;
  }
  return [...fields, field];
}
