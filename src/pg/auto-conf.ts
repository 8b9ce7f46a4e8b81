import { quoteConfValue } from './conf.js';

/**
 * Edits postgresql.auto.conf text while the server is stopped (ALTER SYSTEM needs it running).
 * Each key in `changes` is set to its value, or removed when the value is null; other lines stay.
 */
export function editAutoConf(text: string, changes: Readonly<Record<string, string | null>>): string {
  const keys = new Set(Object.keys(changes));
  const kept = text.split('\n').filter((line) => {
    const key = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=/.exec(line)?.[1];
    return !(key && keys.has(key.toLowerCase()));
  });
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  for (const [key, value] of Object.entries(changes)) if (value !== null) kept.push(`${key} = ${quoteConfValue(value)}`);
  return `${kept.join('\n')}\n`;
}

/** The value postgresql.auto.conf text gives `key` (its last assignment, unquoted), if any. */
export function autoConfValue(text: string, key: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && match[1]!.toLowerCase() === key) value = unquote(match[2]!);
  }
  return value;
}

function unquote(raw: string): string {
  if (!raw.startsWith("'")) return raw;
  return raw.slice(1, raw.lastIndexOf("'")).replace(/''/g, "'").replace(/\\\\/g, '\\');
}
