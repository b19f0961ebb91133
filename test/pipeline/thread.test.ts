/**
 * The collection thread yields the CPU to the thread that serves HTTP: on Linux it runs at nice 10 (a
 * thread's own nice value), and every other thread of the process keeps its priority.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';

/** The nice value of each thread of this process, by thread id (field 19 of /proc/self/task/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // After the command name in parentheses: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

test(
  'the collection thread runs at nice 10; the serving thread and the others keep theirs',
  { skip: existsSync('/proc/self/task') ? false : 'thread priorities are read from /proc (Linux only)' },
  async () => {
    const before = niceByThread();
    const sim = await startSimulator({
      seed: 3,
      projects: 2,
      environmentsPerProject: 1,
      issuesPerProject: 2,
    });
    const { exporter } = await startExporterAgainst(sim);
    let lowered: number[] = [];
    try {
      const after = niceByThread();
      lowered = [...after].filter(([tid, nice]) => nice === 10 && before.get(tid) !== 10).map(([tid]) => tid);
      assert.equal(lowered.length, 1, `one thread lowered to nice 10: ${JSON.stringify([...after])}`);
      assert.equal(
        after.get(process.pid),
        before.get(process.pid),
        'the serving (main) thread keeps its priority',
      );
      const report = await exporter.scheduler.runCycle();
      assert.deepEqual(report.failed, []);
    } finally {
      await exporter.stop();
      await sim.close();
    }
    // It is the collection thread: it ends with the exporter.
    assert.equal(existsSync(`/proc/self/task/${lowered[0]}`), false);
  },
);
