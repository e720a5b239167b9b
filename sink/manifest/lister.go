package manifest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/ddblake/ddblake/sink"
)

// Lister adds the files a sink writes to their partitions' manifests. It
// is safe for concurrent use.
type Lister struct {
	store    sink.Store
	deferred bool

	mu      sync.Mutex
	pending map[tablePartition][]string
	// inputs holds, by partition, the replayed inputs (ReplayInputOf)
	// whose files in it are all among the files kept: files of theirs
	// listed by an earlier run and not written again go out at Flush.
	inputs map[tablePartition]map[string]bool
}

type tablePartition struct {
	table string
	part  sink.Partition
}

// NewLister returns a Lister that adds files at once, in Add.
func NewLister(store sink.Store) *Lister { return &Lister{store: store} }

// NewDeferredLister returns a Lister that keeps the files Add is given
// and adds them in Flush, one manifest write per partition: for a run
// that writes many batches into few partitions (replay), whose files
// become visible together when it ends.
func NewDeferredLister(store sink.Store) *Lister {
	return &Lister{store: store, deferred: true, pending: map[tablePartition][]string{}, inputs: map[tablePartition]map[string]bool{}}
}

// Supersede says that the files of input (sink.ReplayInputOf) in the
// table's partition p are all among the files given to Add: at Flush,
// the files of that input the manifest lists and that were not written
// again (an earlier run's, cut into other files) are taken out, in the
// same manifest write that adds the new ones. A Lister that is not
// deferred ignores it.
func (l *Lister) Supersede(table string, p sink.Partition, input string) {
	if !l.deferred {
		return
	}
	k := tablePartition{table, p}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inputs[k] == nil {
		l.inputs[k] = map[string]bool{}
	}
	l.inputs[k][input] = true
	if _, ok := l.pending[k]; !ok {
		l.pending[k] = nil
	}
}

// Add adds files (as a TableWriter returns them) to their partitions'
// manifests, or keeps them for Flush. Files of the quarantine or of no
// partition are refused (ErrBadManifest).
func (l *Lister) Add(ctx context.Context, files []sink.WrittenFile) error {
	groups := map[tablePartition][]string{}
	for _, f := range files {
		k := tablePartition{f.Table, f.Partition}
		groups[k] = append(groups[k], f.Key)
	}
	if l.deferred {
		l.mu.Lock()
		for k, keys := range groups {
			l.pending[k] = append(l.pending[k], keys...)
		}
		l.mu.Unlock()
		return nil
	}
	return l.add(ctx, groups, nil)
}

// Flush adds the files kept since the last Flush. Files of partitions
// whose manifest could not be written stay kept for the next Flush, and
// the error names them.
func (l *Lister) Flush(ctx context.Context) error {
	l.mu.Lock()
	groups, inputs := l.pending, l.inputs
	l.pending, l.inputs = map[tablePartition][]string{}, map[tablePartition]map[string]bool{}
	l.mu.Unlock()
	err := l.add(ctx, groups, inputs)
	if err != nil {
		l.mu.Lock()
		for k, keys := range groups {
			l.pending[k] = append(l.pending[k], keys...)
			if in := inputs[k]; in != nil {
				if l.inputs[k] == nil {
					l.inputs[k] = map[string]bool{}
				}
				for i := range in {
					l.inputs[k][i] = true
				}
			}
		}
		l.mu.Unlock()
	}
	return err
}

// Pending reports how many files wait for Flush.
func (l *Lister) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, keys := range l.pending {
		n += len(keys)
	}
	return n
}

// add updates each partition's manifest, in table and partition order,
// and keeps going after a failure: the error joins every failure.
func (l *Lister) add(ctx context.Context, groups map[tablePartition][]string, inputs map[tablePartition]map[string]bool) error {
	order := make([]tablePartition, 0, len(groups))
	for k := range groups {
		order = append(order, k)
	}
	slices.SortFunc(order, func(a, b tablePartition) int {
		return cmp.Or(cmp.Compare(a.table, b.table), ComparePartitions(a.part, b.part))
	})
	var errs []error
	for _, k := range order {
		var stale func(string) bool
		if in := inputs[k]; len(in) > 0 {
			stale = func(key string) bool {
				input, ok := sink.ReplayInputOf(key)
				return ok && in[input]
			}
		}
		if _, err := Replace(ctx, l.store, k.table, k.part, groups[k], stale); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		delete(groups, k)
	}
	return errors.Join(errs...)
}
