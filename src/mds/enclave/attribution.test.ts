// The attribution rule over random honest and dishonest economies: every token's attribution is
// integers summing to its value, it does not depend on the order tokens are asked in, and per backer
// the value of the unspent tokens equals what that backer issued (value is conserved per DCP).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Attributor,
  addAttribution,
  issuanceOutputs,
  transferOutputs,
  unbackedBacker,
  type AttributionGraph,
  type Producer,
  type TokenOrigin,
} from './attribution.ts';

test('a transfer gives its payment the first inputs, in input order, and the change the rest', () => {
  const outputs = transferOutputs(
    [
      [{ backer: 'a', amount: 300n }],
      [
        { backer: 'b', amount: 200n },
        { backer: 'a', amount: 100n },
      ],
    ],
    [400n, 200n],
  );
  assert.deepEqual(outputs, [
    [
      { backer: 'a', amount: 300n },
      { backer: 'b', amount: 100n },
    ],
    [
      { backer: 'b', amount: 100n },
      { backer: 'a', amount: 100n },
    ],
  ]);
  assert.deepEqual(issuanceOutputs(null, [5n]), [[{ backer: unbackedBacker, amount: 5n }]]);
});

interface Economy {
  readonly producers: Map<string, Producer>;
  readonly origins: Map<string, TokenOrigin>;
  readonly values: Map<string, bigint>;
  readonly unspent: Set<string>;
  readonly issued: Map<string, bigint>;
}

type Step =
  | { readonly op: 'issue'; readonly dcp: number; readonly values: readonly number[] }
  | { readonly op: 'pay'; readonly inputs: readonly number[]; readonly split: number };

const dcps = ['dcp-a', 'dcp-b', 'dcp-c', null] as const;
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('issue' as const),
    dcp: fc.integer({ min: 0, max: dcps.length - 1 }),
    values: fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    op: fc.constant('pay' as const),
    inputs: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    split: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
);

function build(steps: readonly Step[]): Economy {
  const economy: Economy = {
    producers: new Map(),
    origins: new Map(),
    values: new Map(),
    unspent: new Set(),
    issued: new Map(),
  };
  const produce = (entryId: string, producer: Producer) => {
    economy.producers.set(entryId, producer);
    producer.outputs.forEach((value, outputIndex) => {
      const tokenId = `${entryId}/${String(outputIndex)}`;
      economy.origins.set(tokenId, { entryId, outputIndex });
      economy.values.set(tokenId, value);
      economy.unspent.add(tokenId);
    });
  };
  steps.forEach((item, index) => {
    const entryId = `entry-${String(index)}`;
    if (item.op === 'issue') {
      const dcpId = dcps[item.dcp] ?? null;
      const outputs = item.values.map(BigInt);
      const backer = dcpId ?? unbackedBacker;
      economy.issued.set(backer, (economy.issued.get(backer) ?? 0n) + outputs.reduce((a, b) => a + b, 0n));
      produce(entryId, { kind: 'issuance', dcpId, outputs });
      return;
    }
    const live = [...economy.unspent];
    if (live.length === 0) return;
    const inputs = [...new Set(item.inputs.map((pick) => live[pick % live.length] as string))];
    for (const input of inputs) economy.unspent.delete(input);
    const total = inputs.reduce((sum, input) => sum + (economy.values.get(input) ?? 0n), 0n);
    const payment = BigInt(Math.floor(Number(total) * item.split));
    const outputs = payment > 0n && payment < total ? [payment, total - payment] : [total];
    produce(entryId, { kind: 'transfer', inputs, outputs });
  });
  return economy;
}

function graphOf(economy: Economy): AttributionGraph {
  return {
    origin: (tokenId) => economy.origins.get(tokenId),
    producer: (entryId) => economy.producers.get(entryId),
  };
}

test('attributions are integers summing to each value, in any order, conserved per backer', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), fc.nat(), (steps, seed) => {
      const economy = build(steps);
      const tokens = [...economy.values.keys()];
      const forward = new Attributor(graphOf(economy));
      const shuffled = [...tokens].sort((x, y) => ((hash(x) ^ seed) - (hash(y) ^ seed)) | 0);
      const backward = new Attributor(graphOf(economy));
      const answers = new Map(shuffled.reverse().map((tokenId) => [tokenId, backward.of(tokenId)]));
      const unspent = new Map<string, bigint>();
      for (const tokenId of tokens) {
        const attribution = forward.of(tokenId);
        assert.ok(attribution !== undefined);
        assert.deepEqual(answers.get(tokenId), attribution);
        assert.ok(attribution.every((segment) => segment.amount > 0n));
        const sum = attribution.reduce((total, segment) => total + segment.amount, 0n);
        assert.equal(sum, economy.values.get(tokenId));
        if (economy.unspent.has(tokenId)) addAttribution(unspent, attribution);
      }
      assert.deepEqual(unspent, economy.issued);
    }),
    { numRuns: 300 },
  );
});

test('a token whose ancestry the graph lacks has no attribution', () => {
  const producers = new Map<string, Producer>([
    ['t', { kind: 'transfer', inputs: ['missing/0'], outputs: [5n] }],
  ]);
  const attributor = new Attributor({
    origin: (tokenId) => (tokenId === 't/0' ? { entryId: 't', outputIndex: 0 } : undefined),
    producer: (entryId) => producers.get(entryId),
  });
  assert.equal(attributor.of('t/0'), undefined);
  assert.equal(attributor.of('nowhere'), undefined);
});

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) | 0;
  return value;
}
