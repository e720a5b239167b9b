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
	return &Lister{store: store, deferred: true, pending: map[tablePartition][]string{}}
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
	return l.add(ctx, groups)
}

// Flush adds the files kept since the last Flush. Files of partitions
// whose manifest could not be written stay kept for the next Flush, and
// the error names them.
func (l *Lister) Flush(ctx context.Context) error {
	l.mu.Lock()
	groups := l.pending
	l.pending = map[tablePartition][]string{}
	l.mu.Unlock()
	err := l.add(ctx, groups)
	if err != nil {
		l.mu.Lock()
		for k, keys := range groups {
			l.pending[k] = append(l.pending[k], keys...)
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
func (l *Lister) add(ctx context.Context, groups map[tablePartition][]string) error {
	order := make([]tablePartition, 0, len(groups))
	for k := range groups {
		order = append(order, k)
	}
	slices.SortFunc(order, func(a, b tablePartition) int {
		return cmp.Or(cmp.Compare(a.table, b.table), ComparePartitions(a.part, b.part))
	})
	var errs []error
	for _, k := range order {
		if _, err := Add(ctx, l.store, k.table, k.part, groups[k]); err != nil {
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
