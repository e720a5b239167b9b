package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// heapPeak samples the live heap while fn runs and returns its peak and
// the bytes fn allocated in all.
func heapPeak(fn func()) (peak, allocated uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var max atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	p := max.Load()
	if p > base {
		p -= base
	} else {
		p = 0
	}
	return p, after.TotalAlloc - before.TotalAlloc
}

// TestOneHugeLineBoundedMemory replays one 50 MB line between good ones
// (16 MB with -short or the race detector, which is slow on it),
// with the real local store: an item far over 400 KB is set aside
// without being copied over and over, and a record whose 50 MB are in a
// field no row holds lands. The bytes allocated, a deterministic figure,
// are bounded by a few times the line's size.
func TestOneHugeLineBoundedMemory(t *testing.T) {
	size := 50 << 20
	if testing.Short() || raceEnabled {
		size = 16 << 20
	}
	dir := t.TempDir()
	good := streamRecord(nil, nil)
	for _, c := range []struct {
		name, line string
		rows       int
	}{
		// A line costs its pieces, the line they make and the parser's
		// copy; a record of an event document, the doubling window it is
		// read through, its copy and the parser's.
		{"item of the line's size", streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"body":{"S":"` + strings.Repeat("가", size/3) + `"}}`}), 2},
		{"the line's bytes outside the item", streamRecord(map[string]string{"junk": `"` + strings.Repeat("x", size) + `"`}, nil), 3},
		{"event document", "", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".jsonl")
			content := good + "\n" + c.line + "\n" + good + "\n"
			if c.line == "" {
				// The 50 MB item in a Records[] element of an event file.
				c.line = streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat("x", size) + `"}}`})
				content = string(event(good, c.line, good))
			}
			require.NoError(t, os.WriteFile(in, []byte(content), 0o644))
			store, err := localstore.New(t.TempDir())
			require.NoError(t, err)
			inputs, err := (&decode.Resolver{}).Resolve(context.Background(), in)
			require.NoError(t, err)
			r := &Replay{
				Processor: &Processor{Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)},
				Workers:   1,
			}
			var sum Summary
			peak, alloc := heapPeak(func() {
				sum, err = r.Run(context.Background(), inputs)
			})
			require.NoError(t, err)
			require.Empty(t, sum.WriteErrors)
			require.Equal(t, c.rows, sum.Rows)
			require.Equal(t, 3, sum.Rows+sum.SetAside)
			t.Logf("%s: line %d MB, allocated %d MB (%.1f×), peak live heap %d MB", c.name, len(c.line)>>20, alloc>>20, float64(alloc)/float64(len(c.line)), peak>>20)
			// A few times the line, plus what a replay allocates whatever
			// its input (buffers of a MiB, the encoder; more under the race
			// detector, whose pools drop what they hold at random).
			bound := 4*len(c.line) + 64<<20
			if strings.HasPrefix(c.name, "event") {
				bound = 5*len(c.line) + 64<<20
			}
			require.Less(t, alloc, uint64(bound), "allocations bounded by a few times the line")
		})
	}
}
