package sink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

func col(name, path string, t schemas.Type) schemas.Column {
	return schemas.Column{Name: name, Path: path, Type: t, Source: "S", FirstSeen: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
}

func TestRegistryLoadCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	reg := sink.NewRegistry(st)

	s, err := reg.Load(ctx, "orders")
	require.NoError(t, err)
	require.Empty(t, s.Columns, "no schema yet: an empty one")
	require.Equal(t, "orders", s.Table)

	_, err = s.Add(col("id", "id", schemas.String))
	require.NoError(t, err)
	s.Keys = []string{"id"}
	s.NotePartition("2026-04-02")
	stored, err := reg.Commit(ctx, s)
	require.NoError(t, err)
	require.True(t, stored.Equal(s))

	// Another writer, working from the same starting point, adds other
	// columns, one of them under a name already taken for another path.
	other, err := reg.Load(ctx, "orders")
	require.NoError(t, err)
	mine := other.Clone()
	_, err = other.Add(col("total", "total", schemas.Decimal(12, 2)))
	require.NoError(t, err)
	other.NotePartition("2026-04-01")
	_, err = reg.Commit(ctx, other)
	require.NoError(t, err)
	_, err = mine.Add(col("total", "sum.total", schemas.Bigint))
	require.NoError(t, err)
	_, err = mine.Add(col("id", "id", schemas.Bigint)) // same path, other type: refused by Add
	require.ErrorIs(t, err, schemas.ErrPathExists)
	merged, err := reg.Commit(ctx, mine)
	require.NoError(t, err)
	var names []string
	for _, c := range merged.Columns {
		names = append(names, c.Name+":"+c.Type.String())
	}
	require.Equal(t, []string{"id:string", "total:decimal(12,2)", "total_2:bigint"}, names)
	require.Equal(t, "2026-04-01", merged.FirstPartition)
	require.Equal(t, []string{"id"}, merged.Keys)

	back, err := reg.Load(ctx, "orders")
	require.NoError(t, err)
	require.True(t, back.Equal(merged))

	// A proposal that disagrees on a type loses to the stored type.
	conflict := schemas.NewSchema("orders")
	_, err = conflict.Add(col("total", "total", schemas.String))
	require.NoError(t, err)
	merged2, err := reg.Commit(ctx, conflict)
	require.NoError(t, err)
	c, ok := merged2.Column("total")
	require.True(t, ok)
	require.Equal(t, schemas.Decimal(12, 2), c.Type)
	require.True(t, merged2.Equal(merged))
}

func TestRegistryRefusesBadStoredSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	reg := sink.NewRegistry(st)
	require.NoError(t, st.Put(ctx, "_ddblake/schemas/a.json", []byte("{not json")))
	_, err := reg.Load(ctx, "a")
	require.ErrorIs(t, err, schemas.ErrBadSchema)
	require.NoError(t, st.Put(ctx, "_ddblake/schemas/b.json", []byte(`{"table":"other","columns":[]}`)))
	_, err = reg.Load(ctx, "b")
	require.ErrorIs(t, err, schemas.ErrBadSchema)
	require.NoError(t, st.Put(ctx, "_ddblake/schemas/c.json",
		[]byte(`{"table":"c","columns":[{"name":"x","path":"x","type":"string"},{"name":"x","path":"y","type":"string"}]}`)))
	_, err = reg.Load(ctx, "c")
	require.ErrorIs(t, err, schemas.ErrBadSchema)
	_, err = reg.Load(ctx, "../c")
	require.ErrorIs(t, err, sink.ErrBadName)
	_, err = reg.Commit(ctx, schemas.NewSchema("Bad-Name"))
	require.ErrorIs(t, err, sink.ErrBadName)
}

func TestRegistryGivesUpUnderEndlessContention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &flakyStore{Store: newLake(t), failPutIf: true}
	reg := sink.NewRegistry(st)
	reg.MaxAttempts = 3
	s := schemas.NewSchema("orders")
	_, err := s.Add(col("id", "id", schemas.String))
	require.NoError(t, err)
	_, err = reg.Commit(ctx, s)
	require.ErrorIs(t, err, sink.ErrContention)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	reg.MaxAttempts = 100
	_, err = reg.Commit(cancelled, s)
	require.ErrorIs(t, err, context.Canceled)
}

func TestRegistryTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	reg := sink.NewRegistry(st)
	for _, name := range []string{"b_table", "a_table"} {
		s := schemas.NewSchema(name)
		_, err := s.Add(col("id", "id", schemas.String))
		require.NoError(t, err)
		_, err = reg.Commit(ctx, s)
		require.NoError(t, err)
	}
	require.NoError(t, st.Put(ctx, "_ddblake/schemas/notes.txt", []byte("x")))
	require.NoError(t, st.Put(ctx, "_ddblake/schemas/old/a_table.json", []byte("{}")))
	tables, err := reg.Tables(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"a_table", "b_table"}, tables)
	all, err := reg.LoadAll(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"a_table", "b_table"}, all.Tables())
}
