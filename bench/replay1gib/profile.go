package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// profileReplay replays export into lake in this process, wired as
// `ddblake replay` wires it, and writes a heap profile into dir each time
// the live heap (measured after each GC) reaches a new peak, so that
// heap-peak.pb.gz shows what held the memory at the worst moment.
func profileReplay(ctx context.Context, dir, lakeDir, export string, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	store, err := localstore.New(lakeDir)
	if err != nil {
		return err
	}
	inputs, err := (&decode.Resolver{}).Resolve(ctx, export)
	if err != nil {
		return err
	}
	dest := direct.NewAssembled(store, direct.AssembleOptions{})
	r := &pipeline.Replay{
		Processor: &pipeline.Processor{
			Schemas:     pipeline.NewRegistrySchemas(store),
			Destination: dest,
			Quarantine:  pipeline.NewLakeErrors(store),
		},
		Workers: runtime.NumCPU(),
	}
	peakFile := filepath.Join(dir, "heap-peak.pb.gz")
	done := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				sampled <- peak
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+peak/20 {
				peak = live
				if f, err := os.Create(peakFile); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					_ = f.Close()
				}
			}
		}
	}()
	start := time.Now()
	sum, err := r.Run(ctx, inputs)
	if err == nil {
		err = dest.Flush(ctx)
	}
	close(done)
	peak := <-sampled
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "in-process replay: %d rows in %s, peak live heap %.1f MiB; heap profile at that peak: %s\n",
		sum.Rows, time.Since(start).Round(time.Millisecond), mib(int64(peak)), peakFile)
	fmt.Fprintf(stderr, "  go tool pprof -sample_index=inuse_space -top %s\n", peakFile)
	return nil
}
