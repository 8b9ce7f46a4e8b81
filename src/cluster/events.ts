/** What long operations report while they run; the CLI draws them as text, a bar, or JSON lines. */
export type ProgressEvent =
  | { readonly type: 'step'; readonly node?: string; readonly message: string }
  | { readonly type: 'clone'; readonly node: string; readonly percent: number; readonly doneKb: number; readonly totalKb: number }
  | { readonly type: 'warning'; readonly node?: string; readonly message: string };

export type OnEvent = (event: ProgressEvent) => void;

export const ignoreEvents: OnEvent = () => undefined;
