package decode

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memStore is an ObjectReader over a map, shaped like an S3 bucket:
// keys with ETags, no directories.
type memStore struct {
	objects map[string][]byte
	opens   map[string]int
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, opens: map[string]int{}}
}

func (m *memStore) put(key string, b []byte) { m.objects[key] = b }

func (m *memStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	b, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, fs.ErrNotExist)
	}
	m.opens[key]++
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	b, ok := m.objects[key]
	if !ok {
		return ObjectInfo{}, fmt.Errorf("head %s: %w", key, fs.ErrNotExist)
	}
	sum := md5.Sum(b)
	return ObjectInfo{Key: key, Size: int64(len(b)), ETag: hex.EncodeToString(sum[:])}, nil
}

func (m *memStore) List(ctx context.Context, dir string) ([]ObjectInfo, error) {
	prefix := dir
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var out []ObjectInfo
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			info, _ := m.Stat(ctx, k)
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// copyTree copies the fixture directory src into the store under prefix.
func copyTree(t *testing.T, m *memStore, src, prefix string) {
	t.Helper()
	root := filepath.Join(inputsDir, src)
	require.NoError(t, filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		m.put(prefix+filepath.ToSlash(rel), b)
		return nil
	}))
}

// copyDir copies the fixture directory src to dst on disk.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	root := filepath.Join(inputsDir, src)
	require.NoError(t, filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return writeFile(filepath.Join(dst, rel), b)
	}))
}

func TestResolveLocal(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"b.jsonl":           string(readFixture(t, "jsonl/stream.jsonl")),
		"a/1.json":          string(readFixture(t, "lambda/chat_stream.json")),
		"a.json":            string(readFixture(t, "lambda/keys_only.json")),
		"a/z/2.jsonl.gz":    string(readFixture(t, "jsonl/stream.jsonl.gz")),
		".hidden/x.json":    "not read",
		"a/.DS_Store":       "not read",
		"a/_SUCCESS":        "",
		"c/_temporary/x.gz": "not read",
	} {
		require.NoError(t, writeFile(filepath.Join(dir, name), []byte(content)))
	}
	copyDir(t, "export/full", filepath.Join(dir, "a", "exp"))
	copyDir(t, "incremental/chat", filepath.Join(dir, "c", "inc"))

	ctx := context.Background()
	r := Resolver{}
	ins, err := r.Resolve(ctx, dir)
	require.NoError(t, err)
	var got []string
	for _, in := range ins {
		rel, _ := filepath.Rel(dir, in.Name)
		got = append(got, fmt.Sprintf("%d %s", in.Kind, filepath.ToSlash(rel)))
	}
	require.Equal(t, []string{
		"0 a.json",
		"0 a/1.json",
		"1 a/exp/AWSDynamoDB/01775001600000-a1b2c3d4",
		"0 a/z/2.jsonl.gz",
		"0 b.jsonl",
		"1 c/inc/AWSDynamoDB/01775088000000-e5f6a7b8",
	}, got, "lexical order of keys; exports once, in place; hidden and marker files skipped")

	// Identity: the path with the size; the export's by its summary.
	for _, in := range ins {
		require.NotEmpty(t, in.Identity())
		require.Contains(t, in.Identity(), in.Name)
		if in.Kind == InputFile {
			fi, err := os.Stat(in.Name)
			require.NoError(t, err)
			require.Equal(t, fi.Size(), in.Size)
			require.Equal(t, fmt.Sprintf("%s#size=%d", in.Name, fi.Size()), in.Identity())
		}
	}

	// Decoding everything reads each record once: the walk does not read
	// the export's data files again.
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	total := 0
	for _, in := range ins {
		require.NoError(t, d.DecodeInput(ctx, in, FormatAuto, func(rec *ChangeRecord, rerr *RecordError) error {
			require.Nil(t, rerr)
			total++
			return nil
		}))
	}
	require.Equal(t, 3+5+12+8+8+5, total)

	// A path to a manifest-summary.json names its export; a file is
	// itself; a missing path is an error naming it.
	ins, err = r.Resolve(ctx, filepath.Join(dir, "a/exp/AWSDynamoDB/01775001600000-a1b2c3d4/manifest-summary.json"), filepath.Join(dir, "b.jsonl"))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	require.Equal(t, InputExport, ins[0].Kind)
	require.Equal(t, filepath.Join(dir, "a/exp/AWSDynamoDB/01775001600000-a1b2c3d4"), ins[0].Name)
	require.Equal(t, InputFile, ins[1].Kind)
	_, err = r.Resolve(ctx, filepath.Join(dir, "nope.json"))
	require.ErrorIs(t, err, ErrNotFound)
	require.Contains(t, err.Error(), "nope.json")

	// An export directory given directly is an export.
	ins, err = r.Resolve(ctx, filepath.Join(dir, "a", "exp"))
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, InputExport, ins[0].Kind)
}

