package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/gluetest"
)

const (
	db       = "chat"
	location = "s3://lake-bucket/lake"
)

// chatSchema is a registry entry with keys and the given data columns
// (name: type), each column's path its name.
func chatSchema(t *testing.T, cols ...string) *schemas.Schema {
	t.Helper()
	s := schemas.NewSchema("chat_messages")
	s.Keys = []string{"room_id", "sk"}
	s.FirstPartition = "2026-04-01"
	for i := 0; i < len(cols); i += 2 {
		typ, err := schemas.ParseType(cols[i+1])
		require.NoError(t, err)
		_, err = s.Add(schemas.Column{Name: cols[i], Path: cols[i], Type: typ, Source: "S"})
		require.NoError(t, err)
	}
	return s
}

var baseCols = []string{"room_id", "string", "sk", "string", "text", "string"}

func newCatalog(t *testing.T, g *gluetest.Server, now func() time.Time) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New(g.Client(), catalog.Config{Database: db, Location: location, Backoff: time.Millisecond, Now: now})
	require.NoError(t, err)
	return c
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func metadataNames() []string {
	var out []string
	for _, c := range schemas.MetadataColumns() {
		out = append(out, c.Name)
	}
	return out
}

func TestSyncCreatesTableAndView(t *testing.T) {
	g := gluetest.NewServer(t)
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	c := newCatalog(t, g, fixedClock(at))
	s := chatSchema(t, baseCols...)

	res, err := c.Sync(context.Background(), s, nil)
	require.NoError(t, err)
	require.Equal(t, []catalog.Action{catalog.Created, catalog.Created}, actions(res))

	tbl, ok := g.Table(db, "chat_messages")
	require.True(t, ok)
	require.Equal(t, append(metadataNames(), "room_id", "sk", "text"), tbl.Columns())
	require.Equal(t, schemas.SymlinkInputFormat, tbl.StorageDescriptor.InputFormat)
	require.Equal(t, "2026-04-01,NOW", tbl.Parameters["projection.dt.range"])
	for _, col := range tbl.StorageDescriptor.Columns {
		require.Equal(t, "2026-04-01T12:00:00Z", col.Parameters[catalog.CatalogedAtParam], col.Name)
	}

	view, ok := g.Table(db, "chat_messages_latest")
	require.True(t, ok)
	require.Equal(t, "VIRTUAL_VIEW", view.TableType)
	sql, err := catalog.ViewSQL(view.ViewOriginalText)
	require.NoError(t, err)
	wantSQL, err := schemas.LatestSelect(s, schemas.QualifiedName(db, "chat_messages"))
	require.NoError(t, err)
	require.Equal(t, wantSQL, sql)
	require.Equal(t, append(append(metadataNames(), "room_id", "sk", "text"), "dt"), view.Columns())
}

func TestSyncUnchangedWritesNothing(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	s := chatSchema(t, baseCols...)
	_, err := c.Sync(context.Background(), s, nil)
	require.NoError(t, err)
	before := len(g.Calls())

	res, err := c.Sync(context.Background(), s, nil)
	require.NoError(t, err)
	require.False(t, res.Changed())
	for _, call := range g.Calls()[before:] {
		require.Equal(t, "GetTable", call.Op, "an unchanged registry only reads")
	}
}

func TestSyncAppendsColumnsNeverChangesTypes(t *testing.T) {
	g := gluetest.NewServer(t)
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	c := newCatalog(t, g, func() time.Time { return now })
	_, err := c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.NoError(t, err)

	// Someone altered text to bigint by hand: Sync keeps it as stored.
	tbl, _ := g.Table(db, "chat_messages")
	for i, col := range tbl.StorageDescriptor.Columns {
		if col.Name == "text" {
			tbl.StorageDescriptor.Columns[i].Type = "bigint"
		}
	}
	tbl.VersionID, tbl.CreateTime, tbl.UpdateTime = "", 0, 0
	g.Put(db, tbl)
	stored, _ := g.Table(db, "chat_messages")

	now = t0.Add(time.Hour)
	s := chatSchema(t, append(baseCols, "price", "decimal(12,2)", "tags", "array<string>")...)
	res, err := c.Sync(context.Background(), s, nil)
	require.NoError(t, err)
	require.Equal(t, catalog.Updated, res.Changes[0].Action)
	require.Equal(t, []string{"price", "tags"}, res.Changes[0].Added)
	require.Equal(t, []string{"text: bigint (string)"}, res.Changes[0].Kept)
	require.Equal(t, catalog.Updated, res.Changes[1].Action, "the view lists the new columns")

	tbl, _ = g.Table(db, "chat_messages")
	require.Equal(t, append(stored.Columns(), "price", "tags"), tbl.Columns(), "appended at the end")
	cols := tbl.StorageDescriptor.Columns
	require.Equal(t, "decimal(12,2)", cols[len(cols)-2].Type)
	require.Equal(t, "2026-04-01T13:00:00Z", cols[len(cols)-1].Parameters[catalog.CatalogedAtParam])
	require.Equal(t, "2026-04-01T12:00:00Z", cols[0].Parameters[catalog.CatalogedAtParam], "old columns keep their time")
	for _, col := range cols {
		if col.Name == "text" {
			require.Equal(t, "bigint", col.Type, "a stored type is never changed")
		}
	}
	for _, call := range g.Calls() {
		if call.Op == "UpdateTable" {
			require.Empty(t, call.Error)
		}
	}
}

