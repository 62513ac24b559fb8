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
  // includes first: most strings hold no secret, and a split copies every one of them (a status of 1000 migrations).
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('****');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('****');
  }
  return out;
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
