package pipeline

import (
	"context"
	"sync"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Schemas gives each table's schema and commits new columns to it. A
// commit merges with what other writers committed meanwhile; the result
// is the schema to type rows by. Implementations are safe for concurrent
// use.
type Schemas interface {
	// Commit merges proposal into the stored schema of proposal.Table
	// and returns the result.
	Commit(ctx context.Context, proposal *schemas.Schema) (*schemas.Schema, error)
	// Schema returns the schema of table as last seen, an empty one when
	// it has none; it may be out of date.
	Schema(ctx context.Context, table string) (*schemas.Schema, error)
	// Update is a compare-and-swap on the stored schema of table (see
	// sink.Registry.Update): change is given a copy of it (nil when
	// there is none) and returns what to store (nil: nothing); it may be
	// called several times. Update returns the schema stored in the end.
	Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error)
}

// RegistrySchemas is the Schemas of a lake: the schema registry stored in
// the lake, with an in-memory copy so that a batch reads the store only
// for tables it has not seen. It is safe for concurrent use.
type RegistrySchemas struct {
	reg   *sink.Registry
	mu    sync.Mutex
	cache map[string]*schemas.Schema
}

// NewRegistrySchemas returns the Schemas stored in store.
func NewRegistrySchemas(store sink.Store) *RegistrySchemas {
	return &RegistrySchemas{reg: sink.NewRegistry(store), cache: map[string]*schemas.Schema{}}
}

// Schema returns the schema of table as last seen (loaded once).
func (r *RegistrySchemas) Schema(ctx context.Context, table string) (*schemas.Schema, error) {
	r.mu.Lock()
	s, ok := r.cache[table]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := r.reg.Load(ctx, table)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[table]; ok { // another goroutine got there first
		return c, nil
	}
	r.cache[table] = s
	return s, nil
}

// Commit merges proposal into the stored schema and remembers the result.
// Schemas handed out before stay valid: they are never modified.
func (r *RegistrySchemas) Commit(ctx context.Context, proposal *schemas.Schema) (*schemas.Schema, error) {
	// The stored schema wins every merge, so concurrent commits, from this
	// process or others, agree on every column's name and type.
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.reg.Commit(ctx, proposal)
	if err != nil {
		return nil, err // names the registry already
	}
	r.cache[proposal.Table] = s
	return s, nil
}

// Update runs a compare-and-swap on the stored schema of table (see
// sink.Registry.Update) and remembers the result.
func (r *RegistrySchemas) Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.reg.Update(ctx, table, change)
	if err != nil {
		return nil, err // names the registry already
	}
	if s != nil {
		r.cache[table] = s
	}
	return s, nil
}