func TestSyncMergesAfterConcurrentChange(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	_, err := c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.NoError(t, err)

	// Between our GetTable and UpdateTable, another writer appends a
	// column: the VersionId we send is stale.
	g.Script("UpdateTable", gluetest.Step{Before: func() {
		tbl, _ := g.Table(db, "chat_messages")
		tbl.StorageDescriptor.Columns = append(tbl.StorageDescriptor.Columns, gluetest.Column{Name: "other_writer", Type: "string"})
		tbl.VersionID = ""
		g.Put(db, tbl)
	}})
	res, err := c.Sync(context.Background(), chatSchema(t, append(baseCols, "price", "bigint")...), nil)
	require.NoError(t, err)
	require.Equal(t, catalog.Updated, res.Changes[0].Action)

	var codes []string
	for _, call := range g.Calls() {
		if call.Op == "UpdateTable" && call.Table == "chat_messages" {
			codes = append(codes, call.Error)
		}
	}
	require.Equal(t, []string{gluetest.CodeConcurrentModification, ""}, codes, "the stale update is refused, the merge retried")
	tbl, _ := g.Table(db, "chat_messages")
	require.Equal(t, append(metadataNames(), "room_id", "sk", "text", "other_writer", "price"), tbl.Columns(),
		"neither writer's column is lost")
}

func TestSyncConcurrentCreate(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	other := newCatalog(t, g, time.Now)
	// Another writer creates the table between our GetTable and CreateTable.
	g.Script("CreateTable", gluetest.Step{Before: func() {
		_, err := other.Sync(context.Background(), chatSchema(t, baseCols...), nil)
		require.NoError(t, err)
	}})
	res, err := c.Sync(context.Background(), chatSchema(t, append(baseCols, "price", "bigint")...), nil)
	require.NoError(t, err)
	require.Equal(t, catalog.Updated, res.Changes[0].Action)
	tbl, _ := g.Table(db, "chat_messages")
	require.Equal(t, append(metadataNames(), "room_id", "sk", "text", "price"), tbl.Columns())
}

func TestSyncRetriesThrottling(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	throttle := gluetest.Step{ErrorType: gluetest.CodeThrottling}
	g.Script("GetTable", throttle, throttle)
	g.Script("CreateTable", throttle)
	res, err := c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.NoError(t, err)
	require.Equal(t, []catalog.Action{catalog.Created, catalog.Created}, actions(res))

	// Throttled for good: the error says so, after the bounded attempts.
	g2 := gluetest.NewServer(t)
	c2, err := catalog.New(g2.Client(), catalog.Config{Database: db, Location: location, Backoff: time.Millisecond, MaxAttempts: 3})
	require.NoError(t, err)
	g2.Script("GetTable", throttle, throttle, throttle, throttle)
	_, err = c2.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.ErrorIs(t, err, catalog.ErrRetriesExhausted)
	require.ErrorContains(t, err, gluetest.CodeThrottling)
	require.Equal(t, 3, g2.CountCalls("GetTable"))
}

func TestSyncRefusesForeignTable(t *testing.T) {
	g := gluetest.NewServer(t)
	// A table of the same name reading Parquet folders, as the SAM
	// template's sample table did.
	g.Put(db, gluetest.Table{Name: "chat_messages", TableType: "EXTERNAL_TABLE",
		StorageDescriptor: &gluetest.StorageDescriptor{
			InputFormat: schemas.ParquetInputFormat,
			Columns:     []gluetest.Column{{Name: "pk", Type: "string"}},
		}})
	c := newCatalog(t, g, time.Now)
	_, err := c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.ErrorIs(t, err, catalog.ErrForeignTable)
	require.ErrorContains(t, err, "chat.chat_messages")
	require.Zero(t, g.CountCalls("UpdateTable"))
}

