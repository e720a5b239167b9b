package manifest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/s3test"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

var day = sink.Partition{Day: "2026-04-01"}

func stores(t *testing.T) map[string]func(t *testing.T) sink.Store {
	srv := s3test.New(t)
	n := 0
	return map[string]func(t *testing.T) sink.Store{
		"local": func(t *testing.T) sink.Store {
			st, err := localstore.New(t.TempDir())
			require.NoError(t, err)
			return st
		},
		"s3": func(t *testing.T) sink.Store {
			n++
			return srv.Store(t, fmt.Sprintf("lake-%d", n), "some/prefix")
		},
	}
}

func TestKeys(t *testing.T) {
	k, err := manifest.Key("chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, "chat_messages/_symlink_format_manifest/dt=2026-04-01/manifest", k)
	k, err = manifest.Key("chat_messages", sink.Partition{Day: "2026-04-01", Hour: "07"})
	require.NoError(t, err)
	require.Equal(t, "chat_messages/_symlink_format_manifest/dt=2026-04-01/hr=07/manifest", k)
	r, err := manifest.RecordKey("chat_messages", day)
	require.NoError(t, err)
	require.Equal(t, "_ddblake/compaction/chat_messages/dt=2026-04-01.json", r)
	for _, bad := range []struct {
		table string
		p     sink.Partition
	}{{"../x", day}, {"_errors", day}, {"t", sink.Partition{Day: "2026-13-01"}}, {"t", sink.Partition{Day: "2026-04-01", Hour: "24"}}} {
		_, err := manifest.Key(bad.table, bad.p)
		require.ErrorIs(t, err, sink.ErrBadName, "%v", bad)
		_, err = manifest.RecordKey(bad.table, bad.p)
		require.ErrorIs(t, err, sink.ErrBadName, "%v", bad)
	}
	require.True(t, manifest.IsCompacted("t/dt=2026-04-01/compacted/x.parquet"))
	require.False(t, manifest.IsCompacted("t/dt=2026-04-01/x.parquet"))
	require.False(t, manifest.IsCompacted("compacted"))
}

func TestFormatParse(t *testing.T) {
	keys := []string{"t/dt=2026-04-01/b.parquet", "t/dt=2026-04-01/a.parquet", "t/dt=2026-04-01/compacted/c.parquet", "t/dt=2026-04-01/a.parquet"}
	want := []string{"t/dt=2026-04-01/a.parquet", "t/dt=2026-04-01/b.parquet", "t/dt=2026-04-01/compacted/c.parquet"}

	local := manifest.Format("", keys)
	require.Equal(t, strings.Join(want, "\n")+"\n", string(local))
	got, foreign, err := manifest.Parse(local, "", "t", day)
	require.NoError(t, err)
	require.False(t, foreign)
	require.Equal(t, want, got)

	s3 := manifest.Format("s3://bucket/lake/", keys)
	require.True(t, strings.HasPrefix(string(s3), "s3://bucket/lake/t/dt=2026-04-01/a.parquet\n"))
	got, foreign, err = manifest.Parse(s3, "s3://bucket/lake/", "t", day)
	require.NoError(t, err)
	require.False(t, foreign)
	require.Equal(t, want, got)

	// A local lake synced to S3, and an S3 lake copied to another bucket:
	// the keys are found, and the manifest is marked for rewriting.
	for _, data := range [][]byte{local, s3} {
		got, foreign, err = manifest.Parse(data, "s3://other/place/", "t", day)
		require.NoError(t, err)
		require.True(t, foreign)
		require.Equal(t, want, got)
	}
	got, foreign, err = manifest.Parse(s3, "", "t", day)
	require.NoError(t, err)
	require.True(t, foreign)
	require.Equal(t, want, got)

	require.Empty(t, manifest.Format("", nil))
	got, _, err = manifest.Parse(nil, "", "t", day)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestParseRefusesOtherFiles(t *testing.T) {
	for _, line := range []string{
		"t/dt=2026-04-02/a.parquet",                  // another partition
		"u/dt=2026-04-01/a.parquet",                  // another table
		"t/dt=2026-04-01/a.json",                     // not Parquet
		"t/dt=2026-04-01/x/a.parquet",                // below the folder
		"t/dt=2026-04-01/../../etc/a.parquet",        // escapes
		"t/dt=2026-04-01/compacted/x/a.parquet",      // below compacted
		"s3://bucket/lake/t/dt=2026-04-02/a.parquet", // URI of another partition
		"/etc/passwd",
		"t/_symlink_format_manifest/dt=2026-04-01/manifest",
	} {
		_, _, err := manifest.Parse([]byte(line+"\n"), "s3://bucket/lake/", "t", day)
		require.ErrorIs(t, err, manifest.ErrBadManifest, line)
		require.Contains(t, err.Error(), "line 1", line)
	}
}

func TestAddAndUpdate(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t)
			n, err := manifest.Add(ctx, st, "t", day, []string{"t/dt=2026-04-01/b.parquet", "t/dt=2026-04-01/a.parquet"})
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = manifest.Add(ctx, st, "t", day, []string{"t/dt=2026-04-01/a.parquet"})
			require.NoError(t, err)
			require.Zero(t, n, "a listed file is not added twice")
			l, err := manifest.Read(ctx, st, "t", day)
			require.NoError(t, err)
			require.True(t, l.Exists)
			require.Equal(t, []string{"t/dt=2026-04-01/a.parquet", "t/dt=2026-04-01/b.parquet"}, l.Keys)

			key, _ := manifest.Key("t", day)
			body, err := st.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, string(manifest.Format(manifest.Root(st), l.Keys)), string(body))
			if name == "s3" {
				require.True(t, strings.HasPrefix(string(body), st.URI()+"/t/dt=2026-04-01/a.parquet\n"), string(body))
			} else {
				require.True(t, strings.HasPrefix(string(body), "t/dt=2026-04-01/a.parquet\n"), string(body))
			}

			_, err = manifest.Add(ctx, st, "t", day, []string{"t/dt=2026-04-02/a.parquet"})
			require.ErrorIs(t, err, manifest.ErrBadManifest, "a file of another partition")

			// A manifest written under another root is written again
			// with the store's, even by an update that changes nothing.
			require.NoError(t, st.Put(ctx, key, manifest.Format("s3://elsewhere/x/", l.Keys)))
			require.NoError(t, manifest.Update(ctx, st, "t", day, func([]string) ([]string, bool, error) { return nil, false, nil }))
			body, err = st.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, string(manifest.Format(manifest.Root(st), l.Keys)), string(body))
		})
	}
}

