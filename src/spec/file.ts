import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod/mini';
import { PgreplError } from '../errors.js';
import { clusterSpecSchema, type ClusterSpec } from './schema.js';

export const SPEC_FILE = 'pgrepl.yaml';

/** pgrepl.yaml is not valid YAML or breaks a rule; the message names the field. */
export class SpecError extends PgreplError {}

function firstIssue(file: string, error: z.core.$ZodError): SpecError {
  const issue = error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
  return new SpecError(`${file}: ${field}: ${issue.message}`, {
    hint: 'fix that field (see README, "The spec file"), or move the directory away and run pgrepl up to start over',
  });
}

export function parseSpec(text: string, file = SPEC_FILE): ClusterSpec {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new SpecError(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, { hint: 'fix the YAML syntax' });
  }
  const result = clusterSpecSchema.safeParse(doc.toJS());
  if (!result.success) throw firstIssue(file, result.error);
  return result.data;
}

export async function readSpec(path: string): Promise<ClusterSpec> {
  return parseSpec(readFileSync(path, 'utf8'), path);
}

export function renderSpec(spec: ClusterSpec): string {
  return `# pgrepl cluster spec: the desired topology. \`pgrepl up\` converges the nodes to it.\n${stringify(spec)}`;
}
