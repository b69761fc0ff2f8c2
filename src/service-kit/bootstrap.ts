// The bootstrap operator every service registers at start from a key in a file or the environment
// (`cbdc serve … --bootstrap-key-file`): idempotent, so a restart with the same key finds the
// participant it made before. Pure over the service's store, so domains may import it.
import { serviceError } from './service-errors.ts';

/** What registering a bootstrap key needs of a service's store. */
export interface BootstrapStore<Participant> {
  findParticipantByKeyDigest(apiKeySha256: string): Promise<Participant | null>;
  transaction<T>(
    body: (tx: {
      insertParticipant(participant: Participant, apiKeySha256: string): Promise<boolean>;
    }) => Promise<T>,
  ): Promise<T>;
}

/**
 * The participant holding `apiKeySha256`, or `fresh()` inserted under it. Two processes starting
 * with the same key at once: the one that loses the insert is refused `apiKeyAlreadyRegistered`.
 */
export async function bootstrapOperator<Participant>(
  store: BootstrapStore<Participant>,
  apiKeySha256: string,
  fresh: () => Participant,
): Promise<Participant> {
  const existing = await store.findParticipantByKeyDigest(apiKeySha256);
  if (existing !== null) return existing;
  const participant = fresh();
  await store.transaction(async (tx) => {
    if (!(await tx.insertParticipant(participant, apiKeySha256)))
      throw serviceError('apiKeyAlreadyRegistered');
  });
  return participant;
}