// TestAddSkipsReplaced: once a compaction claimed a file, writing it again
// (a rerun, a retried Lambda batch) does not list it again.
func TestAddSkipsReplaced(t *testing.T) {
	ctx := context.Background()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	src := []string{"t/dt=2026-04-01/a.parquet", "t/dt=2026-04-01/b.parquet"}
	out := "t/dt=2026-04-01/compacted/c.parquet"
	_, err = manifest.UpdateRecord(ctx, st, "t", day, func(r *manifest.Record) (*manifest.Record, error) {
		r.Claims = append(r.Claims, manifest.Claim{Output: out, Sources: src, Claimed: time.Now()})
		return r, nil
	})
	require.NoError(t, err)
	require.NoError(t, manifest.Update(ctx, st, "t", day, func([]string) ([]string, bool, error) { return []string{out}, true, nil }))

	n, err := manifest.Add(ctx, st, "t", day, append(src, "t/dt=2026-04-01/late.parquet"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	l, err := manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.Equal(t, []string{"t/dt=2026-04-01/compacted/c.parquet", "t/dt=2026-04-01/late.parquet"}, l.Keys)
}

// TestConcurrentListers races writers adding their own files to one
// partition, as Lambdas on several shards do: no file is lost.
func TestConcurrentListers(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t)
			const writers, each = 8, 6
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := manifest.NewLister(st)
					for i := range each {
						key := fmt.Sprintf("t/dt=2026-04-01/w%d-%d.parquet", w, i)
						if err := l.Add(ctx, []sink.WrittenFile{{Key: key, Table: "t", Partition: day}}); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			l, err := manifest.Read(ctx, st, "t", day)
			require.NoError(t, err)
			require.Len(t, l.Keys, writers*each)
		})
	}
}

