/** Renders a libpq key=value conninfo, quoting values that need it. Callers pass passfile=, never password=. */
export function renderConninfo(params: Readonly<Record<string, string | number>>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${conninfoValue(value)}`)
    .join(' ');
}

function conninfoValue(value: string | number): string {
  const text = String(value);
  return /^[A-Za-z0-9_./:-]+$/.test(text) ? text : `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
