// DCP throughput through HTTP: a real listening DCP in this process, with a real ledger behind its
// gateway and the real directory (both listening in this process too), every service on the engine
// measured (SQLite files in WAL with synchronous=NORMAL, the documented default, or scratch databases
// on the local PostgreSQL server, dropped afterwards). Devices are emulated phones driven through
// their SE's APDUs.
//
//   dcp.loads.<engine>      loads/s: POST /v1/loads (device request verified, nonce spent, ledger
//                           hold placed and captured through the gateway, issuance minted)
//   dcp.renewals.<engine>   renewals/s: POST /v1/renewals (claim verified, nonce spent, claimed tokens
//                           retired, renewal issuance minted, sealed upload stored, limits and deny list
//                           answered)
//   dcp.renewals.sqlite.sync  the same with `renewalCheck: sync`: each renewal first asks an MDS
//                           (API and enclave processes, SQLite) for its signed verdict
//
// The device side of each operation (a DCP nonce, then AUTHENTICATE, or BEGIN SYNC with its
// HPKE-sealed upload) is prepared before the timed part, because the SE's sealing alone costs about
// as much as the DCP's whole renewal; the answers are installed in the SEs (LOAD, COMPLETE SYNC)
// after it, so each round claims the tokens the previous one minted. Timed: `clientsCount`
// concurrent keep-alive clients on a worker thread (http-load.ts) posting the prepared requests,
// round after round until `figureSeconds` were measured. Reference: raw ECDSA P-256 verifications
// per second (node:crypto, cached KeyObject) in the same run; each load and renewal verifies one
// device signature. `CBDC_BENCH_ENGINES=sqlite` measures one engine. `CBDC_BENCH_PROFILE=DIR` writes a
// CPU profile of this process's main thread (the DCP, the ledger and the directory) over the timed
// posting of each figure to DIR (the load generator's thread is not in it).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../src/core/bytes.ts';
import { purposes } from '../src/core/crypto.ts';
import { encodeSigned } from '../src/core/signed.ts';
import { NodeSigner, NodeVerifier } from '../src/crypto/node-crypto.ts';
import { DcpClient } from '../src/dcp/api/client.ts';
import { decodeLoadAnswer, decodeNonce, decodeSettleAnswer } from '../src/dcp/api/decode.ts';
import { loadRequestDigest } from '../src/core/request-digests.ts';
import { startDcpServer, type DcpServer } from '../src/dcp/server.ts';
import { DeviceApp } from '../src/device/device-app.ts';
import { Device } from '../src/device/device.ts';
import { DirectoryClient } from '../src/directory/api/client.ts';
import { startDirectoryServer, type DirectoryServer } from '../src/directory/server.ts';
import { LedgerClient } from '../src/ledger/api/client.ts';
import { apiKeyDigest as ledgerApiKeyDigest } from '../src/ledger/http/auth.ts';
import { startLedgerServer, type LedgerServer } from '../src/ledger/server.ts';
import { newApiKey } from '../src/testing/ledger.ts';
import { MdsClient } from '../src/mds/api/client.ts';
import { startEnclave } from '../src/mds/channel/enclave-client.ts';
import { startMdsServer, type MdsServer } from '../src/mds/server.ts';
import { createDeploymentPki } from '../src/pki/deployment-pki.ts';
import { nodePlatform } from '../src/secure-element/node-platform.ts';
import { MemoryMedium } from '../src/secure-element/store/medium.ts';
import type { Engine } from '../src/storage/database.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../src/testing/scratch.ts';
import { HttpLoad, type LoadAnswer, type PreparedRequest } from './http-load.ts';
import { opsPerSecond, report } from './report.ts';
import { keepAliveTransport } from '../src/node-http/keep-alive-transport.ts';

/** Devices renewing (or loading) at the same time. */
const clientsCount = 32;
/** Emulated phones; each takes part at most once in every round. */
const devicesCount = 512;
/** Timed posting per figure: rounds run until this much time was measured. */
const figureSeconds = 3;
/** A round is not started with less measuring time than this left. */
const roundSecondsMin = 0.25;
const roundsMax = 20;
const warmUpSecondsMax = 1;
/** Wallets the phones are spread over (so that loads do not all hold money on one ledger account). */
const walletsCount = 32;
const loadAmount = 100n;
/** Concurrency of the untimed personalisation. */
const preparationConcurrency = 16;

