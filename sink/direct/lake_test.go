package direct_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// refusingManifests is a store whose conditional writes (the manifests'
// and the registry's) fail.
type refusingManifests struct{ sink.Store }

func (s refusingManifests) PutIf(ctx context.Context, key string, body []byte, v string) (string, error) {
	if strings.Contains(key, manifest.Dir) {
		return "", errors.New("injected")
	}
	return s.Store.PutIf(ctx, key, body, v)
}

// messagesTable is a table with a body column and n rows of 2026-04-01.
func messagesTable(t *testing.T, n int) (*sink.Table, []flatten.Row) {
	t.Helper()
	s := schemas.NewSchema("chat_messages")
	_, err := s.Add(schemas.Column{Name: "body", Path: "body", Type: schemas.Type{Kind: schemas.KindString}})
	require.NoError(t, err)
	rows := make([]flatten.Row, n)
	for i := range rows {
		rows[i] = flatten.Row{
			Meta:   flatten.Meta{EventName: "INSERT", EventTime: 1775012400000 + int64(i), Sequence: fmt.Sprintf("%040d", i)},
			Values: []flatten.Datum{{Valid: true, Str: fmt.Sprintf("message %d", i)}},
		}
	}
	return &sink.Table{Name: "chat_messages", Schema: s}, rows
}

// TestDestinationListsFiles: the Lambda's destination lists each batch's files
// before Write returns; the replay's lists them at Flush; rows whose files
// could not be listed are reported undelivered.
func TestDestinationListsFiles(t *testing.T) {
	ctx := context.Background()
	tbl, rows := messagesTable(t, 5)
	day := sink.PartitionOf(rows[0].EventTime, false)

	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	d, err := direct.New(st).Write(ctx, "b1", tbl, rows)
	require.NoError(t, err)
	require.Equal(t, 1, d.Files)
	l, err := manifest.Read(ctx, st, "chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, []string{"chat_messages/dt=2026-04-01/b1-0000.parquet"}, l.Keys)

	deferred := direct.NewDeferred(st)
	_, err = deferred.Write(ctx, "b2", tbl, rows)
	require.NoError(t, err)
	l, err = manifest.Read(ctx, st, "chat_messages", day)
	require.NoError(t, err)
	require.Len(t, l.Keys, 1, "not listed before Flush")
	require.NoError(t, deferred.Flush(ctx))
	l, err = manifest.Read(ctx, st, "chat_messages", day)
	require.NoError(t, err)
	require.Len(t, l.Keys, 2)

	d, err = direct.New(refusingManifests{st}).Write(ctx, "b3", tbl, rows)
	require.Error(t, err)
	require.Equal(t, []int{0, 1, 2, 3, 4}, d.Failed, "a file no manifest lists delivers nothing")
}
