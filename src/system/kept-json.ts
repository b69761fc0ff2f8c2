// The small JSON files `cbdc start` keeps in its data folder (system.json, economy.json): written
// atomically (a temporary file renamed over the old one) with mode 0600, since they hold API keys,
// and read back strictly, every malformed field named.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export function writeKeptJson(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The file's fields, or undefined when it does not exist; throws naming the file when malformed. */
export function readKeptJson(path: string, version: number): KeptFields | undefined {
  if (!existsSync(path)) return undefined;
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const fields = new KeptFields(json, path);
  if (fields.record['version'] !== version) fields.fail(`version must be ${version}`);
  return fields;
}

export class KeptFields {
  readonly record: Readonly<Record<string, unknown>>;

  constructor(
    json: unknown,
    private readonly path: string,
  ) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) this.fail('not a JSON object');
    this.record = json as Record<string, unknown>;
  }

  fail(what: string): never {
    throw new Error(`${this.path}: ${what}; remove the data folder to start afresh`);
  }

  text(value: unknown, name: string): string {
    return typeof value === 'string' && value.length > 0
      ? value
      : this.fail(`${name} must be a non-empty string`);
  }

  object(value: unknown, name: string): Readonly<Record<string, unknown>> {
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : this.fail(`${name} must be an object`);
  }
}