const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);

const profileDir = process.env['CBDC_BENCH_PROFILE'];
const profiler = profileDir === undefined ? null : new Session();
profiler?.connect();
/** The figure whose timed posting is being profiled; `post` profiles into its file. */
let profiledFigure = '';
let profiledRound = 0;

/**
 * CPU time of this process's main thread (the DCP, the ledger, the directory), in ms, from Linux's
 * per-thread accounting (10 ms ticks), or null elsewhere. Unlike a rate, the CPU an operation costs
 * the event loop holds when other processes share the cores: the figure to compare across runs.
 */
function mainThreadCpuMs(): number | null {
  const path = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(path)) return null;
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = readFileSync(path, 'utf8').split(')').pop()?.trim().split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10 : null;
}

/** Main-thread CPU ms spent during the timed posting of the figure being measured. */
let timedCpuMs = 0;

/** Posts the timed requests, under the CPU profiler when `CBDC_BENCH_PROFILE` is set. */
async function post(load: HttpLoad, url: string, requests: readonly PreparedRequest[], secondsMax: number) {
  const before = mainThreadCpuMs();
  try {
    return await profiledPost(load, url, requests, secondsMax);
  } finally {
    const after = mainThreadCpuMs();
    if (before !== null && after !== null) timedCpuMs += after - before;
  }
}

async function profiledPost(
  load: HttpLoad,
  url: string,
  requests: readonly PreparedRequest[],
  secondsMax: number,
) {
  if (profiler === null || profileDir === undefined || profiledFigure === '')
    return load.run(url, requests, clientsCount, secondsMax);
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
  try {
    return await load.run(url, requests, clientsCount, secondsMax);
  } finally {
    const { profile } = await profiler.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    profiledRound++;
    writeFileSync(join(profileDir, `${profiledFigure}.${profiledRound}.cpuprofile`), JSON.stringify(profile));
  }
}

interface World {
  readonly dcp: DcpServer;
  readonly app: DeviceApp;
  readonly phones: readonly Device[];
  close(): Promise<void>;
}

/** Runs `body` over `items` with at most `concurrency` at a time. */
async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  body: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await body(items[index]!, index);
      }
    }),
  );
}

