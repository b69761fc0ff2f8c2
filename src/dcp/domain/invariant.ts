// The DCP's pool invariant (docs/dcp.md, "Invariant"): the central bank money in its pool account on
// the ledger equals the value it has outstanding on secure elements and in queued credits, plus what
// settlement between DCP pools moved into it,
//
//   pool balance = issued − retired + settled,   issued = minted issuance value + queued credits.
//
// `settled` is the ledger's own figure of the pool (settlement payments in − out, docs/ledger.md):
// the MDS moves value a DCP's issuances back from its pool to the pool of the DCP that retired it
// (docs/mds.md, "Supply and settlement"), which the DCP's books cannot see.
// Every commit keeps it: a renewal retires and mints the same value, a load's capture and its
// issuance commit in order, an unload's or a transfer's value leaves the pool by the outbox's
// payment. Between an outbox step's ledger call and its commit the difference is the open
// operations' amounts (`inFlight`); at every quiescent committed state it is zero. Checked after
// every reconcile pass (outbox.ts), exported on /metrics (`dcp_pool_difference_minor_units`), and
// asserted by the tests and the demo after every step.

export interface PoolFigures {
  /** The pool account's balance on the ledger. */
  readonly poolBalance: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  /** Net value settlement payments moved into the pool (the ledger's figure). */
  readonly settled: bigint;
}

/** pool balance − (issued − retired + settled): zero when the invariant holds, positive when the pool holds more. */
export function poolDifference(figures: PoolFigures): bigint {
  return figures.poolBalance - (figures.issued - figures.retired + figures.settled);
}
