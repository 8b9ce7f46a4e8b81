/** Lets `parties` async tasks wait for each other: each `arrive()` settles once all have arrived, or on `release()`. */
export class Barrier {
  #arrived = 0;
  #open: () => void = () => undefined;
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));

  constructor(private readonly parties: number) {}

  arrive(): Promise<void> {
    if (++this.#arrived >= this.parties) this.#open();
    return this.#opened;
  }

  /** Opens the barrier for everyone, e.g. when a party fails and will never arrive. */
  release(): void {
    this.#open();
  }
}