/** Ledger, directory and DCP on `engine`, `walletsCount` funded wallets and `devicesCount` phones. */
async function startWorld(engine: Engine, renewalCheck: 'async' | 'sync' = 'async'): Promise<World> {
  const scratches: ScratchDatabase[] = [];
  const servers: { close(): Promise<void> }[] = [];
  const pkiDir = mkdtempSync(join(tmpdir(), 'cbdc-bench-pki-'));
  const close = async () => {
    for (const server of servers.reverse()) await server.close();
    for (const scratch of scratches) await scratch.drop();
    rmSync(pkiDir, { recursive: true, force: true });
  };
  try {
    const scratch = async () => {
      const created = await createScratchDatabase(engine, 'file');
      scratches.push(created);
      return created.url;
    };
    const pki = createDeploymentPki(pkiDir, ['one'], Math.floor(Date.now() / 1000));
    const ledgerOperatorKey = newApiKey();
    const ledger: LedgerServer = await startLedgerServer({
      databaseUrl: await scratch(),
      host: '127.0.0.1',
      port: 0,
      operatorKey: ledgerOperatorKey,
      logLevel: 'silent',
    });
    servers.push(ledger);
    const ledgerClient = (apiKey: string) =>
      new LedgerClient({ baseUrl: ledger.url, apiKey, transport: keepAliveTransport });
    const bankKey = newApiKey();
    const dcpLedgerKey = newApiKey();
    const operator = ledgerClient(ledgerOperatorKey);
    const bank = await operator.createParticipant('bank', {
      name: 'Bank',
      role: 'intermediary',
      apiKeySha256: ledgerApiKeyDigest(bankKey),
    });
    await operator.createParticipant('dcp', {
      name: 'DCP one',
      role: 'dcp',
      apiKeySha256: ledgerApiKeyDigest(dcpLedgerKey),
    });
    const bankAccount = (
      await operator.createAccount('bank-account', { kind: 'intermediary', ownerId: bank.value.id })
    ).value.id;
    await operator.issue('issue', { accountId: bankAccount, amount: 10n ** 15n });

    const directoryOperatorKey = newApiKey();
    const directory: DirectoryServer = await startDirectoryServer({
      databaseUrl: await scratch(),
      host: '127.0.0.1',
      port: 0,
      pkiDir,
      operatorKey: directoryOperatorKey,
      logLevel: 'silent',
    });
    servers.push(directory);
    const dcpId = toHex(pki.dcps.get('one')!.certificate.body.subjectId);
    const directoryDcp = await new DirectoryClient({
      baseUrl: directory.url,
      apiKey: directoryOperatorKey,
    }).createParticipant('dcp-one', { name: 'DCP one', role: 'dcp', dcpId });

    const mds =
      renewalCheck === 'sync'
        ? await startMds(pkiDir, await scratch(), await scratch(), directory.url, directoryOperatorKey, dcpId)
        : null;
    if (mds !== null) servers.push(mds.server);
    const operatorKey = newApiKey();
    const dcp = await startDcpServer({
      databaseUrl: await scratch(),
      host: '127.0.0.1',
      port: 0,
      pkiDir,
      name: 'one',
      ledgerUrl: ledger.url,
      ledgerKey: dcpLedgerKey,
      directoryUrl: directory.url,
      directoryKey: directoryDcp.value.apiKey,
      operatorKey,
      logLevel: 'silent',
      ...(mds === null ? {} : { mdsUrl: mds.server.url, mdsKey: mds.dcpKey, renewalCheck }),
    });
    servers.push(dcp);

    const app = new DeviceApp({ baseUrl: dcp.url, verifier, transport: keepAliveTransport });
    const admin = new DcpClient({ baseUrl: dcp.url, apiKey: operatorKey });
    const bankClient = ledgerClient(bankKey);
    const walletIds: string[] = [];
    for (let index = 0; index < walletsCount; index++) {
      const wallet = await admin.createWallet(`wallet-${index}`, { name: `wallet ${index}` });
      await bankClient.pay(`fund-${index}`, {
        payerAccountId: bankAccount,
        payeeAccountId: wallet.accountId,
        amount: 10n ** 12n,
      });
      walletIds.push(wallet.id);
    }
    const phones = Array.from(
      { length: devicesCount },
      (_unused, index) => new Device('phone', `phone-${index}`, new MemoryMedium(), platform),
    );
    await inParallel(phones, preparationConcurrency, async (phone, index) => {
      await app.personalise(
        phone.client(),
        'phone',
        walletIds[index % walletsCount]!,
        operatorKey,
        `personalise-${index}`,
      );
    });
    return { dcp, app, phones, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A fresh DCP nonce for every phone (untimed; asked through the load generator too). */
async function nonces(world: World, load: HttpLoad): Promise<Uint8Array[]> {
  const requests = world.phones.map((phone) => ({
    path: '/v1/nonces',
    body: JSON.stringify({ seId: toHex(phone.client().getData().seId) }),
  }));
  const result = await load.run(world.dcp.url, requests, clientsCount, Number.POSITIVE_INFINITY);
  return result.answers.map((answer) => {
    if (answer?.status !== 201) throw new Error(`a nonce answered ${answer?.status}: ${answer?.body}`);
    return decodeNonce(JSON.parse(answer.body)).nonce;
  });
}

/** A timed round: how many operations were answered, in how long. */
interface Round {
  readonly count: number;
  readonly seconds: number;
}

/** The answers of the requests that were sent, each required to be 201, with the phone's index. */
function answered(answers: readonly (LoadAnswer | undefined)[], what: string): [number, string][] {
  const sent: [number, string][] = [];
  answers.forEach((answer, index) => {
    if (answer === undefined) return;
    if (answer.status !== 201) throw new Error(`${what} answered ${answer.status}: ${answer.body}`);
    sent.push([index, answer.body]);
  });
  return sent;
}

/**
 * One round of loads: AUTHENTICATE over each phone's [amount, balance] (untimed), post for at most
 * `secondsMax` (timed), LOAD what was issued.
 */
async function loadRound(world: World, load: HttpLoad, round: number, secondsMax: number): Promise<Round> {
  const made = await nonces(world, load);
  const requests: PreparedRequest[] = world.phones.map((phone, index) => {
    const se = phone.client();
    const data = se.getData();
    const request = se.authenticate(made[index]!, loadRequestDigest(verifier, loadAmount, data.balance));
    return {
      path: '/v1/loads',
      idempotencyKey: `load-${round}-${index}`,
      body: JSON.stringify({
        seId: toHex(data.seId),
        amount: loadAmount.toString(),
        balance: data.balance.toString(),
        deviceRequest: toHex(encodeSigned(request)),
      }),
    };
  });
  const result = await post(load, world.dcp.url, requests, secondsMax);
  const sent = answered(result.answers, 'a load');
  for (const [index, body] of sent) {
    world.phones[index]!.client().load(decodeLoadAnswer(JSON.parse(body)).issuance);
  }
  return { count: sent.length, seconds: result.seconds };
}

interface RenewalRound extends Round {
  /** Over the renewals answered. */
  readonly tokens: number;
  readonly sealedBytes: number;
}

/**
 * One round of renewals: BEGIN SYNC on each phone (untimed), post for at most `secondsMax` (timed),
 * COMPLETE SYNC with what was renewed (a phone whose claim was not sent begins again next round).
 */
async function renewalRound(
  world: World,
  load: HttpLoad,
  round: number,
  secondsMax: number,
): Promise<RenewalRound> {
  const made = await nonces(world, load);
  const sizes: { tokens: number; sealedBytes: number }[] = [];
  const requests: PreparedRequest[] = world.phones.map((phone, index) => {
    const { claim, sealedUpload } = phone.client().beginSync(made[index]!);
    sizes.push({ tokens: claim.body.tokens.length, sealedBytes: sealedUpload.length });
    return {
      path: '/v1/renewals',
      idempotencyKey: `renewal-${round}-${index}`,
      body: JSON.stringify({ claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) }),
    };
  });
  const result = await post(load, world.dcp.url, requests, secondsMax);
  const sent = answered(result.answers, 'a renewal');
  let tokens = 0;
  let sealedBytes = 0;
  for (const [index, body] of sent) {
    world.app.complete(world.phones[index]!.client(), decodeSettleAnswer(JSON.parse(body)));
    tokens += sizes[index]!.tokens;
    sealedBytes += sizes[index]!.sealedBytes;
  }
  return { count: sent.length, seconds: result.seconds, tokens, sealedBytes };
}

function verifyRate(): number {
  const signer = NodeSigner.generate();
  const message = new Uint8Array(300).fill(1);
  const signature = signer.sign(purposes.claim, message);
  return opsPerSecond(() => verifier.verify(signer.publicKey, purposes.claim, message, signature));
}

const referenceName = 'raw ECDSA P-256 verifications/s (node:crypto, cached KeyObject), same run';

/** Sums timed rounds. */
function total<T extends Round>(rounds: readonly T[], field: keyof T & string): number {
  return rounds.reduce((sum, each) => sum + (each[field] as number), 0);
}

/** Timed rounds until `figureSeconds` were measured, the last one cut to the time left. */
async function timedRounds<T extends Round>(
  figure: string,
  run: (round: number, secondsMax: number) => Promise<T>,
): Promise<T[]> {
  const rounds: T[] = [];
  profiledFigure = figure;
  profiledRound = 0;
  timedCpuMs = 0;
  try {
    for (let round = 1; round <= roundsMax; round++) {
      const left = figureSeconds - total(rounds, 'seconds');
      if (left < roundSecondsMin) break;
      rounds.push(await run(round, left));
    }
  } finally {
    profiledFigure = '';
  }
  return rounds;
}

/**
 * An MDS (API process here, its enclave a child process, both on SQLite files) for the `sync`
 * figure, with the DCP as its participant: each renewal then waits for the MDS's signed verdict.
 */
async function startMds(
  pkiDir: string,
  databaseUrl: string,
  enclaveDatabaseUrl: string,
  directoryUrl: string,
  directoryOperatorKey: string,
  dcpId: string,
): Promise<{ readonly server: MdsServer; readonly dcpKey: string }> {
  const atDirectory = await new DirectoryClient({
    baseUrl: directoryUrl,
    apiKey: directoryOperatorKey,
  }).createParticipant('mds', { name: 'MDS', role: 'mds' });
  const operatorKey = newApiKey();
  const server = await startMdsServer({
    databaseUrl,
    enclaveDatabaseUrl,
    host: '127.0.0.1',
    port: 0,
    pkiDir,
    startEnclave,
    directoryUrl,
    directoryKey: atDirectory.value.apiKey,
    operatorKey,
    logLevel: 'silent',
  });
  const dcpKey = newApiKey();
  await new MdsClient({ baseUrl: server.url, apiKey: operatorKey }).createParticipant('dcp-one', {
    name: 'DCP one',
    role: 'dcp',
    apiKeySha256: ledgerApiKeyDigest(dcpKey),
    dcpId,
  });
  return { server, dcpKey };
}

/** `dcp.renewals.sqlite.sync`: the renewal figure again, each renewal checked by the MDS first. */
async function measureSync(load: HttpLoad): Promise<void> {
  const world = await startWorld('sqlite', 'sync');
  try {
    await loadRound(world, load, 0, Number.POSITIVE_INFINITY);
    await renewalRound(world, load, 0, warmUpSecondsMax);
    const renewals = await timedRounds('dcp.renewals.sqlite.sync', (round, secondsMax) =>
      renewalRound(world, load, round, secondsMax),
    );
    const count = total(renewals, 'count');
    report({
      name: 'dcp.renewals.sqlite.sync',
      value: count / total(renewals, 'seconds'),
      unit: 'renewals/s',
      reference: verifyRate(),
      referenceName,
      clients: clientsCount,
      renewals: count,
      seconds: round(total(renewals, 'seconds')),
      mainThreadCpuMicrosPerRenewal: Math.round((1000 * timedCpuMs) / count),
      sealedUploadBytes: Math.round(total(renewals, 'sealedBytes') / count),
      prepared:
        'as dcp.renewals.sqlite; timed: POST /v1/renewals, each asking the MDS (store, ingest, judge, sign) before its commit',
    });
  } finally {
    await world.close();
  }
}

async function measure(engine: Engine, load: HttpLoad): Promise<void> {
  const world = await startWorld(engine);
  try {
    // The warm-up round of loads runs to the end: every phone then holds a token to renew.
    await loadRound(world, load, 0, Number.POSITIVE_INFINITY);
    const loads = await timedRounds(`dcp.loads.${engine}`, (round, secondsMax) =>
      loadRound(world, load, round, secondsMax),
    );
    report({
      name: `dcp.loads.${engine}`,
      value: total(loads, 'count') / total(loads, 'seconds'),
      unit: 'loads/s',
      reference: verifyRate(),
      referenceName,
      clients: clientsCount,
      loads: total(loads, 'count'),
      seconds: round(total(loads, 'seconds')),
      mainThreadCpuMicrosPerLoad: Math.round((1000 * timedCpuMs) / total(loads, 'count')),
      prepared: 'nonce and AUTHENTICATE made before timing; timed: POST /v1/loads only',
    });

    await renewalRound(world, load, 0, warmUpSecondsMax);
    const renewals = await timedRounds(`dcp.renewals.${engine}`, (round, secondsMax) =>
      renewalRound(world, load, round, secondsMax),
    );
    const count = total(renewals, 'count');
    report({
      name: `dcp.renewals.${engine}`,
      value: count / total(renewals, 'seconds'),
      unit: 'renewals/s',
      reference: verifyRate(),
      referenceName,
      clients: clientsCount,
      renewals: count,
      seconds: round(total(renewals, 'seconds')),
      mainThreadCpuMicrosPerRenewal: Math.round((1000 * timedCpuMs) / count),
      tokensPerClaim: round(total(renewals, 'tokens') / count),
      sealedUploadBytes: Math.round(total(renewals, 'sealedBytes') / count),
      prepared:
        'nonce, BEGIN SYNC claim and HPKE-sealed upload made through the SE APDUs before timing; timed: POST /v1/renewals only',
    });
  } finally {
    await world.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const asked = process.env['CBDC_BENCH_ENGINES']?.split(',') ?? engines;
const unknown = asked.filter((name) => !engines.some((engine) => engine === name));
if (unknown.length > 0) throw new RangeError(`CBDC_BENCH_ENGINES: unknown engine ${unknown.join(', ')}`);
const load = new HttpLoad();
try {
  for (const engine of engines.filter((each) => asked.includes(each))) await measure(engine, load);
  if (asked.includes('sqlite')) await measureSync(load);
} finally {
  await load.close();
  profiler?.disconnect();
}
