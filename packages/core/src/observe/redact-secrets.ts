/**
 * Value-based scrubbing of known secrets from free text. Path redaction (in the logger) hides the
 * fields we know carry credentials; this catches a credential that turns up somewhere else
 * verbatim, such as inside a sandbox's output line or an error message.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Secrets shorter than this are ignored: real credentials are long, and scrubbing a short string
 * would shred ordinary text (an empty one would match everywhere).
 */
export const MIN_SECRET_LENGTH = 8;

/**
 * Replaces every occurrence of every known secret (of at least {@link MIN_SECRET_LENGTH}
 * characters) in `text` with `[redacted]`. Overlapping occurrences are merged into one.
 *
 * The result never contains a known secret: in the pathological case where the replacement
 * itself would recreate one (a "secret" that contains or is contained in the censor text), the
 * whole text is replaced.
 *
 * @example
 * ```ts
 * redactSecrets(`token ${token} refused`, [token]); // 'token [redacted] refused'
 * ```
 */
export function redactSecrets(text: string, knownSecrets: Iterable<string>): string {
  const secrets = usableSecrets(knownSecrets);
  if (secrets.length === 0) return text;
  let covered: Uint8Array | null = null;
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      covered ??= new Uint8Array(text.length);
      covered.fill(1, at, at + secret.length);
    }
  }
  if (covered === null) return text;
  let result = '';
  for (let index = 0; index < text.length; index++) {
    if (covered[index] === 0) result += text[index];
    else if (index === 0 || covered[index - 1] === 0) result += REDACTED;
  }
  if (!containsAny(result, secrets)) return result;
  return containsAny(REDACTED, secrets) ? '' : REDACTED;
}

function usableSecrets(knownSecrets: Iterable<string>): string[] {
  const secrets: string[] = [];
  for (const secret of knownSecrets) if (secret.length >= MIN_SECRET_LENGTH) secrets.push(secret);
  return secrets;
}

function containsAny(text: string, secrets: readonly string[]): boolean {
  return secrets.some((secret) => text.includes(secret));
}
