// Package latest materializes each table's current state: one row per
// item, the item's newest change (by _event_time, then _sequence_number,
// as the <table>_latest view ranks them), over the partitions up to a
// closed day, as Parquet in the lake. The <table>_latest view then ranks
// that state and the partitions after it, instead of the whole history.
//
// A state is a generation of files under _ddblake/latest/<table>/<gen>/:
// live/ holds the items whose newest change is not a REMOVE, removed/ the
// others (tombstones: a change that arrives late in a partition the state
// covers, older than the item's removal, must not bring the item back).
// The pointer _ddblake/latest/<table>.json names the current generation,
// the last day it covers, its files, and what it was built from: a hash
// of each partition's manifest. One write of the pointer switches a
// reader from one generation to the next; generations are never written
// once named, and the one before the current is kept, so a view that
// still names it keeps working until re-created.
//
// A state is built incrementally: the newest change of every item over
// the previous state's files plus the partitions that are new or whose
// manifest changed since (a late arrival, a compaction), since the newest
// of a set of changes is the newest of the newest of its parts. A
// partition that disappeared, or a state built through a later day, is
// rebuilt from scratch.
//
//	res, err := latest.Build(ctx, store, schema, latest.Options{})
//	if err != nil {
//		return err
//	}
//	view, err := schemas.LatestStateViewDDL(schema, opts,
//		schemas.LatestState{Generation: res.State.Generation, Through: res.State.Through})
package latest
