// The channel's messages and their strict codecs (docs/mds.md, "Enclave"). Messages cross a
// `child_process` IPC channel with advanced serialization, so `bigint` and `Uint8Array` arrive as
// they are; what arrives is still decoded field by field, naming the field: the enclave trusts the
// API process no more than the API process trusts what a DCP posts, and the API process checks the
// enclave's answers before it relies on them.
import { coreError, coreErrors, isCbdcError, type CoreErrorCode } from '../../core/errors.ts';
import { checkAmount } from '../../core/amount.ts';
import { isMdsErrorCode, mdsError, type MdsErrorCode } from '../api/errors.ts';
import {
  alertsPageMax,
  refundsPageMax,
  denyListBytesMax,
  reportItemsMax,
  reportedCreditIdPattern,
  type EnclaveRefusal,
  type IndicatorsRequest,
  type RecordReportsRequest,
  type RenewalCheckRequest,
  type ReportedCredit,
  type ReportedMint,
  type ReportedRetirement,
  type StoreUploadRequest,
} from './protocol.ts';
import type { Bytes } from '../../core/bytes.ts';

export type EnclaveCall =
  | { readonly method: 'storeUpload'; readonly request: StoreUploadRequest }
  | { readonly method: 'uploadStatus'; readonly dcpId: string; readonly digest: string }
  | { readonly method: 'recordReports'; readonly request: RecordReportsRequest }
  | { readonly method: 'alertsAfter'; readonly after: number; readonly limit: number }
  | { readonly method: 'evidence'; readonly alertId: string }
  | { readonly method: 'status' }
  | { readonly method: 'refundsFor'; readonly dcpId: string; readonly after: number; readonly limit: number }
  | {
      readonly method: 'executeRefund';
      readonly dcpId: string;
      readonly decisionId: string;
      readonly executedAtMs: number;
    }
  | { readonly method: 'recoveries' }
  | { readonly method: 'recordDenyList'; readonly list: Bytes }
  | { readonly method: 'supply' }
  | { readonly method: 'indicators'; readonly request: IndicatorsRequest }
  | { readonly method: 'checkRenewal'; readonly request: RenewalCheckRequest };

export type EnclaveMethod = EnclaveCall['method'];

/** API process → enclave. */
export interface ChannelRequest {
  readonly kind: 'request';
  readonly id: number;
  readonly call: EnclaveCall;
}

/**
 * Enclave → API process: the value, a refusal with its catalogue code, or `failed` (a bug in the
 * enclave, answered as the service's internalError; its message names no record).
 */
export type ChannelAnswer =
  | { readonly kind: 'answer'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'answer'; readonly id: number; readonly ok: false; readonly refusal: EnclaveRefusal }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };

/** Sent once by the enclave when its database is migrated and its key loaded. */
export interface ChannelReady {
  readonly kind: 'ready';
}

/** Hex lengths of what crosses: principal ids (16 bytes) and digests (32 bytes). */
export const principalHexLength = 32;
export const digestHexLength = 64;
/** A refusal's message is cut to this many characters: it must never carry a record. */
export const refusalMessageLengthMax = 512;

function invalid(field: string, rule: string): Error {
  return coreError('fieldInvalid', `${field} ${rule}`);
}

export function record(value: unknown, field: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    throw invalid(field, 'must be an object');
  return value as Readonly<Record<string, unknown>>;
}

export function hexField(value: unknown, field: string, length: number): string {
  if (typeof value !== 'string' || value.length !== length || !/^[0-9a-f]*$/.test(value))
    throw invalid(field, `must be ${length} lowercase hex digits`);
  return value;
}

export function bytesField(value: unknown, field: string): Bytes {
  if (!(value instanceof Uint8Array)) throw invalid(field, 'must be bytes');
  return value;
}

function boundedBytes(value: unknown, field: string, bytesMax: number): Bytes {
  const bytes = bytesField(value, field);
  if (bytes.length > bytesMax) throw invalid(field, `must be at most ${bytesMax} bytes`);
  return bytes;
}

export function safeIntegerField(
  value: unknown,
  field: string,
  minimum = 0,
  maximum = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum)
    throw invalid(field, `must be an integer in [${minimum}, ${maximum}]`);
  return value;
}

function listField(value: unknown, field: string, lengthMax: number): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be a list');
  if (value.length > lengthMax)
    throw mdsError('reportItemsLimitExceeded', `${field} has ${value.length} items > ${lengthMax}`);
  return value as readonly unknown[];
}