func TestResolveStdinAndS3(t *testing.T) {
	ctx := context.Background()
	_, err := (&Resolver{}).Resolve(ctx, "-")
	require.ErrorIs(t, err, ErrNoStore)
	_, err = (&Resolver{}).Resolve(ctx, "s3://bucket/x")
	require.ErrorIs(t, err, ErrNoStore)

	stdin := bytes.NewReader(readFixture(t, "jsonl/stream.jsonl.gz"))
	store := newMemStore()
	copyTree(t, store, "export/full", "exports/2026-04-01/")
	store.put("exports/2026-04-01/_started", nil)
	store.put("streams/2026/04/01/events-1.json", readFixture(t, "lambda/chat_stream.json"))
	store.put("streams/2026/04/01/events-2.jsonl", readFixture(t, "jsonl/stream.jsonl"))
	r := Resolver{
		Stdin: stdin,
		S3: func(ctx context.Context, bucket string) (ObjectReader, error) {
			require.Equal(t, "chat-lake", bucket)
			return store, nil
		},
	}
	ins, err := r.Resolve(ctx, "-", "s3://chat-lake/exports/2026-04-01/", "s3://chat-lake/streams/2026/04/01/events-1.json", "s3://chat-lake/streams")
	require.NoError(t, err)
	var names []string
	for _, in := range ins {
		names = append(names, in.Name)
	}
	require.Equal(t, []string{
		"-",
		"s3://chat-lake/exports/2026-04-01/AWSDynamoDB/01775001600000-a1b2c3d4",
		"s3://chat-lake/streams/2026/04/01/events-1.json",
		"s3://chat-lake/streams/2026/04/01/events-1.json",
		"s3://chat-lake/streams/2026/04/01/events-2.jsonl",
	}, names)
	require.Equal(t, "-", ins[0].Identity())
	etag := md5.Sum(readFixture(t, "lambda/chat_stream.json"))
	require.Equal(t, "s3://chat-lake/streams/2026/04/01/events-1.json#etag="+hex.EncodeToString(etag[:]), ins[2].Identity())

	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	counts := make([]int, len(ins))
	var sources []string
	for i, in := range ins {
		require.NoError(t, d.DecodeInput(ctx, in, FormatAuto, func(rec *ChangeRecord, rerr *RecordError) error {
			require.Nil(t, rerr)
			counts[i]++
			if i == 1 && rec.Index == 1 {
				sources = append(sources, rec.Source)
			}
			return nil
		}))
	}
	require.Equal(t, []int{8, 12, 5, 5, 8}, counts)
	require.Equal(t, []string{
		"s3://chat-lake/exports/2026-04-01/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz",
		"s3://chat-lake/exports/2026-04-01/AWSDynamoDB/01775001600000-a1b2c3d4/data/q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz",
		"s3://chat-lake/exports/2026-04-01/AWSDynamoDB/01775001600000-a1b2c3d4/data/mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz",
	}, sources, "records name their data file, in manifest order")
}

func TestLocalFS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, writeFile(filepath.Join(dir, "x", "b.json"), []byte("{}")))
	require.NoError(t, writeFile(filepath.Join(dir, "x", "a", "c.json"), []byte("{}")))
	require.NoError(t, writeFile(filepath.Join(dir, "x.json"), []byte("{}")))
	fsys := LocalFS{Root: dir}
	list, err := fsys.List(ctx, "x")
	require.NoError(t, err)
	require.Equal(t, "x/a/c.json", list[0].Key)
	require.Equal(t, "x/b.json", list[1].Key)
	require.Len(t, list, 2)
	all, err := fsys.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	none, err := fsys.List(ctx, "missing")
	require.NoError(t, err)
	require.Empty(t, none)
	_, err = fsys.Open(ctx, "missing.json")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = fsys.Stat(ctx, "x")
	require.Error(t, err, "a directory is not an object")
	info, err := fsys.Stat(ctx, "x.json")
	require.NoError(t, err)
	require.Equal(t, int64(2), info.Size)
	require.WithinDuration(t, time.Now(), info.ModTime, time.Hour)
}

