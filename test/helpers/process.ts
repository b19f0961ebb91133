/**
 * Child processes that tests start: read where they listen from what they print, so every server picks
 * its own port (port 0) and no test races another for a port it probed beforehand.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the first match of `pattern` in the child's output (`output()` returns all of it so far);
 * rejects, with the output, when the child exits first or after `timeoutMs`.
 */
export function waitForOutput(
  child: ChildProcess,
  output: () => string,
  pattern: RegExp,
  what: string,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = pattern.exec(output());
      if (match) finish(() => resolve(match));
      return match !== null;
    };
    const onExit = () => {
      // 'close' comes after the last output; look once more before giving up.
      if (!check()) finish(() => reject(new Error(`exited before ${what}: ${output().slice(-2000)}`)));
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${output().slice(-2000)}`)),
        ),
      timeoutMs,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('close', onExit);
      settle();
    };
    // Listeners added after the collectors of `output`, so the new chunk is already in it.
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('close', onExit);
    if (child.exitCode !== null || child.signalCode !== null) onExit();
    else check();
  });
}
