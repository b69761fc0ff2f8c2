// The physical medium under the secure element's store: EEPROM or flash seen as a set of named
// blocks. Every `write` and every `remove` is one physical write; the journaled store above builds
// atomic multi-block commits out of them (see journaled-store.ts).
//
// The fault model (faults.ts) lets a physical write tear: a `write` cut by a power loss may leave a
// prefix of the bytes or garbage. A `remove` does not tear: it either happened or it did not (an
// unlink, or the update of one allocation entry on a card).
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { assert } from '../../core/assert.ts';

export interface Medium {
  /** The block's bytes, or undefined when there is no such block. Read-only: they may be shared. */
  read(name: string): Uint8Array | undefined;
  /**
   * One physical write: replaces the whole block. The medium may keep `bytes` without copying them
   * (MemoryMedium does), so the writer hands them over and never modifies them afterwards.
   */
  write(name: string, bytes: Uint8Array): void;
  /** One physical write: removes the block; removing an absent block changes nothing. */
  remove(name: string): void;
  /** Every block name, sorted. */
  list(): string[];
}

export const blockNameBytesMax = 64;
const blockNamePattern = /^[a-z0-9._-]{1,64}$/;

/** Block names become file names, so they stay in a portable alphabet and are never `.` or `..`. */
export function isBlockName(name: string): boolean {
  return blockNamePattern.test(name) && name !== '.' && name !== '..';
}

function assertBlockName(name: string): void {
  assert(isBlockName(name), `block name must match [a-z0-9._-]{1,${blockNameBytesMax}}: ${name}`);
}

/** The fast path: blocks in a Map. It outlives the store that uses it, as EEPROM outlives power. */
export class MemoryMedium implements Medium {
  readonly #blocks = new Map<string, Uint8Array>();

  // No copies either way (see the interface): copying made three quarters of a commit's time.
  read(name: string): Uint8Array | undefined {
    return this.#blocks.get(name);
  }

  write(name: string, bytes: Uint8Array): void {
    // A name already present was checked when first written; the check is a third of a write.
    if (!this.#blocks.has(name)) assertBlockName(name);
    this.#blocks.set(name, bytes);
  }

  remove(name: string): void {
    if (!this.#blocks.delete(name)) assertBlockName(name);
  }

  list(): string[] {
    return [...this.#blocks.keys()].sort();
  }
}

export interface FileMediumOptions {
  /** fsync the file and its directory on every physical write (default true). Tests may skip it. */
  readonly durable?: boolean;
}

// A character outside the block alphabet, so a temporary file can never be taken for a block.
const temporarySuffix = '~tmp';

/**
 * One file per block in a directory. A write goes to a temporary file that is then renamed over the
 * block (rename is atomic in POSIX), so the operating system never shows a half-written block; with
 * `durable`, the data is fsynced before the rename and the directory after it, so the rename itself
 * survives a crash of the machine.
 */
export class FileMedium implements Medium {
  readonly #directory: string;
  readonly #durable: boolean;

  constructor(directory: string, options: FileMediumOptions = {}) {
    this.#directory = directory;
    this.#durable = options.durable ?? true;
    mkdirSync(directory, { recursive: true });
    // A temporary file left by a crash before its rename is not a block: the write never happened.
    for (const name of readdirSync(directory)) {
      if (name.endsWith(temporarySuffix)) rmSync(join(directory, name), { force: true });
    }
  }

  read(name: string): Uint8Array | undefined {
    assertBlockName(name);
    let buffer: Buffer;
    try {
      buffer = readFileSync(join(this.#directory, name));
    } catch (error) {
      if (isMissingFile(error)) return undefined;
      throw error;
    }
    // A plain Uint8Array view: Buffer's `slice` shares memory, which callers would not expect.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  write(name: string, bytes: Uint8Array): void {
    assertBlockName(name);
    const path = join(this.#directory, name);
    const temporary = path + temporarySuffix;
    const descriptor = openSync(temporary, 'w');
    try {
      writeFileSync(descriptor, bytes);
      if (this.#durable) fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, path);
    this.#syncDirectory();
  }

  remove(name: string): void {
    assertBlockName(name);
    rmSync(join(this.#directory, name), { force: true });
    this.#syncDirectory();
  }

  list(): string[] {
    return readdirSync(this.#directory).filter(isBlockName).sort();
  }

  // A rename or unlink is durable only once the directory entry is on disk (fsync(2), "Notes").
  // Windows cannot open a directory for fsync, and NTFS journals its metadata anyway.
  #syncDirectory(): void {
    if (!this.#durable || process.platform === 'win32') return;
    const descriptor = openSync(this.#directory, 'r');
    try {
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
