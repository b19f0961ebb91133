import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface WatchedFileOptions<T> {
  /**
   * Turns the file's text into a value. Throws when the text is not usable; the message must not quote the
   * text (it may be a secret).
   */
  parse: (text: string) => T;
  /** What the file held at start-up, already parsed (the start-up check reads it once). */
  initial: { text: string; value: T };
  /** Whether two values are the same (default `Object.is`): a new text with the same value is no change. */
  equals?: (a: T, b: T) => boolean;
  /** The new value, after the file changed to something usable. */
  onChange?: (value: T) => void;
  /** The file cannot be read or parsed (once per distinct problem, until it is good again). */
  onProblem?: (problem: string) => void;
  /** Without a change notification the file is read again at most this often, ms. Default 1000. */
  checkIntervalMs?: number;
  now?: () => number;
}

/**
 * A file the exporter keeps reading while it runs: a token or a web config mounted from a Kubernetes
 * Secret. Kubelet updates such a mount by writing a new `..<timestamp>` directory and swapping the `..data`
 * symlink to it (the file itself is a symlink `name -> ..data/name`); people and other tools rewrite the
 * file in place. Both are noticed:
 *
 * - `fs.watch` on the file's directory marks the file as changed at once (the `..data` rename, or a write
 *   to a file in that directory);
 * - without a notification (no inotify, a symlink into another directory, a network file system) the file
 *   is read again when its value is asked for and the last read is older than `checkIntervalMs`.
 *
 * Reading is cheap (a small file, at most once a second) and compares the content, so a rewrite that keeps
 * the size, the inode and, within the clock's resolution, the modification time is noticed too. A change is
 * taken only when two reads in a row agree (a writer that truncates, then writes, is not caught half-way);
 * an empty, missing or unparsable file keeps the previous value and is reported.
 */
export class WatchedFile<T> {
  readonly path: string;
  readonly #opts: WatchedFileOptions<T>;
  readonly #interval: number;
  readonly #now: () => number;
  #text: string;
  #value: T;
  #checkedAt: number;
  #dirty = false;
  #problem: string | undefined;
  #watcher: FSWatcher | undefined;
  #changes = 0;
  #changedAt: number | undefined;

  constructor(path: string, opts: WatchedFileOptions<T>) {
    this.path = path;
    this.#opts = opts;
    this.#interval = opts.checkIntervalMs ?? 1000;
    this.#now = opts.now ?? Date.now;
    this.#text = opts.initial.text;
    this.#value = opts.initial.value;
    this.#checkedAt = this.#now();
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, () => {
        this.#dirty = true;
      });
      // The directory went away or the watch broke: the periodic read still notices changes.
      this.#watcher.on('error', () => this.#unwatch());
    } catch {
      this.#watcher = undefined;
    }
  }

  /** The current value, after reading the file again if it changed or was last read long enough ago. */
  value(): T {
    if (this.#dirty || this.#now() - this.#checkedAt >= this.#interval) this.check();
    return this.#value;
  }

  /** Reads the file now; true when its value changed. */
  check(): boolean {
    this.#dirty = false;
    this.#checkedAt = this.#now();
    const first = this.#read();
    if (first === undefined) return false;
    if (first === this.#text) {
      this.#problem = undefined; // good again: a later problem is reported anew
      return false;
    }
    // A writer may be between truncating and writing: take the text only when a second read agrees.
    if (this.#read() !== first) {
      this.#dirty = true;
      return false;
    }
    let value: T;
    try {
      value = this.#opts.parse(first);
    } catch (err) {
      this.#report((err as Error).message);
      return false;
    }
    this.#problem = undefined;
    this.#text = first;
    if ((this.#opts.equals ?? Object.is)(value, this.#value)) return false;
    this.#value = value;
    this.#changes++;
    this.#changedAt = this.#now();
    this.#opts.onChange?.(value);
    return true;
  }

  /** How often the value changed since start-up. */
  get changes(): number {
    return this.#changes;
  }

  /** When the value last changed (ms since the epoch), if it did. */
  get changedAt(): number | undefined {
    return this.#changedAt;
  }

  close(): void {
    this.#unwatch();
  }

  #read(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      this.#report(`cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }

  #report(problem: string): void {
    if (problem === this.#problem) return;
    this.#problem = problem;
    this.#opts.onProblem?.(problem);
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
