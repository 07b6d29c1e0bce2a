/**
 * Scrubs credentials out of text that may reach logs, errors or workflow history.
 * Drivers often embed connection URLs in messages, and we also know the exact secrets we hold.
 */
const knownSecrets = new Set<string>();

/** Remembers a secret value so that {@link redact} removes it from any text. */
export function registerSecret(secret: string | undefined): void {
  // Very short values would turn ordinary words into asterisks; passwords that short are refused anyway.
  if (secret && secret.length >= 4) knownSecrets.add(secret);
}

const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]+):([^@/\s]*)@/gi;
const passwordAssignments =
  /\b(password|passwd|pwd|secret|secretAccessKey)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;

/** Returns the text with known secrets, URL passwords and `password=…` pairs masked. */
export function redact(text: string): string {
  let out = text.replace(urlCredentials, '$1$2:***@').replace(passwordAssignments, '$1$2***');
  for (const secret of knownSecrets) out = out.split(secret).join('***');
  return out;
}
