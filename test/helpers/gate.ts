import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SentrySimulator } from '../../sim/index.js';

/**
 * A real HTTP proxy in front of the simulator that holds the requests `held` matches until the test lets
 * them through, in the order they arrived: a test sees exactly which requests are under way at a moment,
 * without depending on timing.
 */
export interface Gate {
  /** SENTRY_BASE_URL pointing at the proxy. */
  baseUrl: string;
  /** Paths (with query) of the held requests that wait, oldest first. */
  waiting(): string[];
  /** Every held request that has arrived so far, oldest first. */
  arrived(): string[];
  /** Lets the `n` oldest waiting requests through. */
  release(n?: number): void;
  /** Lets everything through, now and from now on. */
  open(): void;
  /** Holds matching requests again. */
  shut(): void;
  /** Resolves once at least `n` requests wait. */
  whenWaiting(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGate(sim: SentrySimulator, held: (path: string) => boolean): Promise<Gate> {
  const queue: Array<{ path: string; go: () => void }> = [];
  const arrived: string[] = [];
  const watchers: Array<{ n: number; resolve: () => void }> = [];
  let opened = false;
  const notify = () => {
    for (const w of [...watchers]) {
      if (queue.length >= w.n) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    void fetch(new URL(req.url ?? '/', sim.url), {
      headers: { authorization: req.headers.authorization ?? '' },
    })
      .then(async (upstream) => {
        const headers = Object.fromEntries(upstream.headers);
        // fetch has decoded the body: the proxy sends it as it is now.
        delete headers['content-encoding'];
        delete headers['content-length'];
        res.writeHead(upstream.status, headers);
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })
      .catch(() => res.destroy());
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (opened || !held(path)) {
      forward(req, res);
      return;
    }
    arrived.push(path);
    const entry = { path, go: () => forward(req, res) };
    queue.push(entry);
    // A request the client abandoned (deadline) leaves the queue.
    res.once('close', () => {
      const i = queue.indexOf(entry);
      if (i !== -1) queue.splice(i, 1);
    });
    notify();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/0/`,
    waiting: () => queue.map((q) => q.path),
    arrived: () => [...arrived],
    release(n = 1) {
      for (const q of queue.splice(0, n)) q.go();
    },
    open() {
      opened = true;
      for (const q of queue.splice(0)) q.go();
    },
    shut() {
      opened = false;
    },
    whenWaiting(n) {
      return new Promise((resolve) => {
        watchers.push({ n, resolve });
        notify();
      });
    },
    async close() {
      opened = true;
      for (const q of queue.splice(0)) q.go();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
