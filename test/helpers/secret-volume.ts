import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A Secret volume as kubelet writes it (pkg/volume/util/atomic_writer.go): the data in a timestamped
 * directory, `..data` a symlink to it, and each key a symlink through `..data`.
 */
export class SecretVolume {
  private generation = 0;
  /** `key`: the file name the Secret's key gets in the mounted directory. */
  constructor(
    readonly dir: string,
    readonly key = 'token',
  ) {}

  /** The path the exporter is given: `<dir>/<key>`, a symlink through `..data`. */
  get path(): string {
    return join(this.dir, this.key);
  }

  create(content: string): void {
    const current = this.writeGeneration(content);
    symlinkSync(current, join(this.dir, '..data'));
    symlinkSync(join('..data', this.key), this.path);
  }

  /** The update: a new generation, `..data_tmp` pointing to it renamed over `..data`, the old one removed. */
  rotate(content: string): void {
    const old = generationName(this.generation);
    const next = this.writeGeneration(content);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    rmSync(join(this.dir, old), { recursive: true });
  }

  private writeGeneration(content: string): string {
    this.generation++;
    const name = generationName(this.generation);
    mkdirSync(join(this.dir, name));
    writeFileSync(join(this.dir, name, this.key), content.endsWith('\n') ? content : `${content}\n`);
    return name;
  }
}

/** kubelet names each generation after its time, e.g. `..2026_01_01_00_00_00.000000001`. */
function generationName(generation: number): string {
  return `..2026_01_01_00_00_00.${String(generation).padStart(9, '0')}`;
}