func TestDeferredLister(t *testing.T) {
	ctx := context.Background()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	l := manifest.NewDeferredLister(st)
	other := sink.Partition{Day: "2026-04-02", Hour: "03"}
	require.NoError(t, l.Add(ctx, []sink.WrittenFile{
		{Key: "t/dt=2026-04-01/a.parquet", Table: "t", Partition: day},
		{Key: "t/dt=2026-04-02/hr=03/b.parquet", Table: "t", Partition: other},
	}))
	require.NoError(t, l.Add(ctx, []sink.WrittenFile{{Key: "t/dt=2026-04-01/c.parquet", Table: "t", Partition: day}}))
	require.Equal(t, 3, l.Pending())
	got, err := manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.False(t, got.Exists, "nothing is listed before Flush")

	require.NoError(t, l.Flush(ctx))
	require.Zero(t, l.Pending())
	got, err = manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.Equal(t, []string{"t/dt=2026-04-01/a.parquet", "t/dt=2026-04-01/c.parquet"}, got.Keys)
	got, err = manifest.Read(ctx, st, "t", other)
	require.NoError(t, err)
	require.Equal(t, []string{"t/dt=2026-04-02/hr=03/b.parquet"}, got.Keys)

	// A failed flush keeps the files for the next one.
	bad := manifest.NewDeferredLister(st)
	require.NoError(t, bad.Add(ctx, []sink.WrittenFile{{Key: "t/dt=2026-04-01/x.json", Table: "t", Partition: day}}))
	require.ErrorIs(t, bad.Flush(ctx), manifest.ErrBadManifest)
	require.Equal(t, 1, bad.Pending())
}

func TestScan(t *testing.T) {
	ctx := context.Background()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	for _, k := range []string{
		"t/dt=2026-04-02/b.parquet",
		"t/dt=2026-04-01/a.parquet",
		"t/dt=2026-04-01/compacted/c.parquet",
		"t/dt=2026-04-01/hr=05/h.parquet",
		"t/_symlink_format_manifest/dt=2026-04-01/manifest",
		"t/dt=2026-04-01/notes.txt",
		"t/other/x.parquet",
		"t/dt=2026-99-01/x.parquet",
		"u/dt=2026-04-01/a.parquet",
	} {
		require.NoError(t, st.Put(ctx, k, []byte("x")))
	}
	parts, err := manifest.Scan(ctx, st, "t")
	require.NoError(t, err)
	require.Len(t, parts, 3)
	require.Equal(t, day, parts[0].Partition)
	require.True(t, parts[0].Manifest)
	require.Len(t, parts[0].Files, 1)
	require.Len(t, parts[0].Compacted, 1)
	require.Equal(t, sink.Partition{Day: "2026-04-01", Hour: "05"}, parts[1].Partition)
	require.Equal(t, sink.Partition{Day: "2026-04-02"}, parts[2].Partition)
	require.False(t, parts[2].Manifest)
}

// TestDeferredListerSupersedes: files of a replayed input that an earlier
// run listed and this one did not write again leave the manifest in the
// write that lists the new ones; other inputs', Lambda batches' and
// compacted files stay.
func TestDeferredListerSupersedes(t *testing.T) {
	ctx := context.Background()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	input := sink.ReplayBatchID("/data/a.jsonl", 0, "", 0)
	stem, ok := sink.ReplayInputOf(sink.FileName(input, 0) + ".parquet")
	require.True(t, ok)
	key := func(id string, part int) string {
		return "t/dt=2026-04-01/" + sink.FileName(id, part) + ".parquet"
	}
	old := []string{
		key(sink.ReplayBatchID("/data/a.jsonl", 0, "", 0), 0), // written again
		key(sink.ReplayBatchID("/data/a.jsonl", 0, "", 3), 0), // cut elsewhere now
		key(sink.ReplayBatchID("/data/a.jsonl", 0, "", 7), 1),
		key(sink.ReplayBatchID("/data/b.jsonl", 0, "", 3), 0), // another input
		key(sink.LambdaBatchID("arn:aws:dynamodb:eu-west-1:1:table/t/stream/x", "shard-1", "100", "200"), 0),
		"t/dt=2026-04-01/compacted/c.parquet",
	}
	require.NoError(t, manifest.Update(ctx, st, "t", day, func([]string) ([]string, bool, error) { return old, true, nil }))

	l := manifest.NewDeferredLister(st)
	written := []string{old[0], key(sink.ReplayBatchID("/data/a.jsonl", 0, "", 5), 0)}
	for _, k := range written {
		require.NoError(t, l.Add(ctx, []sink.WrittenFile{{Key: k, Table: "t", Partition: day}}))
	}
	l.Supersede("t", day, stem)
	got, err := manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.ElementsMatch(t, old, got.Keys, "nothing changes before Flush")
	require.NoError(t, l.Flush(ctx))
	got, err = manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{old[0], written[1], old[3], old[4], old[5]}, got.Keys)
}

