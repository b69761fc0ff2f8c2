// The canonical CBOR codec (`src/core/cbor.ts`) on real protocol bytes: the bundles PAY returns.
//   cbor.decode.gen1 / .gen8     strict decodes per second of a bundle whose payment token is of
//                                generation 1 / 8; the decoder refuses any non-shortest form while it
//                                reads. reference = decode, re-encode and compare the bytes: how the
//                                canonical form is checked when the decoder itself does not check it.
//                                Both sides run this codec, so the ratio is what checking while
//                                reading saves, with no difference of library speed in it. Each side
//                                runs in alternating rounds and its median round counts.
//   cbor.encode.gen1 / .gen8     encodes per second of the same decoded value
//   bundle.decode.gen1 / .gen8   `decodeBundle` per second: CBOR plus every structure's field checks
// No CBOR library is a dependency of the project, so none is measured here.
import { decodeBundle } from '../src/core/bundle.ts';
import { bytesEqual } from '../src/core/bytes.ts';
import { decodeCbor, encodeCbor } from '../src/core/cbor.ts';
import { TestPki } from '../src/testing/test-pki.ts';
import { opsPerSecond, report } from './report.ts';
import type { Bytes } from '../src/core/bytes.ts';
import type { Device } from '../src/device/device.ts';

const tokenValue = 100n;

/** Pays `tokenValue` from `payer` to `payee` through the four APDU exchanges; returns PAY's bundle. */
function pay(payer: Device, payee: Device): Bytes {
  const request = payee.client().paymentRequest(tokenValue);
  const bundle = payer.client().pay(request, 0);
  payer.client().acknowledge(payee.client().receive(bundle));
  return bundle;
}

/** A bundle whose payment token is of `generation`: one token relayed through `generation` payments. */
function bundleOfGeneration(generation: number): Bytes {
  const pki = new TestPki();
  const phones = [pki.newDevice('phone', 'hop-0')];
  pki.load(phones[0]!, tokenValue);
  let bundle: Bytes | undefined;
  for (let hop = 1; hop <= generation; hop++) {
    const payee = pki.newDevice('phone', `hop-${hop}`);
    bundle = pay(phones[hop - 1]!, payee);
    phones.push(payee);
  }
  if (bundle === undefined) throw new Error('generation must be at least 1');
  return bundle;
}

/** Decoding as a lenient decoder must, to know the bytes were canonical: decode, re-encode, compare. */
function decodeAndCompare(bytes: Bytes): void {
  if (!bytesEqual(encodeCbor(decodeCbor(bytes)), bytes)) throw new Error('not canonical');
}

/** Rounds per side, alternating, each `roundSeconds` long; the median round of each side counts. */
const rounds = 7;
const roundSeconds = 0.2;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * The rates of `a` and `b` measured in alternating rounds, the median round of each: on a shared
 * machine other processes slow some rounds, and alternating spreads that over both sides alike.
 */
function medianRates(a: () => void, b: () => void): [number, number] {
  const ratesA: number[] = [];
  const ratesB: number[] = [];
  for (let round = 0; round < rounds; round++) {
    ratesA.push(opsPerSecond(a, roundSeconds));
    ratesB.push(opsPerSecond(b, roundSeconds));
  }
  return [median(ratesA), median(ratesB)];
}

function measure(generation: number): void {
  const bytes = bundleOfGeneration(generation);
  const value = decodeCbor(bytes);
  const megabytes = (rate: number): number => Math.round((rate * bytes.length) / 1e5) / 10;
  const [strict, reencoded] = medianRates(
    () => decodeCbor(bytes),
    () => {
      decodeAndCompare(bytes);
    },
  );
  report({
    name: `cbor.decode.gen${generation}`,
    value: strict,
    unit: 'decodes/s',
    reference: reencoded,
    referenceName: 'decode + re-encode + compare bytes, same codec',
    rounds,
    bundleBytes: bytes.length,
    megabytesPerSecond: megabytes(strict),
  });
  const encodes = opsPerSecond(() => encodeCbor(value));
  report({
    name: `cbor.encode.gen${generation}`,
    value: encodes,
    unit: 'encodes/s',
    bundleBytes: bytes.length,
    megabytesPerSecond: megabytes(encodes),
  });
  const structured = opsPerSecond(() => decodeBundle(bytes));
  report({ name: `bundle.decode.gen${generation}`, value: structured, unit: 'decodes/s' });
}

measure(1);
measure(8);
