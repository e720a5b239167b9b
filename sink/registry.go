package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ddblake/ddblake/schemas"
)

// DefaultCommitWait is how long Registry.Update keeps retrying lost races
// before it gives up with ErrContention. Every round of a race has a
// winner, so N writers that each need a write all commit within about N
// rounds of a read and a conditional write: 1,000 Lambdas adding distinct
// columns at once on S3 (about 30 ms a round) take some 30 seconds.
const DefaultCommitWait = 2 * time.Minute

// Registry persists table schemas in a Store, one JSON object per table at
// SchemaKey(table), and commits new columns with optimistic concurrency:
// read the stored schema and its version, merge, write only if the
// version is unchanged, and on a lost race read again and retry. So
// writers on many goroutines, processes or Lambdas never lose a column.
// It is safe for concurrent use when its Store is.
type Registry struct {
	store Store
	// MaxWait bounds the time Update spends retrying lost races (default
	// DefaultCommitWait); the context's deadline bounds it too.
	MaxWait time.Duration
	// MaxAttempts, when positive, also bounds the read-merge-write rounds.
	MaxAttempts int
}

// NewRegistry returns a Registry over store.
func NewRegistry(store Store) *Registry { return &Registry{store: store} }

// Load returns the stored schema of table, or an empty schema when the
// table has none yet. It fails with ErrBadName for a bad table name and
// with schemas.ErrBadSchema for a stored schema that is not valid.
func (r *Registry) Load(ctx context.Context, table string) (*schemas.Schema, error) {
	s, _, err := r.load(ctx, table)
	if err != nil {
		return nil, err
	}
	if s == nil {
		s = schemas.NewSchema(table)
	}
	return s, nil
}

// load reads the schema of table and its version; a missing schema is
// (nil, "", nil).
func (r *Registry) load(ctx context.Context, table string) (*schemas.Schema, string, error) {
	key, err := SchemaKey(table)
	if err != nil {
		return nil, "", err
	}
	data, version, err := r.store.GetVersion(ctx, key)
	if errors.Is(err, ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("registry: load %s: %w", table, err)
	}
	s := new(schemas.Schema)
	if err := json.Unmarshal(data, s); err != nil {
		if !errors.Is(err, schemas.ErrBadSchema) {
			err = fmt.Errorf("%w: %w", schemas.ErrBadSchema, err)
		}
		return nil, "", fmt.Errorf("registry: %s: %w", key, err)
	}
	if s.Table != table {
		return nil, "", fmt.Errorf("%w: %s holds table %q", schemas.ErrBadSchema, key, s.Table)
	}
	return s, version, nil
}

// Commit stores proposed, a schema holding the columns the caller needs
// (typically the loaded schema plus new columns), merged into whatever is
// stored: stored columns keep their names, types and order, and columns
// only proposed are appended (renamed if another writer took the name;
// see schemas.Schema.Merge). It returns the merged schema, which the
// caller must use from then on: its column indexes are the ones rows are
// built with. proposed is not modified. When the merge adds nothing,
// nothing is written. Commit fails with ErrContention when it keeps
// losing the race (see Update).
func (r *Registry) Commit(ctx context.Context, proposed *schemas.Schema) (*schemas.Schema, error) {
	return r.Update(ctx, proposed.Table, func(stored *schemas.Schema) (*schemas.Schema, error) {
		merged := proposed.Clone()
		if stored != nil {
			merged.Merge(stored)
		}
		return merged, nil
	})
}

// Update is the registry's compare-and-swap: it reads the stored schema
// of table (nil when there is none), calls change with a copy of it, and
// stores what change returns, only if no other writer stored the table
// meanwhile; on a lost race it reads again and calls change again. So
// change must decide from what it is given alone, and may be called
// several times. change returns nil, or a schema equal to the stored
// one, to write nothing; an error from change stops Update and is
// returned as it is. Update returns the schema stored in the end (nil
// when there is none and change wrote nothing). Lost races are retried
// after a random wait that grows with the attempts (up to about 2 s, so
// that many writers spread out); it fails with ErrContention once MaxWait
// has passed (or after MaxAttempts rounds, when set).
func (r *Registry) Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error) {
	key, err := SchemaKey(table)
	if err != nil {
		return nil, err
	}
	wait := r.MaxWait
	if wait <= 0 {
		wait = DefaultCommitWait
	}
	giveUp := time.Now().Add(wait)
	attempt := 0
	for ; r.MaxAttempts <= 0 || attempt < r.MaxAttempts; attempt++ {
		stored, version, err := r.load(ctx, table)
		if err != nil {
			return nil, err
		}
		var given *schemas.Schema
		if stored != nil {
			given = stored.Clone()
		}
		next, err := change(given)
		if err != nil {
			return nil, err
		}
		if next == nil || (stored != nil && next.Equal(stored)) {
			return stored, nil
		}
		if next.Table != table {
			return nil, fmt.Errorf("registry: update %s: %w: the change names table %q", table, schemas.ErrBadSchema, next.Table)
		}
		if err := next.Validate(); err != nil {
			return nil, fmt.Errorf("registry: update %s: %w", table, err)
		}
		data, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("registry: update %s: %w", table, err)
		}
		data = append(data, '\n')
		_, err = r.store.PutIf(ctx, key, data, version)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrPrecondition) {
			return nil, fmt.Errorf("registry: update %s: %w", table, err)
		}
		pause := backoff(attempt)
		if time.Now().Add(pause).After(giveUp) {
			attempt++
			break
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: table %s after %d attempts", ErrContention, table, attempt)
}

// Tables lists the tables that have a stored schema, sorted.
func (r *Registry) Tables(ctx context.Context) ([]string, error) {
	objs, err := r.store.List(ctx, SchemasPrefix)
	if err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	var tables []string
	for _, o := range objs {
		name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, SchemasPrefix), ".json")
		if ok && !strings.Contains(name, "/") && ValidateTable(name) == nil {
			tables = append(tables, name)
		}
	}
	return tables, nil
}

// LoadAll loads every stored schema into an in-memory registry.
func (r *Registry) LoadAll(ctx context.Context) (*schemas.Registry, error) {
	tables, err := r.Tables(ctx)
	if err != nil {
		return nil, err
	}
	reg := schemas.NewRegistry()
	for _, t := range tables {
		s, err := r.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		reg.Put(s)
	}
	return reg, nil
}

// backoff is the wait before retry attempt+1: exponential from 2ms to
// about 2s, with full jitter so racing writers spread out: with many
// writers, the later rounds' waits keep the store's load (and the wasted
// rounds) down while one writer after the other wins.
func backoff(attempt int) time.Duration {
	ceiling := 2 * time.Millisecond << min(attempt, 10)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
