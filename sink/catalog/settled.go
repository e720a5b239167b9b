package catalog

import (
	"context"
	"sync"
	"time"

	"github.com/ddblake/ddblake/schemas/gluedef"
)

// DefaultFirehoseDelay is how long after a column is added to the catalog
// the Firehose sink waits before it trusts Firehose to convert it.
// Firehose reads the Glue table's LATEST version and keeps a copy for a
// while, a time AWS does not document; half an hour is well past the
// refresh seen in practice (minutes), and the rows written meanwhile
// lose nothing (the Lambda writes them itself).
const DefaultFirehoseDelay = 30 * time.Minute

// SettledColumns tells, for the Firehose sink, which columns of a table
// Firehose surely converts: a column is settled once Delay has passed
// since it was added to the Glue table (its CatalogedAtParam, else the
// table's last update for columns defined by other means). It reads each
// table through the Catalog at most once per MaxAge. It is safe for
// concurrent use and implements firehose.Columns.
type SettledColumns struct {
	// Catalog reads the tables.
	Catalog *Catalog
	// Delay is how long Firehose may convert with an older copy of a
	// table (default DefaultFirehoseDelay).
	Delay time.Duration
	// MaxAge is how long a table read is used (default 1 minute).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]readTable
}

type readTable struct {
	table *gluedef.Table // nil: not in the catalog
	at    time.Time
}

// Settled returns the settled columns of table, none when the catalog
// has no such table. It fails when the table cannot be read.
func (s *SettledColumns) Settled(ctx context.Context, table string) (map[string]bool, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	delay, maxAge := s.Delay, s.MaxAge
	if delay == 0 {
		delay = DefaultFirehoseDelay
	}
	if maxAge == 0 {
		maxAge = time.Minute
	}
	t := now()
	s.mu.Lock()
	rt, ok := s.cache[table]
	s.mu.Unlock()
	if !ok || t.Sub(rt.at) >= maxAge {
		gt, err := s.Catalog.GetTable(ctx, table)
		if err != nil {
			return nil, err
		}
		rt = readTable{table: gt, at: t}
		s.mu.Lock()
		if s.cache == nil {
			s.cache = map[string]readTable{}
		}
		s.cache[table] = rt
		s.mu.Unlock()
	}
	return settledAt(rt.table, t, delay), nil
}

// settledAt lists the columns of gt added at least delay before now.
func settledAt(gt *gluedef.Table, now time.Time, delay time.Duration) map[string]bool {
	out := map[string]bool{}
	if gt == nil || gt.StorageDescriptor == nil {
		return out
	}
	var fallback time.Time
	if gt.UpdateTime != nil {
		fallback = gt.UpdateTime.Time
	}
	if fallback.IsZero() && gt.CreateTime != nil {
		fallback = gt.CreateTime.Time
	}
	for _, c := range gt.StorageDescriptor.Columns {
		added := fallback
		if v, ok := c.Parameters[CatalogedAtParam]; ok {
			if at, err := time.Parse(time.RFC3339, v); err == nil {
				added = at
			}
		}
		if !added.IsZero() && !now.Before(added.Add(delay)) {
			out[c.Name] = true
		}
	}
	return out
}
