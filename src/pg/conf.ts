/**
 * Renders the server settings pgrepl owns into `pgrepl.conf`, a file included at the end of each
 * node's postgresql.conf. Pure: same input, same text, so the file can be compared and rewritten.
 * The settings themselves are in settings.ts, shared with the Docker Compose generator.
 */
import { nodeSettings, settingText, type ReplicationSettings, type SettingValue } from './settings.js';
import { quoteConfValue } from './quote.js';

export { quoteConfValue };

export interface ServerSettings extends ReplicationSettings {
  readonly listenAddresses: readonly string[];
  readonly port: number;
}

export const CONF_FILE = 'pgrepl.conf';
export const INCLUDE_LINE = `include = '${CONF_FILE}'  # added by pgrepl`;

/** Strings are quoted in a conf file (a quote inside cannot end them); numbers and on/off are bare. */
function confValue(value: SettingValue): string {
  return typeof value === 'string' ? quoteConfValue(value) : settingText(value);
}

export function renderServerConf(s: ServerSettings): string {
  const settings = nodeSettings(s, [
    ['listen_addresses', s.listenAddresses.join(',')],
    ['port', s.port],
    // TCP only: a socket path under a deep cluster directory can exceed the 107-byte limit.
    ['unix_socket_directories', ''],
  ]);
  const body = settings.map(([key, value]) => `${key} = ${confValue(value)}`).join('\n');
  return `# Managed by pgrepl: rewritten on every \`pgrepl up\`. Put your own settings in postgresql.conf\n# before the include line, or in postgresql.auto.conf (ALTER SYSTEM).\n${body}\n`;
}
