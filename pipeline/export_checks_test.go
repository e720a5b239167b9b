package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// exportRun is how replayExport replays: the batch size, the
// configuration, the decoders' spool bound (decode.Options.SpoolBytes:
// negative reads each checked data file twice, as before the spool),
// and an interrupt after some batches.
type exportRun struct {
	chunk  int64
	config *Config
	spool  int64
	// stopAfter, when positive, cancels the run once that many batches
	// are written; listed then says whether the files it finished are
	// listed (an interrupted run) or not (a run killed before its end).
	stopAfter int64
	listed    bool
}

// replayExport replays the export at dir into lake as the replay command
// does, through direct.Assembled.
func replayExport(t *testing.T, lake, dir string, run exportRun) Summary {
	t.Helper()
	store, err := localstore.New(lake)
	require.NoError(t, err)
	inputs, err := (&decode.Resolver{}).Resolve(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, inputs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written atomic.Int64
	asm := direct.NewAssembled(store, direct.AssembleOptions{})
	r := &Replay{
		Processor:  &Processor{Config: run.config, Schemas: NewRegistrySchemas(store), Destination: asm, Quarantine: NewLakeErrors(store)},
		Inputs:     NewLakeErrors(store),
		Decode:     decode.Options{SpoolBytes: run.spool},
		Workers:    2,
		ChunkBytes: run.chunk,
		Progress: func(Progress) {
			if n := written.Add(1); run.stopAfter > 0 && n >= run.stopAfter {
				cancel()
			}
		},
	}
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	if run.stopAfter <= 0 || run.listed {
		require.NoError(t, asm.Flush(context.Background()))
	}
	return sum
}

// exportRuns are the batch sizes and file sizes the tests replay the
// export with: the defaults (a batch per data file, one file), and small
// batches and files, so that the batches of good and bad data files
// would share files.
var exportRuns = []struct {
	name   string
	chunk  int64
	config func() *Config
}{
	{"default sizes", 0, func() *Config { return nil }},
	{"small batches and files", 2 << 10, func() *Config { return &Config{Defaults: TableConfig{TargetFileSize: 4 << 10}} }},
}

// TestBadDataFilesLeaveNoRow replays an export two of whose data files
// fail their checks (a wrong MD5, a wrong item count), reading each data
// file once, and as before, twice (checked, then decoded): the lakes are
// the same byte for byte, and so are the summaries; the manifests list
// the good files' rows only, every record of the bad files is in the
// quarantine with the reason, no attribute of the bad files only is a
// column, and an attribute a bad file held as a string first is a number
// column, as the good files hold it.
func TestBadDataFilesLeaveNoRow(t *testing.T) {
	t.Parallel()
	ex := laketest.WriteBadExport(t, t.TempDir())
	table := flatten.TableName(ex.Table)
	for _, tc := range exportRuns {
		t.Run(tc.name, func(t *testing.T) {
			twice, once := t.TempDir(), t.TempDir()
			want := replayExport(t, twice, ex.Dir, exportRun{chunk: tc.chunk, config: tc.config(), spool: -1})
			got := replayExport(t, once, ex.Dir, exportRun{chunk: tc.chunk, config: tc.config()})
			require.Equal(t, laketest.Files(t, twice), laketest.Files(t, once), "the same lake as when read twice")
			require.Equal(t, errorTexts(want.InputErrors), errorTexts(got.InputErrors))
			require.Equal(t, want.Finished, got.Finished)
			want.Elapsed, got.Elapsed = 0, 0
			require.Equal(t, want, got)

			require.Equal(t, ex.Good, got.Rows)
			require.Equal(t, ex.Bad, got.SetAside)
			require.Len(t, got.InputErrors, 2, "%v", got.InputErrors)
			require.ErrorIs(t, got.InputErrors[0], decode.ErrChecksum)
			require.ErrorIs(t, got.InputErrors[1], decode.ErrItemCount)
			if tc.chunk > 0 {
				require.Greater(t, got.Files, 5, "data files joined across the export's data files")
			}

			rows, _, _ := lakeListing(t, once)
			var listed []string
			for _, r := range rows {
				listed = append(listed, r...)
			}
			require.Len(t, listed, ex.Good)
			all := strings.Join(listed, "\n")
			for _, id := range ex.GoodIDs {
				require.Contains(t, all, `"`+id+`"`)
			}
			for _, id := range ex.BadIDs {
				require.NotContains(t, all, `"`+id+`"`, "a row of a bad data file is listed")
			}

			st, err := localstore.New(once)
			require.NoError(t, err)
			s, err := sink.NewRegistry(st).Load(context.Background(), table)
			require.NoError(t, err)
			for _, attr := range ex.BadAttrs {
				_, ok := s.Lookup(attr)
				require.False(t, ok, "%s, an attribute of the bad files only, has a column", attr)
			}
			i, ok := s.Lookup("mixed")
			require.True(t, ok)
			require.Equal(t, "N", s.Columns[i].Source, "typed by the good files")

			reasons := map[string]int{}
			for _, line := range laketest.QuarantineLines(t, once) {
				src, _ := line["source"].(string)
				reason, _ := line["reason"].(string)
				if file, _ := line["_file"].(string); strings.HasPrefix(file, "_errors/_inputs/") {
					src += " (input)" // the list of inputs not read to the end
				}
				switch {
				case strings.HasSuffix(src, "/data/bad-md5.json.gz"):
					require.Contains(t, reason, decode.ErrChecksum.Error())
				case strings.HasSuffix(src, "/data/bad-count.json.gz"):
					require.Contains(t, reason, decode.ErrItemCount.Error())
				case strings.HasSuffix(src, ".json.gz (input)"):
					require.Regexp(t, "bad-(md5|count)", src)
				default:
					continue
				}
				reasons[src[strings.LastIndex(src, "/")+1:]]++
			}
			require.Equal(t, map[string]int{"bad-md5.json.gz": 40, "bad-count.json.gz": 40,
				"bad-md5.json.gz (input)": 1, "bad-count.json.gz (input)": 1}, reasons)
		})
	}
}

// TestBadDataFilesInterruptedThenRerun interrupts replays of the export
// of TestBadDataFilesLeaveNoRow after a random number of batches, the
// files they finished listed (an interrupt) or not (as after kill -9),
// each then run again to the end: the lake is byte for byte what one run
// writes, and the interrupted run lists no row of a bad data file nor
// gives a column to an attribute of the bad files only.
func TestBadDataFilesInterruptedThenRerun(t *testing.T) {
	t.Parallel()
	ex := laketest.WriteBadExport(t, t.TempDir())
	table := flatten.TableName(ex.Table)
	tc := exportRuns[1]
	fresh := t.TempDir()
	sum := replayExport(t, fresh, ex.Dir, exportRun{chunk: tc.chunk, config: tc.config()})
	batches := int64(sum.Records) / 8 // about
	want := laketest.Files(t, fresh)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	for round := range 4 {
		lake := t.TempDir()
		stop := 1 + rng.Int64N(max(batches, 2))
		listed := round%2 == 0
		what := fmt.Sprintf("seed %d round %d: stopped after %d batches, listed %v", seed, round, stop, listed)
		part := replayExport(t, lake, ex.Dir, exportRun{chunk: tc.chunk, config: tc.config(), stopAfter: stop, listed: listed})
		rows, _, _ := lakeListing(t, lake)
		for _, r := range rows {
			for _, row := range r {
				for _, id := range ex.BadIDs {
					require.NotContains(t, row, `"`+id+`"`, what)
				}
			}
		}
		st, err := localstore.New(lake)
		require.NoError(t, err)
		if s, err := sink.NewRegistry(st).Load(context.Background(), table); err == nil {
			for _, attr := range ex.BadAttrs {
				_, ok := s.Lookup(attr)
				require.False(t, ok, what)
			}
		}
		replayExport(t, lake, ex.Dir, exportRun{chunk: tc.chunk, config: tc.config()})
		require.Equal(t, want, laketest.Files(t, lake), "%s (interrupted: %v)", what, part.Interrupted)
	}
}

func errorTexts(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