func TestReplayInputOf(t *testing.T) {
	a0 := sink.ReplayBatchID("/data/a-c000001-0001.jsonl", 10, "", 0)
	a9 := sink.ReplayBatchID("/data/a-c000001-0001.jsonl", 10, "", 1234567)
	for _, k := range []string{a0, a9} {
		in, ok := sink.ReplayInputOf("t/dt=2026-04-01/" + sink.FileName(k, 12) + ".parquet")
		require.True(t, ok, k)
		require.Equal(t, a0[:strings.LastIndex(a0, "-c")], in)
	}
	other, _ := sink.ReplayInputOf(sink.FileName(sink.ReplayBatchID("/data/b.jsonl", 10, "", 0), 0) + ".parquet")
	require.NotEqual(t, a0[:strings.LastIndex(a0, "-c")], other)
	for _, k := range []string{
		"t/dt=2026-04-01/compacted/c.parquet",
		"t/dt=2026-04-01/" + sink.FileName(sink.LambdaBatchID("arn", "shard-1", "100", "200"), 0) + ".parquet",
		"t/dt=2026-04-01/x-0123456789abcdef-c-0000.parquet",
		"t/dt=2026-04-01/x-0123456789abcdeg-c000001-0000.parquet",
		"t/dt=2026-04-01/-0123456789abcdef-c000001-0000.parquet",
		"",
	} {
		_, ok := sink.ReplayInputOf(k)
		require.False(t, ok, k)
	}
}

// TestDeferredListerKeepsCompactedInputs: a rerun that cut an input into
// other files does not list them in a partition where a compaction holds
// rows of that input (they would be listed twice), and takes none of the
// input's listed files out; another input of the partition is superseded
// as usual.
func TestDeferredListerKeepsCompactedInputs(t *testing.T) {
	ctx := context.Background()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	stemOf := func(path string) string {
		stem, ok := sink.ReplayInputOf(sink.FileName(sink.ReplayBatchID(path, 0, "", 0), 0) + ".parquet")
		require.True(t, ok)
		return stem
	}
	key := func(path string, chunk, part int) string {
		return "t/dt=2026-04-01/" + sink.FileName(sink.ReplayBatchID(path, 0, "", chunk), part) + ".parquet"
	}
	compacted := "t/dt=2026-04-01/compacted/c-0001.parquet"
	_, err = manifest.UpdateRecord(ctx, st, "t", day, func(r *manifest.Record) (*manifest.Record, error) {
		r.Claims = append(r.Claims, manifest.Claim{Output: compacted, Sources: []string{
			key("/data/a.jsonl", 0, 0), key("/data/a.jsonl", 3, 0),
		}, Claimed: time.Now(), Switched: time.Now()})
		return r, nil
	})
	require.NoError(t, err)
	listed := []string{
		compacted,
		key("/data/a.jsonl", 7, 1), // a's file the compaction left
		key("/data/b.jsonl", 0, 0),
		key("/data/b.jsonl", 3, 0), // b's file cut elsewhere now
	}
	require.NoError(t, manifest.Update(ctx, st, "t", day, func([]string) ([]string, bool, error) { return listed, true, nil }))

	l := manifest.NewDeferredLister(st)
	written := []string{
		key("/data/a.jsonl", 0, 0), // claimed: its rows are in the compacted file
		key("/data/a.jsonl", 2, 0), // new: a's rows cut elsewhere
		key("/data/a.jsonl", 5, 0),
		key("/data/b.jsonl", 0, 0),
		key("/data/b.jsonl", 4, 0),
	}
	for _, k := range written {
		require.NoError(t, l.Add(ctx, []sink.WrittenFile{{Key: k, Table: "t", Partition: day}}))
	}
	l.Supersede("t", day, stemOf("/data/a.jsonl"))
	l.Supersede("t", day, stemOf("/data/b.jsonl"))
	require.NoError(t, l.Flush(ctx))
	got, err := manifest.Read(ctx, st, "t", day)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{compacted, listed[1], written[3], written[4]}, got.Keys)
}