// exportRecords decodes one export through the resolver.
func exportRecords(t *testing.T, store ObjectReader, key string) (*collected, []*InputError) {
	t.Helper()
	ins, err := resolveIn(context.Background(), store, key, "")
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, InputExport, ins[0].Kind)
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	var c collected
	c.err = d.DecodeInput(context.Background(), ins[0], FormatAuto, c.fn)
	return &c, InputErrors(c.err)
}

func TestExport(t *testing.T) {
	local := LocalFS{Root: inputsDir}
	const id = "01775001600000-a1b2c3d4"
	dataFile := func(c, name string) string {
		return "export/" + c + "/AWSDynamoDB/" + id + "/data/" + name
	}

	c, ies := exportRecords(t, local, "export/full")
	require.NoError(t, c.err)
	require.Empty(t, c.errs)
	require.Len(t, c.recs, 12)
	for _, rec := range c.recs {
		require.Equal(t, "chat-messages", rec.Table)
		require.Equal(t, EventSnapshot, rec.EventName)
		require.Equal(t, micros("2026-04-01T00:00:00Z"), rec.EventTimeMicros, "exportTime")
		require.Empty(t, rec.Sequence)
		require.Empty(t, rec.EventID)
		require.True(t, rec.Keys.IsZero())
		require.True(t, rec.OldImage.IsZero())
		require.NotZero(t, rec.NewImage.Len())
		require.True(t, bytes.HasPrefix(rec.Raw, []byte(`{"Item":`)))
	}
	require.Equal(t, dataFile("full", "xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz"), c.recs[0].Source)
	require.Equal(t, 1, c.recs[0].Index)
	require.Equal(t, 5, c.recs[4].Index)

	cases := []struct {
		name     string
		good     int
		setAside int
		err      error
		file     string
	}{
		{"bad_md5", 8, 4, ErrChecksum, dataFile("bad_md5", "q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz")},
		{"bad_count", 7, 5, ErrItemCount, dataFile("bad_count", "xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz")},
		{"missing_file", 9, 0, ErrMissingFile, dataFile("missing_file", "mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz")},
		{"corrupt_gzip", 34, 0, ErrCorruptGzip, dataFile("corrupt_gzip", "k7w2pq9xzt4rmb6nd3cyv5ehaf.json.gz")},
		{"ion", 12, 0, nil, ""},
		{"ion_binary", 12, 0, nil, ""},
		{"ion_bad_md5", 8, 4, ErrChecksum, dataFile("ion_bad_md5", "q4n6zb2kwe5dtlsyc7xh3ujvpa.ion.gz")},
		{"ion_bad_count", 7, 5, ErrItemCount, dataFile("ion_bad_count", "xyz3fxa5rm3hplhyqvxlrmfxtm.ion.gz")},
		{"bad_table", 0, 12, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ies := exportRecords(t, local, "export/"+tc.name)
			require.Len(t, c.recs, tc.good)
			require.Len(t, c.errs, tc.setAside)
			if tc.err == nil {
				require.NoError(t, c.err)
			} else {
				require.Len(t, ies, 1)
				require.ErrorIs(t, ies[0], tc.err)
				require.Equal(t, tc.file, ies[0].Source, "the error names the file")
				require.Contains(t, ies[0].Error(), tc.file)
			}
			for _, rerr := range c.errs {
				require.NotEmpty(t, rerr.Raw, "set-aside records keep their line")
				if tc.err != nil {
					require.ErrorIs(t, rerr, tc.err)
					require.Equal(t, tc.file, rerr.Source)
					require.Equal(t, "chat-messages", rerr.Table)
				} else {
					require.ErrorIs(t, rerr, ErrBadTable)
					require.Empty(t, rerr.Table)
				}
			}
		})
	}
	if ies != nil {
		t.Fatalf("unexpected: %v", ies)
	}
}

