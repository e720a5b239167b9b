package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
)

// rowSink is a sink.Destination that keeps the rows a Processor delivers,
// rendered with the schema of each.
type rowSink struct {
	mu   sync.Mutex
	rows []string // as `ddblake flatten` renders them
}

// Write renders the rows as they are given: a Destination keeps no rows
// past Write (their memory is reused).
func (s *rowSink) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rows {
		s.rows = append(s.rows, string(flatten.AppendRowJSON(nil, t.Schema, &rows[i])))
	}
	return sink.Delivery{}, nil
}

// json is row i as `ddblake flatten` renders it.
func (s *rowSink) json(i int) string { return s.rows[i] }

// records makes one INSERT per item, of table chat-messages.
func records(t *testing.T, items ...string) []*decode.ChangeRecord {
	t.Helper()
	var out []*decode.ChangeRecord
	for i, it := range items {
		img, err := flatten.ParseItemBytes([]byte(it))
		require.NoError(t, err)
		out = append(out, &decode.ChangeRecord{Source: "test", Index: i, Table: "chat-messages", EventName: "INSERT",
			Sequence: fmt.Sprint(100 + i), EventTimeMicros: 1775001600000000 + int64(i), NewImage: flatten.ItemOf(img)})
	}
	return out
}

func newProcessor(t *testing.T, cfg *Config) (*Processor, *rowSink) {
	t.Helper()
	store, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	out := &rowSink{}
	return &Processor{Config: cfg, Schemas: NewRegistrySchemas(store), Destination: out, Quarantine: NewLakeErrors(store)}, out
}

// TestColumnCap checks that past max_columns new paths get no column,
// their values land in _extra, and each such path is reported once, by
// the first batch that meets it, not once per row or per batch.
func TestColumnCap(t *testing.T) {
	ctx := context.Background()
	cfg := &Config{Tables: map[string]TableConfig{"chat-messages": {TableConfig: flatten.TableConfig{MaxColumns: 3}}}}
	p, out := newProcessor(t, cfg)
	item := `{"a":{"S":"1"},"b":{"S":"2"},"c":{"S":"3"},"d":{"S":"4"},"e":{"M":{"f":{"N":"5"}}}}`

	res, err := p.Process(ctx, &Batch{ID: "b1", Records: records(t, item, item)})
	require.NoError(t, err)
	require.Equal(t, []OverCap{{Table: "chat_messages", Path: "d", Cap: 3}, {Table: "chat_messages", Path: "e.f", Cap: 3}}, res.OverCap)
	require.Equal(t, 4, res.Misfits, "two values of two rows")
	s, err := p.Schemas.Schema(ctx, "chat_messages")
	require.NoError(t, err)
	require.Len(t, s.Columns, 3)
	require.Contains(t, out.json(0), `"_extra":{"d":{"S":"4"},"e":{"M":{"f":{"N":"5"}}}}`)

	res, err = p.Process(ctx, &Batch{ID: "b2", Records: records(t, item, `{"g":{"BOOL":true}}`)})
	require.NoError(t, err)
	require.Equal(t, []OverCap{{Table: "chat_messages", Path: "g", Cap: 3}}, res.OverCap, "d and e.f were reported already")

	// Existing columns keep working past the cap.
	require.Contains(t, out.json(2), `"a":"1","b":"2","c":"3"`)

	// The default cap applies when max_columns is not set.
	require.Equal(t, flatten.DefaultMaxColumns, (&Config{}).Table("x").ColumnCap())
}

// TestProcessMapColumn checks that maps keyed by user ids become one map
// column through the Processor, whatever the batch boundaries: the
// Flattener learns the column after the first commit, and later batches
// give the same rows as a single batch does.
func TestProcessMapColumn(t *testing.T) {
	ctx := context.Background()
	var items []string
	for i := range 300 {
		items = append(items, fmt.Sprintf(`{"roomId":{"S":"r"},"sk":{"S":"MSG#%03d"},"readBy":{"M":{"u%07d":{"N":"%d"},"u%07d":{"N":"1"}}}}`, i, i, i, i+1))
	}
	one, oneOut := newProcessor(t, nil)
	_, err := one.Process(ctx, &Batch{ID: "all", Records: records(t, items...)})
	require.NoError(t, err)

	many, manyOut := newProcessor(t, nil)
	for i := 0; i < len(items); i += 7 {
		recs := records(t, items...)[i:min(i+7, len(items))]
		_, err := many.Process(ctx, &Batch{ID: fmt.Sprint("b", i), Records: recs})
		require.NoError(t, err)
	}
	s, err := many.Schemas.Schema(ctx, "chat_messages")
	require.NoError(t, err)
	require.Len(t, s.Columns, 3)
	require.Equal(t, "map<string,bigint>", s.Columns[2].Type.String())
	require.Len(t, manyOut.rows, len(items))
	for i := range items {
		require.Equal(t, oneOut.json(i), manyOut.json(i))
		require.True(t, strings.Contains(manyOut.json(i), fmt.Sprintf(`"read_by":{"u%07d":%d,`, i, i)), manyOut.json(i))
	}
}
