// Attribution (docs/mds.md, "Supply and settlement"): which DCPs' issuances back the value of a token.
// Offline value crosses DCPs freely, so a token held at one DCP may rest on issuances of several; the
// settlement between DCP pools needs, for every token a DCP retires, how much of its value each DCP
// backs. The rule is deterministic and integer-exact, a function of the graph alone (never of the
// order uploads arrived in):
//
//   1. an issuance's output is backed wholly by the issuing DCP (a renewal or refund at DCP B is B's
//      issuance: B retired the tokens it replaces, and settlement moves their backing to B's pool);
//      an issuance no DCP issuer signed backs nothing: its value is attributed to `unbacked`;
//   2. a transfer lines up its inputs' attributions in input order, each input's segments in their
//      own order, and its outputs take consecutive slices of that line in output order: the
//      payment (output 0) first, then the change. Conservation (upload rule 7) makes the line and
//      the outputs the same length, so every unit lands in exactly one output.
//
// An attribution is a list of segments (backer, amount) with adjacent equal backers merged: the
// amounts are positive and sum to the token's value.
import { assert } from '../../core/assert.ts';

/** The backer of value that no DCP issuance backs (an issuance signed by no DCP issuer). */
export const unbackedBacker = 'unbacked';

export interface Segment {
  /** A DCP id (hex), or `unbackedBacker`. */
  readonly backer: string;
  readonly amount: bigint;
}

export type Attribution = readonly Segment[];

/** What produced a token, as the attribution needs it. */
export type Producer =
  | {
      readonly kind: 'issuance';
      /** The issuing DCP, or null when no DCP issuer signed it. */
      readonly dcpId: string | null;
      readonly outputs: readonly bigint[];
    }
  | {
      readonly kind: 'transfer';
      /** Token ids, in the transfer's input order. */
      readonly inputs: readonly string[];
      readonly outputs: readonly bigint[];
    };

/** The attribution of each output of an issuance (rule 1). */
export function issuanceOutputs(dcpId: string | null, outputs: readonly bigint[]): Attribution[] {
  const backer = dcpId ?? unbackedBacker;
  return outputs.map((amount) => {
    assert(amount > 0n, 'an output is positive');
    return [{ backer, amount }];
  });
}

/** The attribution of each output of a transfer whose inputs carry `inputs`, in input order (rule 2). */
export function transferOutputs(inputs: readonly Attribution[], outputs: readonly bigint[]): Attribution[] {
  const line = inputs.flat();
  const total = line.reduce((sum, segment) => sum + segment.amount, 0n);
  assert(total === outputs.reduce((sum, amount) => sum + amount, 0n), 'a transfer conserves value');
  const answers: Attribution[] = [];
  let at = 0;
  let left = line[0]?.amount ?? 0n;
  for (const amount of outputs) {
    assert(amount > 0n, 'an output is positive');
    const output: Segment[] = [];
    let wanted = amount;
    while (wanted > 0n) {
      const segment = line[at];
      assert(segment !== undefined, 'the line covers every output');
      const taken = left < wanted ? left : wanted;
      append(output, segment.backer, taken);
      wanted -= taken;
      left -= taken;
      if (left === 0n) {
        at += 1;
        left = line[at]?.amount ?? 0n;
      }
    }
    answers.push(output);
  }
  return answers;
}

function append(segments: Segment[], backer: string, amount: bigint): void {
  const last = segments[segments.length - 1];
  if (last !== undefined && last.backer === backer)
    segments[segments.length - 1] = { backer, amount: last.amount + amount };
  else segments.push({ backer, amount });
}

/** Where a token comes from: its producing entry's id and its output index there. */
export interface TokenOrigin {
  readonly entryId: string;
  readonly outputIndex: number;
}

/** The part of the graph an `Attributor` reads: synchronous, so callers load it first. */
export interface AttributionGraph {
  origin(tokenId: string): TokenOrigin | undefined;
  producer(entryId: string): Producer | undefined;
}

/**
 * Attributes tokens over a loaded graph, remembering every entry's outputs. The graph is a DAG
 * (entry ids are digests of bodies naming their inputs), walked with an explicit stack so a long
 * chain of hops does not exhaust the call stack.
 */
export class Attributor {
  private readonly outputs = new Map<string, Attribution[]>();

  constructor(private readonly graph: AttributionGraph) {}

  /** The token's attribution, or undefined when the graph lacks part of its ancestry. */
  of(tokenId: string): Attribution | undefined {
    const origin = this.graph.origin(tokenId);
    if (origin === undefined || !this.resolve(origin.entryId)) return undefined;
    return this.outputs.get(origin.entryId)?.[origin.outputIndex];
  }

  private resolve(rootId: string): boolean {
    const stack = [rootId];
    while (stack.length > 0) {
      const entryId = stack[stack.length - 1] as string;
      if (this.outputs.has(entryId)) {
        stack.pop();
        continue;
      }
      const producer = this.graph.producer(entryId);
      if (producer === undefined) return false;
      if (producer.kind === 'issuance') {
        this.outputs.set(entryId, issuanceOutputs(producer.dcpId, producer.outputs));
        stack.pop();
        continue;
      }
      const origins = producer.inputs.map((tokenId) => this.graph.origin(tokenId));
      if (origins.some((origin) => origin === undefined)) return false;
      const pending = (origins as TokenOrigin[]).filter((origin) => !this.outputs.has(origin.entryId));
      if (pending.length > 0) {
        for (const origin of pending) stack.push(origin.entryId);
        continue;
      }
      const inputs = (origins as TokenOrigin[]).map((origin) => {
        const attribution = this.outputs.get(origin.entryId)?.[origin.outputIndex];
        assert(attribution !== undefined, 'an input names an output its producer has');
        return attribution;
      });
      this.outputs.set(entryId, transferOutputs(inputs, producer.outputs));
      stack.pop();
    }
    return true;
  }
}

/** Adds `attribution`'s amounts, by backer, into `totals`. */
export function addAttribution(totals: Map<string, bigint>, attribution: Attribution): void {
  for (const segment of attribution)
    totals.set(segment.backer, (totals.get(segment.backer) ?? 0n) + segment.amount);
}