func TestIncrementalExport(t *testing.T) {
	c, ies := exportRecords(t, LocalFS{Root: inputsDir}, "incremental/chat")
	require.Empty(t, ies)
	require.NoError(t, c.err)
	require.Empty(t, c.errs)
	want := []struct {
		event, time    string
		hasNew, hasOld bool
	}{
		{EventInsert, "2026-04-01T00:00:00.123456Z", true, false}, // {"N":"..."}
		{EventModify, "2026-04-01T00:01:40.000001Z", true, true},  // "..."
		{EventRemove, "2026-04-01T00:03:20.999999Z", false, true}, // number
		{EventInsert, "2026-04-01T00:06:40Z", true, false},
		{EventRemove, "2026-04-01T00:08:20.5Z", false, false},
	}
	require.Len(t, c.recs, len(want))
	for i, w := range want {
		rec := c.recs[i]
		require.Equal(t, w.event, rec.EventName, "record %d", i)
		require.Equal(t, micros(w.time), rec.EventTimeMicros, "record %d", i)
		require.Equal(t, w.hasNew, !rec.NewImage.IsZero())
		require.Equal(t, w.hasOld, !rec.OldImage.IsZero())
		require.NotZero(t, rec.Keys.Len())
		require.Equal(t, "chat-messages", rec.Table)
		require.Empty(t, rec.Sequence)
	}

	bad := []struct {
		name, line string
		err        error
		path       string
	}{
		{"no metadata", `{"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`, ErrBadRecord, "Metadata"},
		{"bad time", `{"Metadata":{"WriteTimestampMicros":{"S":"1"}},"Keys":{"id":{"S":"1"}}}`, ErrBadTime, "Metadata.WriteTimestampMicros"},
		{"time words", `{"Metadata":{"WriteTimestampMicros":"soon"},"Keys":{"id":{"S":"1"}}}`, ErrBadTime, "Metadata.WriteTimestampMicros"},
		{"no keys", `{"Metadata":{"WriteTimestampMicros":1},"NewImage":{"id":{"S":"1"}}}`, ErrBadRecord, "Keys"},
		{"bad value", `{"Metadata":{"WriteTimestampMicros":1},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"},"n":{"N":"1.2.3"}}}`, nil, "NewImage.n"},
	}
	d, err := NewDecoder(Options{Table: "chat-messages"})
	require.NoError(t, err)
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			var c collected
			require.NoError(t, d.Decode(context.Background(), strings.NewReader(b.line), "inc.json", FormatIncremental, c.fn))
			require.Len(t, c.errs, 1)
			if b.err != nil {
				require.ErrorIs(t, c.errs[0], b.err)
			}
			require.Equal(t, b.path, c.errs[0].Path)
		})
	}
}

func TestExportDataFileAlone(t *testing.T) {
	data := readFixture(t, "export/full/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz")
	c := decodeReader(t, bytes.NewReader(data), "part.json.gz", FormatAuto, Options{})
	require.ErrorIs(t, c.err, ErrNoTable)
	require.Empty(t, c.all)
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	c = decodeReader(t, bytes.NewReader(data), "part.json.gz", FormatAuto, Options{Table: "chat-messages", ExportTime: at})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 5)
	require.Equal(t, at.UnixMicro(), c.recs[0].EventTimeMicros)
	require.Equal(t, EventSnapshot, c.recs[0].EventName)
}