func TestSyncStateTableAndView(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	s := chatSchema(t, baseCols...)
	_, err := c.Sync(context.Background(), s, nil)
	require.NoError(t, err)

	st := &schemas.LatestState{Generation: "g000001-0123456789abcdef", Through: "2026-04-02"}
	res, err := c.Sync(context.Background(), s, st)
	require.NoError(t, err)
	require.Equal(t, []catalog.Action{catalog.Unchanged, catalog.Created, catalog.Updated}, actions(res))
	view, _ := g.Table(db, "chat_messages_latest")
	sql, err := catalog.ViewSQL(view.ViewOriginalText)
	require.NoError(t, err)
	require.Contains(t, sql, `"chat"."chat_messages__state" WHERE "_generation" = 'g000001-0123456789abcdef'`)
	require.Contains(t, sql, `"dt" > '2026-04-02'`)
}

func TestSyncStopsWithContext(t *testing.T) {
	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	g.Script("GetTable", gluetest.Step{ErrorType: gluetest.CodeThrottling, Before: cancel})
	_, err := c.Sync(ctx, chatSchema(t, baseCols...), nil)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func actions(r catalog.Result) []catalog.Action {
	var out []catalog.Action
	for _, c := range r.Changes {
		out = append(out, c.Action)
	}
	return out
}

// TestSyncMissingDatabaseFailsAtOnce: Glue answers EntityNotFoundException
// to a GetTable and a CreateTable in a database that does not exist; no
// retry creates the database, so the sync fails at the first CreateTable,
// saying so, rather than spending its attempts and their backoff (every
// Lambda batch would pay them).
func TestSyncMissingDatabaseFailsAtOnce(t *testing.T) {
	g := gluetest.NewServer(t)
	c, err := catalog.New(g.Client(), catalog.Config{Database: db, Location: location, Backoff: time.Millisecond, MaxAttempts: 8})
	require.NoError(t, err)
	missing := gluetest.Step{ErrorType: gluetest.CodeEntityNotFound}
	g.Script("CreateTable", missing, missing, missing, missing, missing, missing, missing, missing)
	_, err = c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
	require.ErrorContains(t, err, gluetest.CodeEntityNotFound)
	require.ErrorContains(t, err, "does the database exist?")
	require.NotErrorIs(t, err, catalog.ErrRetriesExhausted)
	require.Equal(t, 1, g.CountCalls("CreateTable"))
}

// TestSyncViewTooLongForGlue checks a view whose SQL Athena would accept
// but whose Glue text (the base64 of the SQL and the column list) is
// longer than Glue stores: the sync defines the table, and fails with
// ErrViewTooLong naming the table before calling Glue with the view. A
// view just within the limit is written.
func TestSyncViewTooLongForGlue(t *testing.T) {
	wide := func(n, nameLen int) *schemas.Schema {
		s := chatSchema(t, baseCols...)
		for i := range n {
			name := fmt.Sprintf("c%0*d", nameLen-1, i)
			_, err := s.Add(schemas.Column{Name: name, Path: "attrs." + name, Type: schemas.MapOf(schemas.Bigint), Source: "M"})
			require.NoError(t, err)
		}
		return s
	}
	// 1,000 columns of 150-byte names: the view's SQL is within Athena's
	// limit, its Glue text is not.
	s := wide(1000, 150)
	ddl, err := schemas.LatestViewDDL(s, schemas.Options{Database: db, Location: location})
	require.NoError(t, err)
	require.Less(t, len(ddl), schemas.MaxStatementBytes)

	g := gluetest.NewServer(t)
	c := newCatalog(t, g, time.Now)
	res, err := c.Sync(context.Background(), s, nil)
	require.ErrorIs(t, err, catalog.ErrViewTooLong)
	var de *schemas.DefinitionError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "chat_messages", de.Table)
	require.ErrorContains(t, err, "chat_messages_latest")
	require.ErrorContains(t, err, "409600")
	require.Equal(t, []catalog.Action{catalog.Created}, actions(res), "the table is defined")
	_, ok := g.Table(db, "chat_messages_latest")
	require.False(t, ok)
	for _, call := range g.Calls() {
		require.NotEqual(t, "chat_messages_latest", call.Table, "Glue is not asked to store a view it refuses")
	}

	// 1,000 columns of 120-byte names fit.
	g = gluetest.NewServer(t)
	c = newCatalog(t, g, time.Now)
	_, err = c.Sync(context.Background(), wide(1000, 120), nil)
	require.NoError(t, err)
	view, ok := g.Table(db, "chat_messages_latest")
	require.True(t, ok)
	require.Greater(t, len(view.ViewOriginalText), 300000)
}
