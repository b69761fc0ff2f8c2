// The DCP's acceptance of an MDS verdict (renewal-check.ts): only the MDS key of trust.json, over
// this DCP, this claim and this upload; every forgery or misbinding is `renewalCheckAnswerInvalid`.
// And which settlements must ask (the unload gate), at its bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateBodyToCbor, type Certificate } from '../../core/certificate.ts';
import { claimBodyToCbor, type Claim } from '../../core/claim.ts';
import { purposes } from '../../core/crypto.ts';
import { isCbdcError } from '../../core/errors.ts';
import { principalIdOf } from '../../core/ids.ts';
import {
  renewalVerdictBodyToCbor,
  type RenewalVerdict,
  type RenewalVerdictBody,
} from '../../core/renewal-verdict.ts';
import { signBody } from '../../core/signed.ts';
import { NodeSigner, NodeVerifier } from '../../crypto/node-crypto.ts';
import { acceptVerdict, mustAsk } from './renewal-check.ts';

const verifier = new NodeVerifier();
const root = NodeSigner.generate();
const mdsKey = NodeSigner.generate();
const mds: Certificate = signBody(
  root,
  purposes.certificate,
  {
    role: 'mds',
    subjectId: principalIdOf(verifier, mdsKey.publicKey),
    publicKey: mdsKey.publicKey,
    issuerId: principalIdOf(verifier, root.publicKey),
    validFrom: 0,
    validUntil: 2_000_000_000,
    profile: '',
  },
  certificateBodyToCbor,
);
const dcpId = new Uint8Array(16).fill(7);
const se = NodeSigner.generate();
const claim: Claim = signBody(
  se,
  purposes.claim,
  {
    seId: principalIdOf(verifier, se.publicKey),
    counter: 3,
    tokens: [{ tokenId: new Uint8Array(32).fill(1), value: 500n }],
    dcpNonce: new Uint8Array(16).fill(2),
    uploadDigest: new Uint8Array(32).fill(3),
    lastSyncTime: 0,
  },
  claimBodyToCbor,
);
const body: RenewalVerdictBody = {
  mdsId: mds.body.subjectId,
  dcpId,
  claimDigest: verifier.sha256(claim.bodyBytes),
  uploadDigest: claim.body.uploadDigest,
  backed: true,
  reason: 'backed',
  policy: 'honour',
  checkedAtMs: 1_000,
};
const signed = (changed: Partial<RenewalVerdictBody>, signer = mdsKey): RenewalVerdict =>
  signBody(signer, purposes.renewalVerdict, { ...body, ...changed }, renewalVerdictBodyToCbor);

void test('a verdict of the MDS key over this DCP, claim and upload is accepted as it says', () => {
  assert.deepEqual(acceptVerdict(verifier, mds, dcpId, claim, signed({})), {
    backed: true,
    reason: 'backed',
    policy: 'honour',
  });
  const no = signed({ backed: false, reason: 'renewalDoubleSpent', policy: 'refuse' });
  assert.deepEqual(acceptVerdict(verifier, mds, dcpId, claim, no), {
    backed: false,
    reason: 'renewalDoubleSpent',
    policy: 'refuse',
  });
});

void test('a forged, re-signed, re-purposed or misbound verdict is renewalCheckAnswerInvalid', () => {
  const genuine = signed({});
  const flipped = {
    ...genuine,
    signature: genuine.signature.map((byte, index) => (index === 9 ? byte ^ 1 : byte)),
  };
  const cases: readonly [string, RenewalVerdict][] = [
    ['a flipped signature bit', flipped],
    ['another key', signed({}, NodeSigner.generate())],
    ['the SE key of the claim', signed({}, se)],
    [
      'the MDS key under another purpose',
      { ...genuine, signature: mdsKey.sign(purposes.claim, genuine.bodyBytes) },
    ],
    ['another MDS id', signed({ mdsId: new Uint8Array(16).fill(9) })],
    ['another DCP', signed({ dcpId: new Uint8Array(16).fill(8) })],
    ['another claim', signed({ claimDigest: new Uint8Array(32).fill(4) })],
    ['another upload', signed({ uploadDigest: new Uint8Array(32).fill(5) })],
  ];
  for (const [what, verdict] of cases)
    assert.throws(
      () => acceptVerdict(verifier, mds, dcpId, claim, verdict),
      (error: unknown) => isCbdcError(error) && error.code === 'renewalCheckAnswerInvalid',
      what,
    );
});

void test('which settlements ask: all in sync mode; in async mode an unload or transfer past the vouched value', () => {
  assert.equal(mustAsk('sync', 'renewal', 0n, 0n), true);
  assert.equal(mustAsk('sync', 'unload', 1n, 100n), true);
  assert.equal(mustAsk('async', 'renewal', 0n, 0n), false);
  assert.equal(mustAsk('async', 'unload', 100n, 100n), false);
  assert.equal(mustAsk('async', 'unload', 101n, 100n), true);
  assert.equal(mustAsk('async', 'transfer', 1n, 0n), true);
});
