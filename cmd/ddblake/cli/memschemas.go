package cli

import (
	"context"
	"sync"

	"github.com/ddblake/ddblake/schemas"
)

// memSchemas is a pipeline.Schemas held in memory, for commands that
// flatten without writing a lake. Commits merge like the lake's registry:
// what was committed first keeps its names and types.
type memSchemas struct {
	mu     sync.Mutex
	tables map[string]*schemas.Schema
}

func newMemSchemas() *memSchemas {
	return &memSchemas{tables: map[string]*schemas.Schema{}}
}

// Schema returns the schema of table, empty when none was committed.
func (m *memSchemas) Schema(ctx context.Context, table string) (*schemas.Schema, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.tables[table]; ok {
		return s, nil
	}
	return schemas.NewSchema(table), nil
}

// Commit merges proposal into the schema committed so far and returns the
// result. Schemas handed out before are never modified.
func (m *memSchemas) Commit(ctx context.Context, proposal *schemas.Schema) (*schemas.Schema, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	merged := proposal.Clone()
	if stored, ok := m.tables[proposal.Table]; ok {
		merged.Merge(stored)
	}
	if err := merged.Validate(); err != nil {
		return nil, err
	}
	m.tables[proposal.Table] = merged
	return merged, nil
}

// Update applies change to the schema committed so far (nil when none)
// and keeps what it returns.
func (m *memSchemas) Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, ok := m.tables[table]
	var given *schemas.Schema
	if ok {
		given = stored.Clone()
	}
	next, err := change(given)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return stored, nil
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	m.tables[table] = next
	return next, nil
}
