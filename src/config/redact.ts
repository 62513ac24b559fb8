/**
 * The one redaction function. Every message, log line and JSON document that may contain a connection URL
 * goes through it, so a password can only leak if someone bypasses it.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:@/\s?#]*):([^@\s]*)@/gi;
const PASSWORD_PARAM = /([?&](?:password|sslpassword)=)[^&\s]*/gi;
const PASSWORD_FIELD = /(password=)(?:'[^']*'|"[^"]*"|\S+)/gi;

const knownSecrets = new Set<string>();

/** Registers a secret (a password from a URL or the local server) so it is masked wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 3) knownSecrets.add(secret);
}

export function redact(text: string): string {
  let out = text
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:****@`)
    .replace(PASSWORD_PARAM, '$1****')
    .replace(PASSWORD_FIELD, '$1****');
  for (const secret of knownSecrets) {
    out = maskSecret(out, secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = maskSecret(out, encoded);
  }
  return out;
}

const WORD_CHARACTER = /[A-Za-z0-9]/;

/**
 * Masks each occurrence of the secret, except where it is part of a longer word or a URL's scheme: a password
 * `postgres` must not turn postgresql:// into ****ql://, nor postgres:// into ****://.
 */
function maskSecret(text: string, secret: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    if (at < from || partOfLongerWord(text, at, secret) || text.startsWith('://', at + secret.length)) continue;
    out += `${text.slice(from, at)}****`;
    from = at + secret.length;
  }
  return from === 0 ? text : out + text.slice(from);
}

function partOfLongerWord(text: string, at: number, secret: string): boolean {
  const gluedBefore = WORD_CHARACTER.test(secret[0] ?? '') && WORD_CHARACTER.test(text[at - 1] ?? '');
  const gluedAfter = WORD_CHARACTER.test(secret.at(-1) ?? '') && WORD_CHARACTER.test(text[at + secret.length] ?? '');
  return gluedBefore || gluedAfter;
}

/** Redacts every string inside a JSON-able value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