function retirementField(value: unknown, field: string): ReportedRetirement {
  const r = record(value, field);
  if (typeof r['value'] !== 'bigint') throw invalid(`${field}.value`, 'must be a bigint');
  return {
    tokenId: hexField(r['tokenId'], `${field}.tokenId`, digestHexLength),
    value: checkAmount(r['value'], `${field}.value`),
    seId: hexField(r['seId'], `${field}.seId`, principalHexLength),
    uploadDigest: hexField(r['uploadDigest'], `${field}.uploadDigest`, digestHexLength),
    retiredAtMs: safeIntegerField(r['retiredAtMs'], `${field}.retiredAtMs`),
  };
}

/** A report's list that older callers leave out: absent reads as empty. */
function optionalList(value: unknown, field: string): readonly unknown[] {
  return value === undefined ? [] : listField(value, field, reportItemsMax);
}

function creditIdField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !reportedCreditIdPattern.test(value))
    throw invalid(field, `must match ${reportedCreditIdPattern.source}`);
  return value;
}

function creditField(value: unknown, field: string): ReportedCredit {
  const r = record(value, field);
  if (typeof r['value'] !== 'bigint') throw invalid(`${field}.value`, 'must be a bigint');
  const kind = r['kind'];
  if (kind !== 'credit' && kind !== 'refund') throw invalid(`${field}.kind`, 'must be credit or refund');
  return {
    creditId: creditIdField(r['creditId'], `${field}.creditId`),
    seId: hexField(r['seId'], `${field}.seId`, principalHexLength),
    kind,
    value: checkAmount(r['value'], `${field}.value`),
    queuedAtMs: safeIntegerField(r['queuedAtMs'], `${field}.queuedAtMs`),
  };
}

function mintField(value: unknown, field: string): ReportedMint {
  const r = record(value, field);
  return {
    creditId: creditIdField(r['creditId'], `${field}.creditId`),
    issuanceId: hexField(r['issuanceId'], `${field}.issuanceId`, digestHexLength),
  };
}

/** The claim and sealed upload of `storeUpload` and `checkRenewal`, with the posting DCP. */
function uploadPair(value: unknown, field: string): StoreUploadRequest {
  const r = record(value, field);
  return {
    dcpId: hexField(r['dcpId'], `${field}.dcpId`, principalHexLength),
    claim: bytesField(r['claim'], `${field}.claim`),
    sealed: bytesField(r['sealed'], `${field}.sealed`),
    receivedAtMs: safeIntegerField(r['receivedAtMs'], `${field}.receivedAtMs`),
  };
}

type CallFields = Readonly<Record<string, unknown>>;

/** One strict decoder per method, each naming the field that failed. */
const callDecoders: {
  readonly [M in EnclaveMethod]: (call: CallFields) => Extract<EnclaveCall, { method: M }>;
} = {
  storeUpload: (call) => ({ method: 'storeUpload', request: uploadPair(call['request'], 'storeUpload') }),
  checkRenewal: (call) => ({ method: 'checkRenewal', request: uploadPair(call['request'], 'checkRenewal') }),
  uploadStatus: (call) => ({
    method: 'uploadStatus',
    dcpId: hexField(call['dcpId'], 'uploadStatus.dcpId', principalHexLength),
    digest: hexField(call['digest'], 'uploadStatus.digest', digestHexLength),
  }),
  recordReports: (call) => {
    const r = record(call['request'], 'recordReports');
    return {
      method: 'recordReports',
      request: {
        dcpId: hexField(r['dcpId'], 'recordReports.dcpId', principalHexLength),
        issuances: listField(r['issuances'], 'recordReports.issuances', reportItemsMax).map((item, index) =>
          bytesField(item, `recordReports.issuances[${index}]`),
        ),
        retirements: listField(r['retirements'], 'recordReports.retirements', reportItemsMax).map(
          (item, index) => retirementField(item, `recordReports.retirements[${index}]`),
        ),
        credits: optionalList(r['credits'], 'recordReports.credits').map((item, index) =>
          creditField(item, `recordReports.credits[${index}]`),
        ),
        mints: optionalList(r['mints'], 'recordReports.mints').map((item, index) =>
          mintField(item, `recordReports.mints[${index}]`),
        ),
      },
    };
  },
  alertsAfter: (call) => ({
    method: 'alertsAfter',
    after: safeIntegerField(call['after'], 'alertsAfter.after'),
    limit: safeIntegerField(call['limit'], 'alertsAfter.limit', 1, alertsPageMax),
  }),
  evidence: (call) => ({
    method: 'evidence',
    alertId: hexField(call['alertId'], 'evidence.alertId', digestHexLength),
  }),
  status: () => ({ method: 'status' }),
  refundsFor: (call) => ({
    method: 'refundsFor',
    dcpId: hexField(call['dcpId'], 'refundsFor.dcpId', principalHexLength),
    after: safeIntegerField(call['after'], 'refundsFor.after'),
    limit: safeIntegerField(call['limit'], 'refundsFor.limit', 1, refundsPageMax),
  }),
  executeRefund: (call) => ({
    method: 'executeRefund',
    dcpId: hexField(call['dcpId'], 'executeRefund.dcpId', principalHexLength),
    decisionId: hexField(call['decisionId'], 'executeRefund.decisionId', digestHexLength),
    executedAtMs: safeIntegerField(call['executedAtMs'], 'executeRefund.executedAtMs'),
  }),
  recoveries: () => ({ method: 'recoveries' }),
  recordDenyList: (call) => ({
    method: 'recordDenyList',
    list: boundedBytes(call['list'], 'recordDenyList.list', denyListBytesMax),
  }),
  supply: () => ({ method: 'supply' }),
  indicators: (call) => {
    const r = record(call['request'], 'indicators');
    return {
      method: 'indicators',
      request: {
        fromMs: safeIntegerField(r['fromMs'], 'indicators.fromMs'),
        toMs: safeIntegerField(r['toMs'], 'indicators.toMs'),
        bucketMs: safeIntegerField(r['bucketMs'], 'indicators.bucketMs', 1),
        secureElementsMin: safeIntegerField(
          r['secureElementsMin'],
          'indicators.secureElementsMin',
          1,
          1_000_000,
        ),
      },
    };
  },
};

