import { CONTAINER_PORT, NETWORK, nodeNames, portMapping } from './layout.js';
import type { ComposeOptions } from './options.js';
import { secretTarget } from './secrets.js';

export const PGADMIN_IMAGE = 'dpage/pgadmin4:9';
export const PGADMIN_VOLUME = 'pgadmin-data';
export const SERVERS_FILE = 'servers.json';
/** pgAdmin loads this file once, on its first start, into its own configuration database. */
const SERVERS_TARGET = '/pgadmin4/servers.json';
export const PGADMIN_EMAIL = 'admin@example.com';

/**
 * pgAdmin with every node pre-registered. No `user:` key: the image runs as its own unprivileged
 * user (5050), which `user: root` would override. Its password is a Compose secret read through
 * PGADMIN_DEFAULT_PASSWORD_FILE, never an environment value. Published on the bind address only
 * (loopback by default): it is plain HTTP.
 */
export function pgadminService(options: ComposeOptions): Record<string, unknown> {
  return {
    image: PGADMIN_IMAGE,
    environment: {
      PGADMIN_DEFAULT_EMAIL: PGADMIN_EMAIL,
      PGADMIN_DEFAULT_PASSWORD_FILE: secretTarget('pgadmin_password'),
      // Postfix would be started through sudo as root; nothing here sends mail.
      PGADMIN_DISABLE_POSTFIX: 'true',
    },
    secrets: ['pgadmin_password'],
    volumes: [
      { type: 'volume', source: PGADMIN_VOLUME, target: '/var/lib/pgadmin' },
      { type: 'bind', source: `./${SERVERS_FILE}`, target: SERVERS_TARGET, read_only: true },
    ],
    ports: [portMapping(options.bind, options.pgadminPort, 80)],
    networks: [NETWORK],
    restart: 'unless-stopped',
  };
}

/** servers.json: one entry per node, reached by service name on the Compose network. No passwords. */
export function renderServersJson(options: ComposeOptions): string {
  const servers = Object.fromEntries(
    nodeNames(options).map((name, i) => [
      String(i + 1),
      { Name: name, Group: 'pgrepl', Host: name, Port: CONTAINER_PORT, MaintenanceDB: 'postgres', Username: 'postgres', SSLMode: 'prefer' },
    ]),
  );
  return `${JSON.stringify({ Servers: servers }, null, 2)}\n`;
}
