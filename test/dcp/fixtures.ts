// Test support for the DCP: a ledger with participants, an in-memory directory (the DirectoryPort),
// devices emulated in memory, and a DCP server in this process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import type { Certificate, SecureElementKind } from '../../src/core/certificate.ts';
import { purposes } from '../../src/core/crypto.ts';
import { denyListToCbor, type SignedDenyList } from '../../src/core/deny-list.ts';
import { idKey, type PrincipalId } from '../../src/core/ids.ts';
import { signBody } from '../../src/core/signed.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import type { DirectoryPort, DirectoryRecord, SecureElementStatus } from '../../src/dcp/domain/ports.ts';
import { Device } from '../../src/device/device.ts';
import { LedgerClient } from '../../src/gateway/ledger-client.ts';
import { apiKeyDigest } from '../../src/ledger/http/auth.ts';
import { createDeploymentPki, principalSigner, type CreatedPki } from '../../src/pki/deployment-pki.ts';
import { nodePlatform } from '../../src/secure-element/node-platform.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';

export const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);

export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

let keys = 0;
export function freshKey(prefix = 'k'): string {
  return `${prefix}-${process.pid}-${++keys}-${randomBytes(3).toString('hex')}`;
}

export function newDevice(kind: SecureElementKind, name: string): Device {
  return new Device(kind, name, new MemoryMedium(), platform);
}

export function tempPki(dcpNames: readonly string[]): { dir: string; pki: CreatedPki; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cbdc-dcp-pki-'));
  const pki = createDeploymentPki(dir, dcpNames, Math.floor(Date.now() / 1000));
  return {
    dir,
    pki,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The directory's behaviour the DCP relies on, in memory, signing deny lists with the PKI's key. */
export class MemoryDirectory implements DirectoryPort {
  readonly records = new Map<string, { record: DirectoryRecord; walletId: string }>();
  readonly endpoints = new Map<string, string>();
  #version = 0;
  #list: SignedDenyList;

  constructor(private readonly pki: CreatedPki) {
    this.#list = this.#sign();
  }

  #sign(): SignedDenyList {
    const entries = [...this.records.values()]
      .filter((each) => each.record.status !== 'active')
      .map((each) => each.record.seId)
      .sort((a, b) => idKey(a).localeCompare(idKey(b)));
    return signBody(
      principalSigner(this.pki.directory),
      purposes.denyList,
      {
        directoryId: this.pki.directory.certificate.body.subjectId,
        version: this.#version,
        time: Math.floor(Date.now() / 1000),
        entries,
      },
      denyListToCbor,
    );
  }

  register(certificate: Certificate, walletId: string): Promise<void> {
    const key = idKey(certificate.body.subjectId);
    if (!this.records.has(key))
      this.records.set(key, {
        record: { seId: certificate.body.subjectId, dcpId: certificate.body.issuerId, status: 'active' },
        walletId,
      });
    return Promise.resolve();
  }

  lookup(seId: PrincipalId): Promise<DirectoryRecord | null> {
    return Promise.resolve(this.records.get(idKey(seId))?.record ?? null);
  }

  denyList(): Promise<SignedDenyList> {
    return Promise.resolve(this.#list);
  }

  dcpEndpoint(dcpId: PrincipalId): Promise<string | null> {
    return Promise.resolve(this.endpoints.get(idKey(dcpId)) ?? null);
  }

  publishEndpoint(dcpId: PrincipalId, url: string): Promise<void> {
    this.endpoints.set(idKey(dcpId), url);
    return Promise.resolve();
  }

  setStatus(seId: string, status: SecureElementStatus): void {
    const entry = this.records.get(seId)!;
    entry.record = { ...entry.record, status };
    this.#version++;
    this.#list = this.#sign();
  }
}

export interface LedgerWorld {
  readonly operator: LedgerClient;
  readonly bankKey: string;
  readonly bankAccount: string;
  readonly dcpKeys: readonly string[];
}

/** An intermediary with money and `dcpCount` DCP participants on the ledger at `baseUrl`. */
export async function ledgerWorld(
  baseUrl: string,
  operatorKey: string,
  dcpCount: number,
): Promise<LedgerWorld> {
  const client = (apiKey: string) => new LedgerClient({ baseUrl, apiKey, attemptsMax: 40, backoffMs: 25 });
  const operator = client(operatorKey);
  const bankKey = newApiKey();
  const bank = await operator.createParticipant(freshKey(), {
    name: 'Bank',
    role: 'intermediary',
    apiKeySha256: apiKeyDigest(bankKey),
  });
  const bankAccount = (
    await operator.createAccount(freshKey(), { kind: 'intermediary', ownerId: bank.value.id })
  ).value.id;
  await operator.issue(freshKey(), { accountId: bankAccount, amount: 100_000_000n });
  const dcpKeys: string[] = [];
  for (let index = 0; index < dcpCount; index++) {
    const key = newApiKey();
    await operator.createParticipant(freshKey(), {
      name: `DCP ${index}`,
      role: 'dcp',
      apiKeySha256: apiKeyDigest(key),
    });
    dcpKeys.push(key);
  }
  return { operator, bankKey, bankAccount, dcpKeys };
}

/** Funds a wallet's ledger account from the bank. */
export async function fundAccount(
  baseUrl: string,
  world: LedgerWorld,
  accountId: string,
  amount: bigint,
): Promise<void> {
  const bank = new LedgerClient({ baseUrl, apiKey: world.bankKey });
  await bank.pay(freshKey(), { payerAccountId: world.bankAccount, payeeAccountId: accountId, amount });
}

export async function adminCall<T>(
  baseUrl: string,
  apiKey: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': freshKey() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = (await response.json()) as T;
  if (response.status >= 400)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

export interface Supply {
  readonly issued: string;
  readonly retired: string;
  readonly outstanding: string;
  readonly poolBalance: string;
  readonly inFlight: string;
}

export function seIdOf(device: Device): string {
  return toHex(device.client().getData().seId);
}
