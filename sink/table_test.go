package sink_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
)

func newLake(t *testing.T) *localstore.Store {
	t.Helper()
	st, err := localstore.New(filepath.Join(t.TempDir(), "lake"))
	require.NoError(t, err)
	return st
}

// flakyStore fails the Nth Put (1-based) and every PutIf when told to.
type flakyStore struct {
	sink.Store
	mu        sync.Mutex
	puts      int
	failPut   int
	failPutIf bool
}

var errInjected = errors.New("injected failure")

func (s *flakyStore) Put(ctx context.Context, key string, body []byte) error {
	s.mu.Lock()
	s.puts++
	n := s.puts
	s.mu.Unlock()
	if n == s.failPut {
		return &sink.KeyError{Op: "put", Key: key, Err: errInjected}
	}
	return s.Store.Put(ctx, key, body)
}

func (s *flakyStore) PutIf(ctx context.Context, key string, body []byte, v string) (string, error) {
	if s.failPutIf {
		return "", &sink.KeyError{Op: "putif", Key: key, Err: sink.ErrPrecondition}
	}
	return s.Store.PutIf(ctx, key, body, v)
}

// spreadRows gives the bench rows event times over three days.
func spreadRows(n int) (*schemas.Schema, []flatten.Row) {
	s, rows := benchTable(n)
	for i := range rows {
		rows[i].EventTime = apr1 - 3_600_000 + int64(i%3)*86_400_000 + int64(i%5)*3_600_000
	}
	return s, rows
}

func TestTableWriterPartitions(t *testing.T) {
	t.Parallel()
	for _, hourly := range []bool{false, true} {
		t.Run(map[bool]string{false: "daily", true: "hourly"}[hourly], func(t *testing.T) {
			ctx := context.Background()
			st := newLake(t)
			s, rows := spreadRows(300)
			s.Hourly = hourly
			tw, err := sink.NewTableWriter(st, sink.ParquetOptions{})
			require.NoError(t, err)
			files, err := tw.Write(ctx, s, "batch-1", rows)
			require.NoError(t, err)

			want := map[sink.Partition]int{}
			for _, r := range rows {
				want[sink.PartitionOf(r.EventTime, hourly)]++
			}
			require.Len(t, files, len(want))
			total := 0
			for i, f := range files {
				if i > 0 {
					require.Less(t, files[i-1].Key, f.Key, "files in key order")
				}
				key, err := sink.DataKey("chat_messages", f.Partition, sink.FileName("batch-1", 0))
				require.NoError(t, err)
				require.Equal(t, key, f.Key)
				require.Equal(t, want[f.Partition], f.Rows)
				body, err := st.Get(ctx, f.Key)
				require.NoError(t, err)
				require.EqualValues(t, len(body), f.Bytes)
				back := readRows(t, body, s)
				require.Len(t, back, f.Rows)
				for _, r := range back {
					require.Equal(t, f.Partition, sink.PartitionOf(r.EventTime, hourly), "row in its partition's file")
				}
				total += f.Rows
			}
			require.Equal(t, len(rows), total)
			if hourly {
				require.Contains(t, files[0].Key, "/hr=")
			}
		})
	}
}

func TestTableWriterRerunReplaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	s, rows := spreadRows(900)
	opts := sink.ParquetOptions{FileBytes: 24 << 10, PageBytes: 4 << 10, Compression: sink.CompressionSnappy}
	tw, err := sink.NewTableWriter(st, opts)
	require.NoError(t, err)
	first, err := tw.Write(ctx, s, "batch-7", rows)
	require.NoError(t, err)
	require.Greater(t, len(first), 3, "several files per partition")
	before, err := st.List(ctx, "chat_messages/")
	require.NoError(t, err)
	bodies := map[string][]byte{}
	for _, o := range before {
		bodies[o.Key], err = st.Get(ctx, o.Key)
		require.NoError(t, err)
	}

	// A rerun after the registry gained columns, with a new writer.
	grown := s.Clone()
	_, err = grown.Add(schemas.Column{Name: "added_later", Path: "addedLater", Type: schemas.String, FirstSeen: time.Unix(2, 0)})
	require.NoError(t, err)
	tw2, err := sink.NewTableWriter(st, opts)
	require.NoError(t, err)
	second, err := tw2.Write(ctx, grown, "batch-7", rows)
	require.NoError(t, err)
	require.Equal(t, first, second)
	after, err := st.List(ctx, "chat_messages/")
	require.NoError(t, err)
	require.Equal(t, before, after, "same keys: replaced, not duplicated")
	for _, o := range after {
		body, err := st.Get(ctx, o.Key)
		require.NoError(t, err)
		require.True(t, bytes.Equal(bodies[o.Key], body), "%s has the same bytes", o.Key)
	}
}

func TestTableWriterPutFailureNamesUnwrittenRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &flakyStore{Store: newLake(t), failPut: 3}
	s, rows := spreadRows(600)
	tw, err := sink.NewTableWriter(st, sink.ParquetOptions{FileBytes: 24 << 10, PageBytes: 4 << 10, Compression: sink.CompressionSnappy})
	require.NoError(t, err)
	files, err := tw.Write(ctx, s, "b", rows)
	var we *sink.WriteError
	require.ErrorAs(t, err, &we)
	require.ErrorIs(t, err, errInjected)
	require.Len(t, files, 2, "the files put before the failure")

	// Written and unwritten rows partition the input exactly.
	written := map[int]bool{}
	for _, f := range files {
		body, err := st.Get(ctx, f.Key)
		require.NoError(t, err)
		for _, r := range readRows(t, body, s) {
			written[int(r.Values[27].Int)] = true // seq column holds the row index
		}
	}
	require.Equal(t, len(rows), len(written)+len(we.Unwritten))
	for _, i := range we.Unwritten {
		require.False(t, written[i], "row %d both written and unwritten", i)
	}
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, objs, 2, "nothing else is visible")
}

func TestTableWriterRefusesBeforeWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	tw, err := sink.NewTableWriter(st, sink.ParquetOptions{})
	require.NoError(t, err)
	s, rows := benchTable(10)
	_, err = tw.Write(ctx, s, "../escape", rows)
	require.ErrorIs(t, err, sink.ErrBadName)
	bad := s.Clone()
	bad.Table = "../../etc"
	_, err = tw.Write(ctx, bad, "b", rows)
	require.ErrorIs(t, err, sink.ErrBadName)
	rows[5].EventTime = 253402300800000 // year 10000
	_, err = tw.Write(ctx, s, "b", rows)
	require.ErrorIs(t, err, sink.ErrBadName)
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Empty(t, objs)
	_, err = sink.NewTableWriter(st, sink.ParquetOptions{FileBytes: -1})
	require.ErrorIs(t, err, sink.ErrBadConfig)
}

func TestTableWriterEmpty(t *testing.T) {
	t.Parallel()
	st := newLake(t)
	tw, err := sink.NewTableWriter(st, sink.ParquetOptions{})
	require.NoError(t, err)
	files, err := tw.Write(context.Background(), allTypes(), "b", nil)
	require.NoError(t, err)
	require.Empty(t, files)
}
