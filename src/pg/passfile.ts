/**
 * libpq password files (https://www.postgresql.org/docs/current/libpq-pgpass.html). pgrepl hands
 * passwords to PostgreSQL programs only through these files (mode 0600), never through argv or
 * conninfo strings, so they never show in `ps` or in postgresql.auto.conf.
 */
export interface PassfileEntry {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user: string;
  readonly password: string;
}

function escapeField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

export function renderPassfile(entries: readonly PassfileEntry[]): string {
  return entries
    .map((e) => [e.host ?? '*', e.port === undefined ? '*' : String(e.port), e.database ?? '*', e.user, e.password].map(escapeField).join(':'))
    .map((line) => `${line}\n`)
    .join('');
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) current += line[++i];
    else if (ch === ':') {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  return [...fields, current];
}

/** The password for `user` in a passfile's text, or undefined. Wildcards are not matched against hosts. */
export function passwordFor(text: string, user: string): string | undefined {
  for (const line of text.split('\n')) {
    const fields = splitFields(line);
    if (fields.length === 5 && fields[3] === user) return fields[4];
  }
  return undefined;
}
