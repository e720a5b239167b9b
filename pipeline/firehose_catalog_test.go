package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/gluetest"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
)

// keptRows records the rows a Destination delivered, with their schemas.
type keptRows struct {
	inner sink.Destination
	mu    sync.Mutex
	rows  []string // as `ddblake flatten` renders them
}

func (k *keptRows) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	d, err := k.inner.Write(ctx, batchID, t, rows)
	k.mu.Lock()
	defer k.mu.Unlock()
	failed := map[int]bool{}
	for _, i := range d.Failed {
		failed[i] = true
	}
	for i := range rows {
		if !failed[i] {
			k.rows = append(k.rows, string(flatten.AppendRowJSON(nil, t.Schema, &rows[i])))
		}
	}
	return d, err
}

// firehoseScenario runs a stream of batches, one a minute for 45
// minutes, through a Processor whose commits sync the fake Glue catalog
// and whose Firehose sink sends to a fake Firehose that converts with the
// Glue table as it last read it (every 10 minutes). From minute 13 on,
// items carry a new attribute, price. It returns the fake Firehose's
// records and the rows written directly (nil when split is false: every
// row goes to Firehose, as before the catalog sync existed), and the
// price each message was sent with.
func firehoseScenario(t *testing.T, split bool) ([]firehosetest.Record, *keptRows, map[string]string) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var clockNS atomic.Int64
	clockNS.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clockNS.Load()).UTC() }

	g := gluetest.NewServer(t)
	g.SetClock(now)
	cat, err := catalog.New(g.Client(), catalog.Config{Database: "chat", Location: "s3://lake-bucket/lake", Backoff: time.Millisecond, Now: now})
	require.NoError(t, err)

	fh := firehosetest.NewServer(t)
	fh.Convert(firehosetest.Conversion{Refresh: 10 * time.Minute, Now: now,
		Columns: func(stream string) ([]string, bool) {
			tbl, ok := g.Table("chat", strings.TrimPrefix(stream, "ddblake-"))
			if !ok {
				return nil, false
			}
			cols := tbl.Columns()
			for _, p := range tbl.PartitionKeys {
				cols = append(cols, p.Name)
			}
			return cols, true
		}})
	sender, err := firehose.New(fh.Client(), firehose.Config{Stream: "ddblake-{table}", BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})
	require.NoError(t, err)

	store := laketest.NewMemStore()
	fs := firehose.NewDestination(sender)
	var kept *keptRows
	if split {
		kept = &keptRows{inner: direct.New(store)}
		fs.Direct = kept
		fs.Columns = &catalog.SettledColumns{Catalog: cat, Delay: 15 * time.Minute, MaxAge: time.Minute, Now: now}
	}
	var syncErrs []error
	p := &Processor{
		Schemas: &CatalogSchemas{Schemas: NewRegistrySchemas(store),
			Sync: func(ctx context.Context, s *schemas.Schema) error {
				_, err := cat.Sync(ctx, s, nil)
				return err
			},
			OnError: func(_ string, err error) { syncErrs = append(syncErrs, err) }},
		Destination: fs,
		Quarantine:  NewLakeErrors(store),
	}

	prices := map[string]string{}
	for m := 0; m < 45; m++ {
		clockNS.Store(t0.Add(time.Duration(m) * time.Minute).UnixNano())
		var items []string
		for i := 0; i < 3; i++ {
			sk := fmt.Sprintf("MSG#%02d-%d", m, i)
			item := `{"roomId":{"S":"r1"},"sk":{"S":"` + sk + `"},"text":{"S":"hi"}`
			if m >= 13 {
				prices[sk] = fmt.Sprint(m*100 + i)
				item += `,"price":{"N":"` + prices[sk] + `"}`
			}
			items = append(items, item+"}")
		}
		recs := records(t, items...)
		for _, r := range recs {
			r.Keys = flatten.ItemOf(r.NewImage.Attrs()[:2])
		}
		res, err := p.Process(ctx, &Batch{ID: fmt.Sprintf("b%02d", m), Records: recs})
		require.NoError(t, err)
		require.Equal(t, -1, res.FirstFailed)
		require.Equal(t, 3, res.Rows)
	}
	require.Empty(t, syncErrs)
	tbl, ok := g.Table("chat", "chat_messages")
	require.True(t, ok, "the commit created the Glue table")
	require.Contains(t, tbl.Columns(), "price", "and added the new column")
	return fh.Records(), kept, prices
}

// TestFirehoseNoValueLostWhileCatalogCatchesUp: every price sent lands
// either in a row Firehose converted with a price column, or in a row
// the Lambda wrote itself; no field is ever dropped by the conversion.
func TestFirehoseNoValueLostWhileCatalogCatchesUp(t *testing.T) {
	t.Parallel()
	recs, kept, prices := firehoseScenario(t, true)
	found := map[string]string{}
	viaFirehose := 0
	for _, r := range recs {
		require.False(t, r.ConversionFailed, "sent before the table existed in the catalog: %s", r.Data)
		require.Empty(t, r.Dropped, "Firehose dropped fields of %s", r.Data)
		var sk, price string
		require.NoError(t, json.Unmarshal(r.Fields["sk"], &sk))
		if v, ok := r.Fields["price"]; ok {
			price = string(v)
			viaFirehose++
		}
		found[sk] = price
	}
	direct := 0
	for _, row := range kept.rows {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(row), &m))
		sk := m["sk"].(string)
		_, dup := found[sk]
		require.False(t, dup, "%s delivered both ways", sk)
		found[sk] = ""
		if v, ok := m["price"]; ok {
			found[sk] = fmt.Sprint(v)
			direct++
		}
	}
	require.Len(t, found, 45*3, "every message delivered once")
	for sk, want := range prices {
		require.Equal(t, want, found[sk], "price of %s", sk)
	}
	require.Positive(t, direct, "rows with the new column were written directly while Firehose could lack it")
	require.Positive(t, viaFirehose, "and went to Firehose once it surely had it")
}

// TestFirehoseWithoutCatalogCheckLosesValues is the control: sending
// every row to Firehose loses the new column's values until Firehose
// reads the table again.
func TestFirehoseWithoutCatalogCheckLosesValues(t *testing.T) {
	recs, _, _ := firehoseScenario(t, false)
	lost := 0
	for _, r := range recs {
		if len(r.Dropped) > 0 || r.ConversionFailed {
			lost++
		}
	}
	require.Positive(t, lost, "the fake converts like Firehose: fields its copy lacks are dropped")
}
