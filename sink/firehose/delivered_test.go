package firehose_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/manifest"
)

// firehoseKey is a key as Firehose names what the stream
// ddblake-chat_messages delivers into the partition dt=2026-04-01.
const firehoseKey = "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e-2c4a-4f0e-9a57-1b9c3d5e7f90.parquet"

func TestDeliveredFile(t *testing.T) {
	day := sink.Partition{Day: "2026-04-01"}
	for _, tc := range []struct {
		name, template, key string
		table               string
		p                   sink.Partition
	}{
		{name: "Firehose's file", template: "ddblake-{table}", key: firehoseKey, table: "chat_messages", p: day},
		{name: "hourly partition", template: "ddblake-{table}",
			key:   "chat_messages/dt=2026-04-01/hr=07/ddblake-chat_messages-12-2026-04-01-07-59-59-0f1e2d3c.parquet",
			table: "chat_messages", p: sink.Partition{Day: "2026-04-01", Hour: "07"}},
		{name: "one stream for every table", template: "lake-stream",
			key: "orders/dt=2026-04-01/lake-stream-3-2026-04-01-00-00-00-abc.parquet", table: "orders", p: day},

		{name: "a 64-character random part", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-" + strings.Repeat("a-9Z", 16) + ".parquet", table: "chat_messages", p: day},

		{name: "a 65-character random part", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-" + strings.Repeat("a-9Z", 16) + "x.parquet"},
		{name: "no random part", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-.parquet"},
		{name: "a random part of other characters", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d_3f5e.parquet"},
		{name: "the function's own file", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/0123456789ab-shard-0000000001-0000000009-0000.parquet"},
		{name: "another table's stream", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_rooms-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "a stream whose name only starts the same", template: "ddblake-{table}",
			key: "chat/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "compacted file", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/compacted/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "manifest", template: "ddblake-{table}", key: "chat_messages/_symlink_format_manifest/dt=2026-04-01/manifest"},
		{name: "Firehose's error output", template: "ddblake-{table}",
			key: "_errors/firehose/format-conversion-failed/dt=2026-04-01/ddblake-_errors-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "no partition folder", template: "ddblake-{table}",
			key: "chat_messages/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "a bad day", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-4-1/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "not Parquet", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e"},
		{name: "a table name Athena cannot have", template: "ddblake-{table}",
			key: "Chat/dt=2026-04-01/ddblake-Chat-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
		{name: "climbing out", template: "ddblake-{table}",
			key: "chat_messages/dt=2026-04-01/../ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table, p, ok := firehose.DeliveredFile(tc.template, tc.key)
			require.Equal(t, tc.table != "", ok)
			require.Equal(t, tc.table, table)
			require.Equal(t, tc.p, p)
		})
	}
}

// TestListDelivered: Firehose's files are listed once, beside what the
// manifest held; other keys are left out; a file compaction replaced is
// not listed again.
func TestListDelivered(t *testing.T) {
	ctx := context.Background()
	store := laketest.NewMemStore()
	day := sink.Partition{Day: "2026-04-01"}
	own := "chat_messages/dt=2026-04-01/0123456789ab-shard-0000000001-0000000009-0000.parquet"
	_, err := manifest.Add(ctx, store, "chat_messages", day, []string{own})
	require.NoError(t, err)

	other := "chat_messages/dt=2026-04-02/0123456789ab-shard-0000000011-0000000019-0000.parquet"
	taken, err := firehose.ListDelivered(ctx, store, "ddblake-{table}", []string{firehoseKey, other})
	require.NoError(t, err)
	require.Equal(t, []string{firehoseKey}, taken)
	l, err := manifest.Read(ctx, store, "chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, []string{own, firehoseKey}, l.Keys)
	l2, err := manifest.Read(ctx, store, "chat_messages", sink.Partition{Day: "2026-04-02"})
	require.NoError(t, err)
	require.False(t, l2.Exists, "the function's own files are listed by the function")

	// The same event again (S3 and EventBridge deliver at least once).
	_, err = firehose.ListDelivered(ctx, store, "ddblake-{table}", []string{firehoseKey})
	require.NoError(t, err)
	again, err := manifest.Read(ctx, store, "chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, l.Keys, again.Keys)
	require.Equal(t, l.Version, again.Version, "nothing written")

	// Compaction claimed the file and replaced it: a late event for it
	// must not bring its rows back a second time.
	compacted := "chat_messages/dt=2026-04-01/compacted/c-0000.parquet"
	_, err = manifest.UpdateRecord(ctx, store, "chat_messages", day, func(rec *manifest.Record) (*manifest.Record, error) {
		rec.Claims = append(rec.Claims, manifest.Claim{Output: compacted, Sources: []string{own, firehoseKey}, Claimed: time.Now()})
		return rec, nil
	})
	require.NoError(t, err)
	require.NoError(t, manifest.Update(ctx, store, "chat_messages", day, func([]string) ([]string, bool, error) {
		return []string{compacted}, true, nil
	}))
	_, err = firehose.ListDelivered(ctx, store, "ddblake-{table}", []string{firehoseKey})
	require.NoError(t, err)
	l, err = manifest.Read(ctx, store, "chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, []string{compacted}, l.Keys)
}