/** Decodes one call of a request; throws `fieldInvalid` (or `reportItemsLimitExceeded`) naming the field. */
export function decodeCall(value: unknown): EnclaveCall {
  const call = record(value, 'call');
  const method = call['method'];
  if (typeof method !== 'string' || !Object.hasOwn(callDecoders, method))
    throw invalid('call.method', 'is not a method of the enclave');
  return callDecoders[method as EnclaveMethod](call);
}

/** A typed refusal as it crosses, or undefined when `error` is not one (a bug). */
export function refusalOf(error: unknown): EnclaveRefusal | undefined {
  if (!isCbdcError(error)) return undefined;
  const code = error.code;
  if (!isMdsErrorCode(code) && !isCoreCode(code)) return undefined;
  const message = (error.detail ?? error.definition.meaning).slice(0, refusalMessageLengthMax);
  return { code, message };
}

function isCoreCode(code: string): code is CoreErrorCode {
  return Object.hasOwn(coreErrors, code);
}

/** True for a code an upload may be refused with: one of the MDS or core catalogues. */
export function isRefusalCode(code: string): code is MdsErrorCode | CoreErrorCode {
  return isMdsErrorCode(code) || isCoreCode(code);
}

/** The typed `CbdcError` a refusal stands for, with its code and message as detail. */
export function errorOfRefusal(refusal: EnclaveRefusal): Error {
  const code: MdsErrorCode | CoreErrorCode = refusal.code;
  return isMdsErrorCode(code) ? mdsError(code, refusal.message) : coreError(code, refusal.message);
}

/** Decodes the envelope of an answer (its value is decoded per method by the client). */
export function decodeAnswer(value: unknown): ChannelAnswer {
  const r = record(value, 'answer');
  const id = safeIntegerField(r['id'], 'answer.id');
  if (r['kind'] === 'failed') {
    if (typeof r['message'] !== 'string') throw invalid('answer.message', 'must be text');
    return { kind: 'failed', id, message: r['message'].slice(0, refusalMessageLengthMax) };
  }
  if (r['kind'] !== 'answer') throw invalid('answer.kind', "must be 'answer' or 'failed'");
  if (r['ok'] === true) return { kind: 'answer', id, ok: true, value: r['value'] };
  if (r['ok'] !== false) throw invalid('answer.ok', 'must be a boolean');
  const refusal = record(r['refusal'], 'answer.refusal');
  const code = refusal['code'];
  if (typeof code !== 'string' || !(isMdsErrorCode(code) || isCoreCode(code)))
    throw invalid('answer.refusal.code', 'must be an MDS or core code');
  if (typeof refusal['message'] !== 'string') throw invalid('answer.refusal.message', 'must be text');
  return {
    kind: 'answer',
    id,
    ok: false,
    refusal: { code, message: refusal['message'].slice(0, refusalMessageLengthMax) },
  };
}
