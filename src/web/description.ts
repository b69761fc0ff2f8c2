// What the dashboard server says about the system at /dashboard.json: the DCPs one can sign in to.
// Read once at load through the same bounded, timed JSON call as every service answer, and decoded
// strictly.
import { answerDecoders } from '../http-client/answer-decode.ts';
import { JsonCaller } from '../http-client/json-caller.ts';

export interface DashboardDcp {
  readonly name: string;
  readonly dcpId: string;
}

export interface DashboardDescription {
  readonly dcps: readonly DashboardDcp[];
}

/** DCPs the description may list (the launcher starts a handful). */
export const dcpsMax = 32;
/** The description's size at most: a few names and ids. */
export const descriptionCharactersMax = 16 * 1024;

const failure = (detail: string) => new Error(`dashboard.json: ${detail}`);
const { object, field, text } = answerDecoders(failure);

export function decodeDescription(json: unknown): DashboardDescription {
  const dcps = field(json, 'dcps');
  if (!Array.isArray(dcps) || dcps.length > dcpsMax)
    throw failure(`dcps must be a list of at most ${dcpsMax}`);
  return {
    dcps: dcps.map((item: unknown, index) => {
      const dcp = object(item, `dcps[${index}]`);
      return {
        name: text(dcp, 'name', `dcps[${index}].name`),
        dcpId: text(dcp, 'dcpId', `dcps[${index}].dcpId`),
      };
    }),
  };
}

export async function loadDescription(): Promise<DashboardDescription> {
  const caller = new JsonCaller(
    { baseUrl: window.location.origin, fetch: window.fetch.bind(window), attemptsMax: 3 },
    { unavailable: failure, answerInvalid: failure, refusal: (code) => failure(`refused: ${code}`) },
    descriptionCharactersMax,
  );
  return decodeDescription((await caller.call({ method: 'GET', path: '/dashboard.json' })).body);
}
