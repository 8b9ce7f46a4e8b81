import type { OnEvent, ProgressEvent } from '../cluster/events.js';

const BAR_WIDTH = 20;

function bar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}%`;
}

function label(event: ProgressEvent): string {
  return 'node' in event && event.node ? `${event.node}: ` : '';
}

/**
 * Draws progress on stderr, leaving stdout to the result. On a terminal, clones share one line of
 * bars redrawn in place; in a pipe, each clone prints at completion; with --json, every event is a
 * JSON line.
 */
export function progressPrinter(json: boolean, stream: NodeJS.WriteStream = process.stderr): OnEvent {
  if (json) return (event) => stream.write(`${JSON.stringify({ event: event.type, ...event, type: undefined })}\n`);
  const clones = new Map<string, number>();
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  return (event) => {
    if (event.type === 'clone') {
      const previous = clones.get(event.node);
      clones.set(event.node, event.percent);
      if (stream.isTTY) {
        clearBar();
        stream.write(`cloning ${[...clones].map(([node, pct]) => `${node} ${bar(pct)}`).join('  ')}`);
        barShown = true;
      } else if (event.percent === 100 && previous !== 100) {
        stream.write(`${event.node}: cloned ${(event.totalKb / 1024).toFixed(1)} MB\n`);
      }
      return;
    }
    clearBar();
    stream.write(`${event.type === 'warning' ? 'warning: ' : ''}${label(event)}${event.message}\n`);
  };
}
