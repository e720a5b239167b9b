package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/naive"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// BenchmarkHandler6MB runs a full ~6 MB DynamoDB stream batch (the
// largest a Lambda invocation gets) through the handler in process,
// writing Parquet to a local lake: decoding, flattening, encoding and
// the writes, with the schema cache warm as in a warm function.
func BenchmarkHandler6MB(b *testing.B) {
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(b, err)
	payload, records, err := g.LambdaEvent(6 << 20)
	require.NoError(b, err)
	store, err := localstore.New(b.TempDir())
	require.NoError(b, err)
	h := &Handler{
		Processor: &pipeline.Processor{
			Schemas: pipeline.NewRegistrySchemas(store), Destination: direct.New(store),
			Quarantine: pipeline.NewLakeErrors(store),
		},
		Out: io.Discard, FunctionName: "bench",
	}
	ctx := context.Background()
	resp, err := h.Invoke(ctx, payload) // the first batch commits the schema
	require.NoError(b, err)
	require.Equal(b, `{"batchItemFailures":[]}`, string(resp))

	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for b.Loop() {
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(records)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
	b.ReportMetric(float64(records), "records/batch")
	if used := cpuSeconds() - cpu; cpu > 0 && used > 0 {
		// CPU time (all threads, the collector's included) says more
		// than wall time on a shared machine.
		b.ReportMetric(used*1000/float64(b.N), "cpu-ms/batch")
	}
}

// BenchmarkNaive6MB runs the same batch as BenchmarkHandler6MB through the
// baseline of package naive (encoding/json into aws-lambda-go's event
// types, then parquet-go), Parquet bytes in memory: the ratio of the two,
// run side by side, is the speed-up over a plain implementation.
func BenchmarkNaive6MB(b *testing.B) {
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(b, err)
	payload, records, err := g.LambdaEvent(6 << 20)
	require.NoError(b, err)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for b.Loop() {
		if _, err := naive.Event(payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(records)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
	if used := cpuSeconds() - cpu; cpu > 0 && used > 0 {
		b.ReportMetric(used*1000/float64(b.N), "cpu-ms/batch")
	}
}
