package decode

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// names lists the inputs' names.
func names(ins []Input) []string {
	out := make([]string, 0, len(ins))
	for _, in := range ins {
		out = append(out, in.Name)
	}
	return out
}

func TestUniqueLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "streams/a"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "streams/a/1.json"), readFixture(t, "lambda/chat_stream.json"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "streams/a/2.jsonl"), readFixture(t, "jsonl/stream.jsonl"), 0o644))
	require.NoError(t, os.Symlink("streams/a/1.json", filepath.Join(dir, "link.json")))
	copyDir(t, "export/full", filepath.Join(dir, "exp"))
	t.Chdir(dir)

	r := Resolver{Local: LocalFS{}}
	var ins []Input
	for _, src := range []string{
		"streams/a/1.json",
		"./streams/a/1.json",          // the same path, spelled otherwise
		filepath.Join(dir, "streams"), // the folder holding it: 2.jsonl is new
		"streams/x/../a/2.jsonl",      // read through the folder already
		"link.json",                   // a link to 1.json
		"exp/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz", // in an export given later
		"exp",
		"exp/AWSDynamoDB/01775001600000-a1b2c3d4/manifest-summary.json", // the export again
	} {
		got, err := r.Resolve(ctx, src)
		require.NoError(t, err, src)
		ins = append(ins, got...)
	}
	kept, dups := Unique(ins)
	require.Equal(t, []string{"streams/a/1.json", filepath.Join(dir, "streams/a/2.jsonl"), "exp/AWSDynamoDB/01775001600000-a1b2c3d4"}, names(kept))
	var got []string
	for _, d := range dups {
		got = append(got, d.Input.Name+" → "+d.Of)
	}
	require.Equal(t, []string{
		"streams/a/1.json → streams/a/1.json",
		filepath.Join(dir, "streams/a/1.json") + " → streams/a/1.json",
		"streams/a/2.jsonl → " + filepath.Join(dir, "streams/a/2.jsonl"),
		"link.json → streams/a/1.json",
		"exp/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz → exp/AWSDynamoDB/01775001600000-a1b2c3d4",
		"exp/AWSDynamoDB/01775001600000-a1b2c3d4 → exp/AWSDynamoDB/01775001600000-a1b2c3d4",
	}, got)
	require.True(t, dups[4].InExport)
	require.False(t, dups[5].InExport, "the same export twice is a plain duplicate")
}

func TestUniqueS3AndStdin(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	copyTree(t, store, "export/full", "exports/")
	store.put("streams/1.json", readFixture(t, "lambda/chat_stream.json"))
	store.put("streams/2.json", readFixture(t, "lambda/chat_stream.json")) // same bytes, other object
	r := Resolver{
		Stdin: os.Stdin,
		S3:    func(ctx context.Context, bucket string) (ObjectReader, error) { return store, nil },
	}
	ins, err := r.Resolve(ctx, "s3://b/streams/1.json", "s3://b/streams", "s3://other/streams/1.json", "-", "s3://b/exports/", "s3://b/exports/AWSDynamoDB/01775001600000-a1b2c3d4/data/q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz")
	require.NoError(t, err)
	kept, dups := Unique(ins)
	require.Equal(t, []string{"s3://b/streams/1.json", "s3://b/streams/2.json", "s3://other/streams/1.json", "-", "s3://b/exports/AWSDynamoDB/01775001600000-a1b2c3d4"}, names(kept),
		"objects are told apart by bucket and key, not by content")
	require.Len(t, dups, 2)
	require.Equal(t, "s3://b/streams/1.json", dups[0].Of)
	require.True(t, dups[1].InExport)
}

// TestIdentityIsWhereTheFileLives: the identity that names a replay's
// objects is the same for every name of one local file or export (from
// its folder, from the folder above, absolute, through a symbolic link),
// so that replaying it again from another working directory overwrites
// the files of the first run rather than adding its rows twice; another
// file of the same name and size has another identity.
func TestIdentityIsWhereTheFileLives(t *testing.T) {
	dir := t.TempDir()
	line := []byte(streamRecord(nil, nil) + "\n")
	require.NoError(t, writeFile(filepath.Join(dir, "in", "a.jsonl"), line))
	require.NoError(t, writeFile(filepath.Join(dir, "other", "a.jsonl"), line))
	require.NoError(t, os.Symlink(filepath.Join(dir, "in"), filepath.Join(dir, "link")))
	copyDir(t, "export/full", filepath.Join(dir, "in", "exp"))

	ctx := context.Background()
	identity := func(root, src string) string {
		t.Helper()
		r := Resolver{Local: LocalFS{Root: root}}
		ins, err := r.Resolve(ctx, src)
		require.NoError(t, err)
		require.Len(t, ins, 1)
		return ins[0].Identity()
	}
	for _, name := range []string{"a.jsonl", "exp"} {
		want := identity(filepath.Join(dir, "in"), name)
		for _, alias := range []struct{ root, src string }{
			{filepath.Join(dir, "in"), "./" + name},
			{dir, "in/" + name},
			{dir, "other/../in/" + name},
			{"", filepath.Join(dir, "in", name)},
			{filepath.Join(dir, "link"), name},
			{dir, "link/" + name},
		} {
			require.Equal(t, want, identity(alias.root, alias.src), "%s from %s", alias.src, alias.root)
		}
	}
	require.NotEqual(t, identity(dir, "in/a.jsonl"), identity(dir, "other/a.jsonl"))
}

// TestWithin: an input lies in a folder (by where the file lives) or an
// S3 prefix (by its bucket and key), not in a folder or prefix that only
// starts like it.
func TestWithin(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"lake/t/dt=2026-04-01/a.parquet", "lakes/b.jsonl", "c.jsonl"} {
		require.NoError(t, writeFile(filepath.Join(dir, f), []byte("x")))
	}
	ctx := context.Background()
	r := Resolver{Local: LocalFS{Root: dir}}
	ins, err := r.Resolve(ctx, ".")
	require.NoError(t, err)
	require.Len(t, ins, 3)
	var within []string
	for _, in := range ins {
		if Within(in, filepath.Join(dir, "lake")) {
			within = append(within, in.Name)
		}
	}
	require.Equal(t, []string{"lake/t/dt=2026-04-01/a.parquet"}, within)
	s3 := Input{Kind: InputFile, Name: "s3://b/lake/t/x.parquet"}
	require.True(t, Within(s3, "s3://b/lake"))
	require.True(t, Within(s3, "s3://b/lake/"))
	require.False(t, Within(s3, "s3://b/la"))
	require.False(t, Within(s3, filepath.Join(dir, "lake")))
}
