package pipeline

import (
	"context"
	"sync"

	"github.com/ddblake/ddblake/schemas"
)

// CatalogSchemas is a Schemas that keeps a catalog (the Glue Data
// Catalog) in step with the registry: after each commit, it hands the
// committed schema to Sync, before the batch's rows are written. A Sync
// that fails leaves the table pending: the next batch that reads the
// table's schema tries again, so a catalog left behind by throttling
// catches up without waiting for the next new column. Sync errors never
// fail a batch (the rows land whatever the catalog says); OnError, when
// set, hears of them. It is safe for concurrent use.
type CatalogSchemas struct {
	Schemas
	// Sync brings the catalog's definitions of s's table up to s.
	Sync func(ctx context.Context, s *schemas.Schema) error
	// OnError is told of each failed Sync; nil ignores them.
	OnError func(table string, err error)

	mu      sync.Mutex
	pending map[string]bool
}

// Commit commits proposal, then syncs the catalog to the result.
func (c *CatalogSchemas) Commit(ctx context.Context, proposal *schemas.Schema) (*schemas.Schema, error) {
	s, err := c.Schemas.Commit(ctx, proposal)
	if err != nil {
		return nil, err
	}
	c.sync(ctx, s)
	return s, nil
}

// Update runs the compare-and-swap, then syncs the catalog to the result.
func (c *CatalogSchemas) Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error) {
	s, err := c.Schemas.Update(ctx, table, change)
	if err != nil || s == nil {
		return s, err
	}
	c.sync(ctx, s)
	return s, nil
}

// Schema returns the table's schema, first syncing the catalog again when
// an earlier Sync of the table failed.
func (c *CatalogSchemas) Schema(ctx context.Context, table string) (*schemas.Schema, error) {
	s, err := c.Schemas.Schema(ctx, table)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	retry := c.pending[table]
	c.mu.Unlock()
	if retry && len(s.Columns) > 0 {
		c.sync(ctx, s)
	}
	return s, nil
}

func (c *CatalogSchemas) sync(ctx context.Context, s *schemas.Schema) {
	if c.Sync == nil {
		return
	}
	err := c.Sync(ctx, s)
	c.mu.Lock()
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	if err != nil {
		c.pending[s.Table] = true
	} else {
		delete(c.pending, s.Table)
	}
	c.mu.Unlock()
	if err != nil && c.OnError != nil {
		c.OnError(s.Table, err)
	}
}
