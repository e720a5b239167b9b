package sink_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/s3test"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// racedStore counts the conditional writes of a store and the races they
// lost.
type racedStore struct {
	sink.Store
	writes, lost atomic.Int64
}

func (s *racedStore) PutIf(ctx context.Context, key string, body []byte, v string) (string, error) {
	s.writes.Add(1)
	out, err := s.Store.PutIf(ctx, key, body, v)
	if errors.Is(err, sink.ErrPrecondition) {
		s.lost.Add(1)
	}
	return out, err
}

// TestRegistryManyWritersConverge has many writers (as many Lambdas of a
// backfill, each with its own Registry over one lake) commit at once, from
// an empty registry, the columns of their first batch: columns every
// batch has, a column only its batch has, two paths that sanitize to one
// name, and one path whose type the batches see differently. Every commit
// succeeds; the stored schema holds every path once, names unique; and no
// two writers ever saw a path with two names or two types.
func TestRegistryManyWritersConverge(t *testing.T) {
	t.Parallel()
	writers := 100
	if testing.Short() {
		writers = 25
	}
	stores := map[string]func(t *testing.T) sink.Store{
		"local": func(t *testing.T) sink.Store { return newLake(t) },
		"s3":    func(t *testing.T) sink.Store { return s3test.New(t).Store(t, "lake", "p") },
	}
	const shared = 30
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := &racedStore{Store: open(t)}
			got := make([]*schemas.Schema, writers)
			errs := make([]error, writers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reg := sink.NewRegistry(st)
					s, err := reg.Load(ctx, "messages")
					if err != nil {
						errs[w] = err
						return
					}
					<-start
					add := func(c schemas.Column) {
						if _, err := s.Add(c); err != nil && errs[w] == nil {
							errs[w] = err
						}
					}
					for i := range shared {
						add(col(fmt.Sprintf("attr_%02d", i), fmt.Sprintf("attr%02d", i), schemas.String))
					}
					add(col(fmt.Sprintf("only_%03d", w), fmt.Sprintf("only%03d", w), schemas.String))
					if w%2 == 0 {
						add(col("user_id", "userId", schemas.String))
						add(col("score", "score", schemas.Bigint))
					} else {
						add(col("user_id", "user_id", schemas.String))
						add(col("score", "score", schemas.Decimal(38, 2)))
					}
					got[w], errs[w] = reg.Commit(ctx, s)
				}()
			}
			close(start)
			wg.Wait()
			for w, err := range errs {
				require.NoError(t, err, "writer %d", w)
			}

			final, err := sink.NewRegistry(st).Load(ctx, "messages")
			require.NoError(t, err)
			require.NoError(t, final.Validate())
			require.Len(t, final.Columns, shared+writers+3, "every path once")
			names := map[string]bool{}
			for _, c := range final.Columns {
				require.False(t, names[c.Name], "name %s given twice", c.Name)
				names[c.Name] = true
			}
			for w := range writers {
				_, ok := final.Lookup(fmt.Sprintf("only%03d", w))
				require.True(t, ok, "writer %d's own column", w)
			}
			userNames := []string{}
			for _, p := range []string{"userId", "user_id"} {
				i, ok := final.Lookup(p)
				require.True(t, ok, p)
				userNames = append(userNames, final.Columns[i].Name)
			}
			require.ElementsMatch(t, []string{"user_id", "user_id_2"}, userNames)

			for w, s := range got {
				require.GreaterOrEqual(t, len(s.Columns), shared+3, "writer %d has the columns it proposed", w)
				_, ok := s.Lookup(fmt.Sprintf("only%03d", w))
				require.True(t, ok, "writer %d has its own column", w)
				for _, c := range s.Columns {
					i, ok := final.Lookup(c.Path)
					require.True(t, ok, "writer %d's %s is stored", w, c.Path)
					require.Equal(t, final.Columns[i].Name, c.Name, "writer %d: %s", w, c.Path)
					require.Equal(t, final.Columns[i].Type, c.Type, "writer %d: %s", w, c.Path)
				}
			}
			t.Logf("%s: %d writers, %d conditional writes, %d lost races (%.1f per writer)",
				name, writers, st.writes.Load(), st.lost.Load(), float64(st.lost.Load())/float64(writers))
		})
	}
}
