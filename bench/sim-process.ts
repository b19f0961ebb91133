/**
 * The Sentry simulator in a process of its own, driven over IPC by `forkSimulator` (bench/lib.ts): its work
 * never delays the benchmark that times scrapes. It exits once closed and disconnected, or when the benchmark
 * goes away.
 */
import { startSimulator } from '../sim/index.js';
import type { SentrySimulator, SimOptions } from '../sim/index.js';
import type { SimProcessReply, SimProcessRequest } from './lib.js';

let sim: SentrySimulator | undefined;
let options: SimOptions = {};

async function handle(msg: SimProcessRequest): Promise<SimProcessReply> {
  switch (msg.type) {
    case 'start':
      options = msg.options;
      sim = await startSimulator(options);
      return { id: msg.id, type: 'started', url: sim.url, port: sim.port, org: sim.org, token: sim.token };
    case 'reseed': {
      if (!sim) throw new Error('not started');
      // Same address, new data: stop answering, generate from the new seed, listen on the same port again.
      const t0 = performance.now();
      const port = sim.port;
      await sim.close();
      sim = await startSimulator({ ...options, seed: msg.seed, port });
      return { id: msg.id, type: 'reseeded', gapMs: performance.now() - t0 };
    }
    case 'counters': {
      if (!sim) throw new Error('not started');
      // Without the list of recent requests: the totals are what the benchmarks count.
      const { total, byEndpoint, rateLimited } = sim.counters();
      return { id: msg.id, type: 'counters', total, byEndpoint, rateLimited };
    }
    case 'truth':
      if (!sim) throw new Error('not started');
      return { id: msg.id, type: 'truth', truth: sim.truth() };
    case 'close':
      await sim?.close();
      sim = undefined;
      return { id: msg.id, type: 'closed' };
  }
}

process.on('message', (msg: SimProcessRequest) => {
  handle(msg).then(
    (reply) => {
      if (process.connected) process.send?.(reply);
    },
    (err: unknown) => {
      if (process.connected)
        process.send?.({
          id: msg.id,
          type: 'error',
          message: err instanceof Error ? err.message : String(err),
        });
    },
  );
});
// The benchmark went away (ended or crashed): stop serving so the process exits.
process.on('disconnect', () => {
  void sim?.close();
});