func TestExportManifests(t *testing.T) {
	full := newMemStore()
	copyTree(t, full, "export/full/AWSDynamoDB/01775001600000-a1b2c3d4", "x/")
	files := string(full.objects["x/manifest-files.json"])
	lines := strings.Split(strings.TrimSpace(files), "\n")

	cases := []struct {
		name   string
		edit   func(m *memStore)
		good   int
		err    error
		source string
		line   int
	}{
		{"summary not JSON", func(m *memStore) { m.put("x/manifest-summary.json", []byte("{")) }, 0, ErrBadManifest, "x/manifest-summary.json", 0},
		{"summary missing", func(m *memStore) { delete(m.objects, "x/manifest-summary.json") }, 0, ErrBadManifest, "x/manifest-summary.json", 0},
		{"files manifest missing", func(m *memStore) { delete(m.objects, "x/manifest-files.json") }, 0, ErrBadManifest, "x/manifest-files.json", 0},
		{"bad manifest line", func(m *memStore) {
			m.put("x/manifest-files.json", []byte(lines[0]+"\n{\"itemCount\":\n"+lines[2]+"\n"))
		}, 8, ErrBadManifest, "x/manifest-files.json", 2},
		{"key leaving the export", func(m *memStore) {
			m.put("x/manifest-files.json", []byte(lines[0]+"\n"+`{"itemCount":1,"dataFileS3Key":"AWSDynamoDB/01775001600000-a1b2c3d4/../../../etc/passwd"}`+"\n"))
		}, 5, ErrBadManifest, "x/manifest-files.json", 2},
		{"summary count differs", func(m *memStore) {
			m.put("x/manifest-summary.json", bytes.Replace(m.objects["x/manifest-summary.json"], []byte(`"itemCount": 12`), []byte(`"itemCount": 13`), 1))
		}, 12, ErrItemCount, "x/manifest-summary.json", 0},
		{"no exportTime", func(m *memStore) {
			m.put("x/manifest-summary.json", bytes.Replace(m.objects["x/manifest-summary.json"], []byte(`"exportTime"`), []byte(`"exportedAt"`), 1))
		}, 0, ErrBadManifest, "x/manifest-summary.json", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			for k, v := range full.objects {
				m.put(k, v)
			}
			tc.edit(m)
			d, err := NewDecoder(Options{})
			require.NoError(t, err)
			var c collected
			c.err = d.DecodeInput(context.Background(), Input{Kind: InputExport, Name: "x", Store: m, Key: "x", Size: -1}, FormatAuto, c.fn)
			require.Len(t, c.recs, tc.good)
			ies := InputErrors(c.err)
			require.Len(t, ies, 1, "%v", c.err)
			require.ErrorIs(t, ies[0], tc.err)
			require.Equal(t, tc.source, ies[0].Source)
			require.Equal(t, tc.line, ies[0].Line)
		})
	}

	// Data files are each read once (checked as they are kept, then
	// decoded from the spool), twice without a spool or past its bound;
	// the manifests once.
	data := "x/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz"
	for _, tc := range []struct {
		spool int64
		opens int
	}{{0, 1}, {-1, 2}, {int64(len(full.objects[data])), 2}} {
		m := newMemStore()
		for k, v := range full.objects {
			m.put(k, v)
		}
		d, _ := NewDecoder(Options{SpoolBytes: tc.spool})
		require.NoError(t, d.DecodeInput(context.Background(), Input{Kind: InputExport, Name: "x", Store: m, Key: "x"}, FormatAuto, func(*ChangeRecord, *RecordError) error { return nil }))
		require.Equal(t, 1, m.opens["x/manifest-summary.json"])
		require.Equal(t, tc.opens, m.opens[data], "spool bound %d", tc.spool)
	}
}

func TestDataFileRel(t *testing.T) {
	sum := exportSummary{exportID: "01775001600000-a1b2c3d4", filesKey: "exports/AWSDynamoDB/01775001600000-a1b2c3d4/manifest-files.json"}
	cases := []struct {
		key, want string
	}{
		{"exports/AWSDynamoDB/01775001600000-a1b2c3d4/data/a.json.gz", "data/a.json.gz"},
		{"AWSDynamoDB/01775001600000-a1b2c3d4/data/a.json.gz", "data/a.json.gz"},
		{"other/AWSDynamoDB/01799999999999-ffffffff/data/a.json.gz", "data/a.json.gz"},
		{"data/a.json.gz", "data/a.json.gz"},
		{"AWSDynamoDB/01775001600000-a1b2c3d4/../x", ""},
		{"AWSDynamoDB/01775001600000-a1b2c3d4//etc/passwd", ""},
		{"/etc/passwd", ""},
		{"AWSDynamoDB/01775001600000-a1b2c3d4/", ""},
	}
	for _, c := range cases {
		got, err := dataFileRel(c.key, sum)
		if c.want == "" {
			require.ErrorIs(t, err, ErrBadManifest, c.key)
			continue
		}
		require.NoError(t, err, c.key)
		require.Equal(t, c.want, got)
	}
}
