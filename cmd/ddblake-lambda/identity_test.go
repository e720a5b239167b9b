package main

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
)

// eventsByStream splits the records of a stream event into one event per
// eventSourceARN (as Lambda delivers them: one stream per invocation), in
// the order the streams first appear.
func eventsByStream(t *testing.T, payload []byte) [][]byte {
	t.Helper()
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(payload, &doc))
	var order []string
	by := map[string][]json.RawMessage{}
	for _, r := range doc.Records {
		var rec struct{ EventSourceARN string }
		require.NoError(t, json.Unmarshal(r, &rec))
		if _, ok := by[rec.EventSourceARN]; !ok {
			order = append(order, rec.EventSourceARN)
		}
		by[rec.EventSourceARN] = append(by[rec.EventSourceARN], r)
	}
	var out [][]byte
	for _, arn := range order {
		b, err := json.Marshal(map[string]any{"Records": by[arn]})
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// TestInvokeTableIdentity: streams of DynamoDB tables whose names
// sanitize alike land in lake tables of their own; a stream of the same
// table name in another account or region is set aside, without failing
// the batch. Then the same, with one function instance per stream
// invoked at once (concurrent Lambdas on different tables claiming
// names): every table still gets a lake table of its own.
func TestInvokeTableIdentity(t *testing.T) {
	events := eventsByStream(t, readFile(t, "../../testdata/e2e/identity/tables.json"))
	require.Len(t, events, 6)

	lake := newTestLake(t, nil)
	tables := map[string]int{}
	var setAside int
	for _, ev := range events {
		resp, err, sum, _ := lake.invoke(t, context.Background(), ev)
		require.NoError(t, err)
		require.Empty(t, failures(t, resp), "a record of another source never blocks the shard")
		for n, rows := range sum.Tables {
			tables[n] += rows
		}
		setAside += sum.SetAside
	}
	require.Equal(t, map[string]int{"chat_messages": 2, "chat_messages_2": 2, "chat_messages_3": 1, "chat_messages_4": 1}, tables)
	require.Equal(t, 2, setAside)

	// Concurrent function instances, one per stream, over one lake.
	base := newTestLake(t, nil)
	var wg sync.WaitGroup
	got := make([]summary, len(events))
	for i, ev := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := &syncBuffer{}
			h := &Handler{Processor: &pipeline.Processor{
				Schemas: pipeline.NewRegistrySchemas(base.store), Destination: direct.New(base.store),
				Quarantine: pipeline.NewLakeErrors(base.store),
			}, Out: out}
			resp, err := h.Invoke(context.Background(), ev)
			require.NoError(t, err)
			require.Empty(t, failures(t, resp))
			sums, _ := invocationLines(t, out.String())
			require.Len(t, sums, 1)
			got[i] = sums[0]
		}()
	}
	wg.Wait()
	lakes := map[string]string{} // lake table -> the stream that wrote it
	setAside = 0
	var rows, chatMessagesLanded int
	for i, s := range got {
		require.LessOrEqual(t, len(s.Tables), 1)
		for n := range s.Tables {
			if other, ok := lakes[n]; ok {
				// Only two streams of one table and source may share a
				// lake table; here every stream is its own table or source.
				t.Fatalf("lake table %s holds streams %s and %s", n, other, s.EventSourceARN)
			}
			lakes[n] = s.EventSourceARN
		}
		setAside += s.SetAside
		rows += s.Rows
		if s.Rows > 0 && i != 1 && i != 2 && i != 3 { // the chat-messages streams: 0, 4, 5
			chatMessagesLanded++
		}
	}
	require.Equal(t, 1, chatMessagesLanded, "one source of chat-messages wins its lake table")
	require.Equal(t, 8, rows+setAside)
	require.Contains(t, []int{2, 3}, setAside, "the chat-messages streams that lost the race are set aside")
	names := make([]string, 0, len(lakes))
	for n := range lakes {
		names = append(names, n)
	}
	sort.Strings(names)
	require.Equal(t, []string{"chat_messages", "chat_messages_2", "chat_messages_3", "chat_messages_4"}, names)
	reg, err := sink.NewRegistry(base.store).LoadAll(context.Background())
	require.NoError(t, err)
	origins := map[string]bool{}
	for _, n := range reg.Tables() {
		s, _ := reg.Get(n)
		require.NotNil(t, s.Origin)
		require.False(t, origins[s.Origin.DynamoDBTable], "%s has one lake table", s.Origin.DynamoDBTable)
		origins[s.Origin.DynamoDBTable] = true
		require.Len(t, s.Sources, 1)
	}
}
