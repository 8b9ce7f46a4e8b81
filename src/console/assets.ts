import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files the page is made of: ours and uPlot's, copied beside the console bundle at build time. */
export const ASSET_FILES = ['index.html', 'format.js', 'topology.js', 'cards.js', 'chart.js', 'app.js', 'app.css', 'uPlot.iife.min.js', 'uPlot.min.css'] as const;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

/**
 * The page's files, read once at start into memory. A fixed list, not a directory served as is:
 * no path from a request ever reaches the file system.
 */
export class Assets {
  private constructor(readonly files: ReadonlyMap<string, Asset>) {}

  static async load(dir: string): Promise<Assets> {
    const files = new Map<string, Asset>();
    for (const name of ASSET_FILES) {
      const body = new Uint8Array(await readFile(join(dir, name)));
      files.set(name, { body, type: TYPES[name.slice(name.lastIndexOf('.') + 1)]! });
    }
    return new Assets(files);
  }

  /** The same from strings, for tests. */
  static fromMemory(files: Readonly<Record<(typeof ASSET_FILES)[number], string>>): Assets {
    const encoder = new TextEncoder();
    return new Assets(new Map(ASSET_FILES.map((name) => [name, { body: encoder.encode(files[name]) as Uint8Array<ArrayBuffer>, type: TYPES[name.slice(name.lastIndexOf('.') + 1)]! }])));
  }

  get(name: string): Asset | undefined {
    return this.files.get(name);
  }

  headers(name: string): Record<string, string> {
    return { 'content-type': this.files.get(name)!.type, 'cache-control': 'no-cache' };
  }
}
