package sample

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

var (
	update    = flag.Bool("update", false, "rewrite the checked-in sample under testdata/sample")
	manySeeds = flag.Bool("many-seeds", false, "check the sample set of 100 seeds, not 6")
)

// sampleDir is the checked-in sample set.
var sampleDir = filepath.Join("..", "..", "testdata", "sample")

func defaultGenerator(t testing.TB) *Generator {
	g, err := New(DefaultConfig())
	require.NoError(t, err)
	return g
}

// buildSample writes the sample set of g to memory.
func buildSample(t testing.TB, g *Generator) (*mapSink, Summary) {
	t.Helper()
	sink := newMapSink()
	sum, err := g.writeSample(context.Background(), sink)
	require.NoError(t, err)
	return sink, sum
}

func TestSampleIsDeterministic(t *testing.T) {
	g := defaultGenerator(t)
	a, sumA := buildSample(t, g)
	b, sumB := buildSample(t, g)
	require.Equal(t, a.names(), b.names())
	for _, n := range a.names() {
		require.True(t, bytes.Equal(a.files[n], b.files[n]), "file %s differs between two runs", n)
	}
	require.Equal(t, sumA, sumB)

	other, err := New(Config{Seed: 2})
	require.NoError(t, err)
	c, _ := buildSample(t, other)
	require.NotEqual(t, a.files, c.files, "another seed must give other data")
}

func TestSampleSummaryMatchesWrite(t *testing.T) {
	g := defaultGenerator(t)
	_, written := buildSample(t, g)
	sum, err := g.SampleSummary(context.Background())
	require.NoError(t, err)
	require.Equal(t, written, sum)
}

// TestCheckedInSample checks that testdata/sample is what the generator
// writes today, byte for byte (run with -update to rewrite it).
func TestCheckedInSample(t *testing.T) {
	g := defaultGenerator(t)
	if *update {
		for _, d := range []string{"lambda", "export", "incremental", "jsonl", "kinesis"} {
			require.NoError(t, os.RemoveAll(filepath.Join(sampleDir, d)))
		}
		_, err := g.WriteSample(context.Background(), sampleDir)
		require.NoError(t, err)
	}
	want, _ := buildSample(t, g)
	got := map[string][]byte{}
	var total int64
	err := filepath.WalkDir(sampleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(sampleDir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = b
		total += int64(len(b))
		return err
	})
	require.NoError(t, err, "the checked-in sample is missing: go test ./internal/sample -run TestCheckedInSample -update")
	var gotNames []string
	for n := range got {
		gotNames = append(gotNames, n)
	}
	slices.Sort(gotNames)
	require.Equal(t, want.names(), gotNames, "files of testdata/sample (rewrite with -update)")
	for _, n := range want.names() {
		require.True(t, bytes.Equal(want.files[n], got[n]), "testdata/sample/%s is stale (rewrite with -update)", n)
	}
	require.Less(t, total, int64(1<<20), "the checked-in sample must stay well under 1 MB")
}

func TestWriteSampleRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), nil, 0o644))
	_, err := defaultGenerator(t).WriteSample(context.Background(), dir)
	require.ErrorIs(t, err, ErrDirNotEmpty)
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"default config", DefaultConfig(), true},
		{"negative days", Config{Days: -1}, false},
		{"too many days", Config{Days: 400}, false},
		{"negative rooms", Config{RoomsPerDay: -3}, false},
		{"year 1900", Config{Start: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrBadConfig)
			}
		})
	}
}

// ---- reading the sample back ----

type identity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
}

type streamRecord struct {
	EventID      string `json:"eventID"`
	EventName    string `json:"eventName"`
	EventVersion string `json:"eventVersion"`
	EventSource  string `json:"eventSource"`
	AWSRegion    string `json:"awsRegion"`
	Dynamodb     struct {
		ApproximateCreationDateTime json.Number    `json:"ApproximateCreationDateTime"`
		Keys                        map[string]any `json:"Keys"`
		NewImage                    map[string]any `json:"NewImage"`
		OldImage                    map[string]any `json:"OldImage"`
		SequenceNumber              string         `json:"SequenceNumber"`
		SizeBytes                   json.Number    `json:"SizeBytes"`
		StreamViewType              string         `json:"StreamViewType"`
	} `json:"dynamodb"`
	UserIdentity   *identity `json:"userIdentity"`
	EventSourceARN string    `json:"eventSourceARN"`
}

type kinesisEvent struct {
	Records []struct {
		Kinesis struct {
			KinesisSchemaVersion        string      `json:"kinesisSchemaVersion"`
			PartitionKey                string      `json:"partitionKey"`
			SequenceNumber              string      `json:"sequenceNumber"`
			Data                        []byte      `json:"data"`
			ApproximateArrivalTimestamp json.Number `json:"approximateArrivalTimestamp"`
		} `json:"kinesis"`
		EventSource       string `json:"eventSource"`
		EventVersion      string `json:"eventVersion"`
		EventID           string `json:"eventID"`
		EventName         string `json:"eventName"`
		InvokeIdentityArn string `json:"invokeIdentityArn"`
		AWSRegion         string `json:"awsRegion"`
		EventSourceARN    string `json:"eventSourceARN"`
	} `json:"Records"`
}

type kinesisData struct {
	AWSRegion    string    `json:"awsRegion"`
	EventID      string    `json:"eventID"`
	EventName    string    `json:"eventName"`
	UserIdentity *identity `json:"userIdentity"`
	RecordFormat string    `json:"recordFormat"`
	TableName    string    `json:"tableName"`
	Dynamodb     struct {
		ApproximateCreationDateTime          json.Number    `json:"ApproximateCreationDateTime"`
		ApproximateCreationDateTimePrecision string         `json:"ApproximateCreationDateTimePrecision"`
		Keys                                 map[string]any `json:"Keys"`
		NewImage                             map[string]any `json:"NewImage"`
		OldImage                             map[string]any `json:"OldImage"`
		SizeBytes                            json.Number    `json:"SizeBytes"`
	} `json:"dynamodb"`
	EventSource string `json:"eventSource"`
}

type exportSummary struct {
	Version            string  `json:"version"`
	ExportArn          string  `json:"exportArn"`
	StartTime          string  `json:"startTime"`
	EndTime            string  `json:"endTime"`
	TableArn           string  `json:"tableArn"`
	TableID            string  `json:"tableId"`
	ExportTime         string  `json:"exportTime"`
	ExportFromTime     string  `json:"exportFromTime"`
	ExportToTime       string  `json:"exportToTime"`
	S3Bucket           string  `json:"s3Bucket"`
	S3Prefix           *string `json:"s3Prefix"`
	S3SseAlgorithm     string  `json:"s3SseAlgorithm"`
	S3SseKmsKeyID      *string `json:"s3SseKmsKeyId"`
	ManifestFilesS3Key string  `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64   `json:"billedSizeBytes"`
	ItemCount          int64   `json:"itemCount"`
	OutputFormat       string  `json:"outputFormat"`
	OutputView         string  `json:"outputView"`
	ExportType         string  `json:"exportType"`
}

type exportManifestLine struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// obs is one change as read back from an output file.
type obs struct {
	where    string
	table    string
	event    string
	micros   int64  // event time; seconds precision for DynamoDB streams
	order    string // sequence number, for ordering a key's changes
	keys     map[string]any
	new, old map[string]any
	ttl      bool
	id       string
	k        string // key(), once computed
}

func (o *obs) key() string {
	if o.k == "" {
		o.k = o.table + " " + canon(o.keys)
	}
	return o.k
}

var (
	arnRE       = regexp.MustCompile(`^arn:aws:dynamodb:ap-northeast-2:123456789012:table/([A-Za-z0-9_.-]{3,255})/stream/2026-01-01T00:00:00\.000$`)
	digitsRE    = regexp.MustCompile(`^[1-9][0-9]*$`)
	hex32RE     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	uuidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	exportIDRE  = regexp.MustCompile(`^[0-9]{14}-[0-9a-f]{8}$`)
	dataKeyRE   = regexp.MustCompile(`^AWSDynamoDB/([0-9]{14}-[0-9a-f]{8})/data/[a-z0-9]+\.(json|ion)\.gz$`)
	isoMillisRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// seqLess compares decimal sequence numbers as numbers.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// checkImages validates the keys and images of o against its event.
func checkImages(t *testing.T, o obs, tags typeTags) {
	t.Helper()
	require.NoError(t, checkItem(o.keys, tags), o.where)
	want := []string{"roomId", "sk"}
	if o.table == TableRooms {
		want = []string{"roomId"}
	}
	var got []string
	for k := range o.keys {
		got = append(got, k)
	}
	slices.Sort(got)
	require.Equal(t, want, got, "%s: key attributes", o.where)
	switch o.event {
	case eventInsert:
		require.NotNil(t, o.new, o.where)
		require.Nil(t, o.old, o.where)
	case eventModify:
		require.NotNil(t, o.new, o.where)
		require.NotNil(t, o.old, o.where)
		require.NotEqual(t, canon(o.old), canon(o.new), "%s: a MODIFY changes something", o.where)
	case eventRemove:
		require.Nil(t, o.new, o.where)
		require.NotNil(t, o.old, o.where)
	default:
		t.Fatalf("%s: event %q", o.where, o.event)
	}
	if o.ttl {
		require.Equal(t, eventRemove, o.event, "%s: TTL identity on a %s", o.where, o.event)
	}
	for _, img := range []map[string]any{o.new, o.old} {
		if img == nil {
			continue
		}
		require.NoError(t, checkItem(img, tags), o.where)
		for _, k := range want {
			require.Equal(t, canon(o.keys[k]), canon(img[k]), "%s: Keys must match the image", o.where)
		}
	}
}

// readStreamRecord checks one DynamoDB stream record.
func readStreamRecord(t *testing.T, where string, raw []byte, f File) obs {
	t.Helper()
	var r streamRecord
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r), where)
	require.Equal(t, "aws:dynamodb", r.EventSource, where)
	require.Equal(t, "1.1", r.EventVersion, where)
	require.Equal(t, "ap-northeast-2", r.AWSRegion, where)
	require.Regexp(t, hex32RE, r.EventID, where)
	m := arnRE.FindStringSubmatch(r.EventSourceARN)
	require.NotNil(t, m, "%s: eventSourceARN %q", where, r.EventSourceARN)
	require.Equal(t, "NEW_AND_OLD_IMAGES", r.Dynamodb.StreamViewType, where)
	require.Regexp(t, digitsRE, r.Dynamodb.SequenceNumber, where)
	require.True(t, len(r.Dynamodb.SequenceNumber) >= 21 && len(r.Dynamodb.SequenceNumber) <= 40, "%s: sequence %s", where, r.Dynamodb.SequenceNumber)
	size, err := r.Dynamodb.SizeBytes.Int64()
	require.NoError(t, err, where)
	require.Positive(t, size, where)
	sec, err := r.Dynamodb.ApproximateCreationDateTime.Float64()
	require.NoError(t, err, where)
	micros := int64(sec * 1e6)
	require.GreaterOrEqual(t, micros, f.From.UnixMicro()-second, "%s: time before its file's period", where)
	require.Less(t, micros, f.To.UnixMicro(), "%s: time after its file's period", where)
	o := obs{where: where, table: m[1], event: r.EventName, micros: micros, order: r.Dynamodb.SequenceNumber,
		keys: r.Dynamodb.Keys, new: r.Dynamodb.NewImage, old: r.Dynamodb.OldImage, id: r.EventID}
	if r.UserIdentity != nil {
		require.Equal(t, identity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}, *r.UserIdentity, where)
		o.ttl = true
	}
	return o
}

func gunzip(t *testing.T, where string, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err, where)
	require.Empty(t, zr.Name, "%s: gzip header must not carry a name", where)
	require.True(t, zr.ModTime.IsZero(), "%s: gzip header must not carry a time", where)
	out, err := io.ReadAll(zr)
	require.NoError(t, err, where)
	return out
}

func lines(data []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// exportRead is an export directory read through its manifests.
type exportRead struct {
	summary exportSummary
	lines   [][]byte // data lines of every data file
}

// readExport checks an export directory's manifests against its data
// files (keys, item counts, MD5) and returns its data lines.
func readExport(t *testing.T, files map[string][]byte, f File) exportRead {
	t.Helper()
	var s exportSummary
	sumPath := f.Path + "/manifest-summary.json"
	dec := json.NewDecoder(bytes.NewReader(files[sumPath]))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&s), sumPath)
	id := path.Base(f.Path)
	require.Regexp(t, exportIDRE, id)
	// The bucket root is the directory holding AWSDynamoDB/.
	root, ok := strings.CutSuffix(f.Path, "AWSDynamoDB/"+id)
	require.True(t, ok, "export path must end in AWSDynamoDB/<id>")
	root = path.Clean("./" + root)
	require.Equal(t, tableARN(f.Table), s.TableArn)
	require.Equal(t, s.TableArn+"/export/"+id, s.ExportArn)
	require.Contains(t, []string{ExportJSON, ExportION}, s.OutputFormat)
	require.Equal(t, "AWSDynamoDB/"+id+"/manifest-files.json", s.ManifestFilesS3Key)
	require.Regexp(t, uuidRE, s.TableID)
	require.NotEmpty(t, s.S3Bucket)
	require.Nil(t, s.S3Prefix)
	for _, ts := range []string{s.StartTime, s.EndTime} {
		require.Regexp(t, isoMillisRE, ts)
	}
	require.Contains(t, files, f.Path+"/_started")

	mf := files[path.Join(root, s.ManifestFilesS3Key)]
	require.NotNil(t, mf, "manifest-files.json of %s", f.Path)
	var out exportRead
	out.summary = s
	var total int64
	listed := map[string]bool{}
	for i, l := range lines(mf) {
		var m exportManifestLine
		d := json.NewDecoder(bytes.NewReader(l))
		d.DisallowUnknownFields()
		require.NoError(t, d.Decode(&m), "manifest line %d", i+1)
		require.Regexp(t, dataKeyRE, m.DataFileS3Key)
		require.Equal(t, id, dataKeyRE.FindStringSubmatch(m.DataFileS3Key)[1])
		p := path.Join(root, m.DataFileS3Key)
		data, ok := files[p]
		require.True(t, ok, "data file %s is missing", p)
		listed[p] = true
		sum := md5.Sum(data)
		require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), m.MD5Checksum, "md5Checksum of %s", p)
		require.Equal(t, hex.EncodeToString(sum[:]), m.ETag, "etag of %s", p)
		ls := lines(gunzip(t, p, data))
		if s.OutputFormat == ExportION {
			require.Equal(t, "ion", dataKeyRE.FindStringSubmatch(m.DataFileS3Key)[2])
			ls = ionLines(t, p, gunzip(t, p, data))
		} else {
			require.Equal(t, "json", dataKeyRE.FindStringSubmatch(m.DataFileS3Key)[2])
		}
		require.EqualValues(t, m.ItemCount, len(ls), "itemCount of %s", p)
		total += m.ItemCount
		out.lines = append(out.lines, ls...)
	}
	require.Equal(t, total, s.ItemCount, "summary itemCount of %s", f.Path)
	require.EqualValues(t, f.Records, total)
	for n := range files {
		if strings.HasPrefix(n, f.Path+"/data/") {
			require.True(t, listed[n], "data file %s not in the manifest", n)
		}
	}
	return out
}

// ionLines returns the items of Ion export data as DynamoDB JSON lines,
// checking that DynamoDB's text layout is kept: one item a line, each
// starting with the version marker.
func ionLines(t *testing.T, name string, data []byte) [][]byte {
	t.Helper()
	for i, l := range lines(data) {
		require.True(t, bytes.HasPrefix(l, []byte("$ion_1_0 {")), "%s line %d: %s", name, i+1, l)
	}
	r := ionexport.NewReader(bytes.NewReader(data), 0)
	var out [][]byte
	for {
		l, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err, name)
		out = append(out, bytes.Clone(l))
	}
}

// sampleState follows the items while the sample is read back in period
// order, checking that each change starts from the item as it was.
type sampleState struct {
	t        *testing.T
	items    map[string]map[string]any
	removed  map[string]bool
	reinsert int
	events   map[string]map[string]int // format -> event (REMOVE-TTL for TTL) -> count
	rows     map[string]int
}

func (s *sampleState) apply(o obs, format string) {
	t := s.t
	t.Helper()
	k := o.key()
	cur, exists := s.items[k]
	switch o.event {
	case eventInsert:
		require.False(t, exists, "%s: INSERT of an item that exists", o.where)
		if s.removed[k] {
			s.reinsert++
		}
	default:
		require.True(t, exists, "%s: %s of an item that does not exist", o.where, o.event)
		require.Equal(t, canon(cur), canon(o.old), "%s: OldImage must be the item's previous NewImage", o.where)
	}
	if o.new == nil {
		delete(s.items, k)
		s.removed[k] = true
	} else {
		s.items[k] = o.new
	}
	ev := o.event
	if o.ttl {
		ev += "-TTL"
	}
	if s.events[format] == nil {
		s.events[format] = map[string]int{}
	}
	s.events[format][ev]++
	s.rows[o.table]++
}

// applyPeriod applies stream changes read from one period: per item in
// sequence order (one item's changes are in one shard).
func (s *sampleState) applyPeriod(os []obs, format string) {
	for i := range os {
		os[i].key()
	}
	slices.SortStableFunc(os, func(a, b obs) int {
		if a.key() != b.key() {
			return strings.Compare(a.key(), b.key())
		}
		if seqLess(a.order, b.order) {
			return -1
		}
		if seqLess(b.order, a.order) {
			return 1
		}
		return 0
	})
	for _, o := range os {
		s.apply(o, format)
	}
}

func (s *sampleState) tableItems(table string) map[string]string {
	out := map[string]string{}
	for k, v := range s.items {
		if strings.HasPrefix(k, table+" ") {
			out[k] = canon(v)
		}
	}
	return out
}

// TestSampleReadsBack reads every output of the sample set with
// encoding/json, checks each against its documented shape, and replays
// the whole history in period order: every change must start from the
// item as the previous one left it, the full export must be the table as
// the first period left it, and the counts must be those of the Summary.
func TestSampleReadsBack(t *testing.T) {
	seeds := 6
	switch {
	case *manySeeds:
		seeds = 100
	case testing.Short():
		seeds = 2
	}
	for seed := range int64(seeds) {
		t.Run("seed="+strconv.FormatInt(seed, 10), func(t *testing.T) {
			g, err := New(Config{Seed: seed})
			require.NoError(t, err)
			checkSampleReadsBack(t, g)
		})
	}
}

func checkSampleReadsBack(t *testing.T, g *Generator) {
	sink, sum := buildSample(t, g)
	files := sink.files
	st := &sampleState{t: t, items: map[string]map[string]any{}, removed: map[string]bool{},
		events: map[string]map[string]int{}, rows: map[string]int{}}
	tags := typeTags{}

	// Every file belongs to an input of the Summary.
	for _, n := range sink.names() {
		found := false
		for _, f := range sum.Files {
			if n == f.Path || strings.HasPrefix(n, f.Path+"/") {
				found = true
			}
		}
		require.True(t, found, "file %s is not in the Summary", n)
	}
	byFormat := map[string][]File{}
	for _, f := range sum.Files {
		byFormat[f.Format] = append(byFormat[f.Format], f)
	}

	// Period 1: Lambda events, one shard per event.
	var p1 []obs
	shardLen := map[string]int{} // key -> sequence length (its shard)
	for _, f := range byFormat[FormatLambda] {
		var ev struct {
			Records []json.RawMessage `json:"Records"`
		}
		require.NoError(t, decodeJSON(files[f.Path], &ev), f.Path)
		require.Len(t, ev.Records, f.Records, f.Path)
		require.LessOrEqual(t, len(ev.Records), MaxLambdaRecords)
		prev := ""
		for i, raw := range ev.Records {
			o := readStreamRecord(t, f.Path+"#"+strconv.Itoa(i), raw, f)
			checkImages(t, o, tags)
			if prev != "" {
				require.True(t, seqLess(prev, o.order), "%s: sequence numbers must increase", o.where)
				require.Len(t, o.order, len(prev), "%s: one shard per event", o.where)
			}
			prev = o.order
			if l, ok := shardLen[o.key()]; ok {
				require.Equal(t, l, len(o.order), "%s: an item stays in one shard", o.where)
			}
			shardLen[o.key()] = len(o.order)
			p1 = append(p1, o)
		}
	}
	st.applyPeriod(p1, FormatLambda)
	lens := map[int]bool{}
	for _, l := range shardLen {
		lens[l] = true
	}
	require.True(t, lens[21] && lens[40], "shards with 21- and 40-digit sequence numbers, got %v", lens)

	// The full export is the tables as period 1 left them.
	for _, f := range byFormat[FormatExport] {
		ex := readExport(t, files, f)
		require.Equal(t, "2020-06-30", ex.summary.Version)
		require.Empty(t, ex.summary.ExportType)
		et, err := time.Parse(time.RFC3339Nano, ex.summary.ExportTime)
		require.NoError(t, err)
		require.Equal(t, f.From, et)
		got := map[string]string{}
		for i, l := range ex.lines {
			var line struct {
				Item map[string]any `json:"Item"`
			}
			d := json.NewDecoder(bytes.NewReader(l))
			d.UseNumber()
			d.DisallowUnknownFields()
			require.NoError(t, d.Decode(&line), "%s line %d", f.Path, i+1)
			require.NoError(t, checkItem(line.Item, tags))
			keys := map[string]any{"roomId": line.Item["roomId"]}
			if f.Table == TableMessages {
				keys["sk"] = line.Item["sk"]
			}
			o := obs{table: f.Table, keys: keys}
			k := o.key()
			require.NotContains(t, got, k, "%s: item exported twice", f.Path)
			got[k] = canon(line.Item)
		}
		require.Equal(t, st.tableItems(f.Table), got, "%s: export must be the table at export time", f.Path)
		st.rows[f.Table] += len(ex.lines)
	}

	// Period 2: incremental export, one line per changed item.
	for _, f := range byFormat[FormatIncremental] {
		ex := readExport(t, files, f)
		require.Equal(t, "2023-08-01", ex.summary.Version)
		require.Equal(t, "INCREMENTAL_EXPORT", ex.summary.ExportType)
		require.Equal(t, "NEW_AND_OLD_IMAGES", ex.summary.OutputView)
		from, err := time.Parse(time.RFC3339Nano, ex.summary.ExportFromTime)
		require.NoError(t, err)
		to, err := time.Parse(time.RFC3339Nano, ex.summary.ExportToTime)
		require.NoError(t, err)
		require.Equal(t, f.From, from)
		require.Equal(t, f.To, to)
		spellings := map[string]bool{}
		for i, l := range ex.lines {
			where := f.Path + " line " + strconv.Itoa(i+1)
			var line struct {
				Metadata struct {
					WriteTimestampMicros json.RawMessage `json:"WriteTimestampMicros"`
				} `json:"Metadata"`
				Keys     map[string]any `json:"Keys"`
				NewImage map[string]any `json:"NewImage"`
				OldImage map[string]any `json:"OldImage"`
			}
			d := json.NewDecoder(bytes.NewReader(l))
			d.UseNumber()
			d.DisallowUnknownFields()
			require.NoError(t, d.Decode(&line), where)
			micros, spelling := readWriteTimestamp(t, where, line.Metadata.WriteTimestampMicros)
			spellings[spelling] = true
			require.GreaterOrEqual(t, micros, from.UnixMicro(), where)
			require.Less(t, micros, to.UnixMicro(), where)
			o := obs{where: where, table: f.Table, keys: line.Keys, new: line.NewImage, old: line.OldImage, micros: micros}
			switch {
			case o.old == nil && o.new != nil:
				o.event = eventInsert
			case o.old != nil && o.new != nil:
				o.event = eventModify
			case o.old != nil && o.new == nil:
				o.event = eventRemove
			default:
				t.Fatalf("%s: no image", where)
			}
			checkImages(t, o, tags)
			st.apply(o, FormatIncremental)
		}
		if len(ex.lines) >= 3 && ex.summary.OutputFormat == ExportJSON {
			require.Len(t, spellings, 3, "%s: WriteTimestampMicros spelled {\"N\":...}, \"...\" and as a number", f.Path)
		}
	}

	// Period 3: stream records one per line, plain then gzip.
	require.Len(t, byFormat[FormatJSONL], 2)
	for _, f := range byFormat[FormatJSONL] {
		data := files[f.Path]
		if strings.HasSuffix(f.Path, ".gz") {
			data = gunzip(t, f.Path, data)
		}
		var p3 []obs
		for i, l := range lines(data) {
			o := readStreamRecord(t, f.Path+":"+strconv.Itoa(i+1), l, f)
			checkImages(t, o, tags)
			p3 = append(p3, o)
		}
		require.Len(t, p3, f.Records, f.Path)
		st.applyPeriod(p3, FormatJSONL)
	}

	// Period 4: Kinesis events of both tables.
	var p4 []obs
	seen := map[string]string{}
	shardOf := map[string]string{}
	dups := 0
	precisions := map[string]bool{}
	for _, f := range byFormat[FormatKinesis] {
		var ev kinesisEvent
		d := json.NewDecoder(bytes.NewReader(files[f.Path]))
		d.UseNumber()
		d.DisallowUnknownFields()
		require.NoError(t, d.Decode(&ev), f.Path)
		require.Len(t, ev.Records, f.Records)
		for i, r := range ev.Records {
			where := f.Path + "#" + strconv.Itoa(i)
			require.Equal(t, "aws:kinesis", r.EventSource, where)
			require.Equal(t, "aws:kinesis:record", r.EventName, where)
			require.Equal(t, "1.0", r.Kinesis.KinesisSchemaVersion, where)
			require.Len(t, r.Kinesis.SequenceNumber, 56, where)
			require.Regexp(t, digitsRE, r.Kinesis.SequenceNumber, where)
			shard, seq, ok := strings.Cut(r.EventID, ":")
			require.True(t, ok && strings.HasPrefix(shard, "shardId-") && seq == r.Kinesis.SequenceNumber, where)
			require.Regexp(t, `^[0-9A-F]{32}$`, r.Kinesis.PartitionKey, where)
			require.Equal(t, "arn:aws:kinesis:ap-northeast-2:123456789012:stream/chat-cdc", r.EventSourceARN, where)
			_, err := r.Kinesis.ApproximateArrivalTimestamp.Float64()
			require.NoError(t, err, where)

			var kd kinesisData
			dd := json.NewDecoder(bytes.NewReader(r.Kinesis.Data))
			dd.UseNumber()
			dd.DisallowUnknownFields()
			require.NoError(t, dd.Decode(&kd), where)
			require.Equal(t, "aws:dynamodb", kd.EventSource, where)
			require.Equal(t, "application/json", kd.RecordFormat, where)
			require.Regexp(t, uuidRE, kd.EventID, where)
			ts, err := kd.Dynamodb.ApproximateCreationDateTime.Int64()
			require.NoError(t, err, where)
			var micros int64
			switch p := kd.Dynamodb.ApproximateCreationDateTimePrecision; p {
			case "MILLISECOND":
				micros = ts * 1000
			case "MICROSECOND":
				micros = ts
			default:
				t.Fatalf("%s: precision %q", where, p)
			}
			precisions[kd.Dynamodb.ApproximateCreationDateTimePrecision] = true
			require.GreaterOrEqual(t, micros, f.From.UnixMicro(), where)
			require.Less(t, micros, f.To.UnixMicro(), where)
			if prev, ok := seen[kd.EventID]; ok {
				require.Equal(t, prev, string(r.Kinesis.Data), "%s: a redelivered record carries the same data", where)
				dups++
				st.rows[kd.TableName]++ // a replay makes a row of it too
				continue
			}
			seen[kd.EventID] = string(r.Kinesis.Data)
			o := obs{where: where, table: kd.TableName, event: kd.EventName, micros: micros,
				order: r.Kinesis.SequenceNumber, keys: kd.Dynamodb.Keys, new: kd.Dynamodb.NewImage,
				old: kd.Dynamodb.OldImage, id: kd.EventID}
			if kd.UserIdentity != nil {
				require.Equal(t, identity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}, *kd.UserIdentity, where)
				o.ttl = true
			}
			checkImages(t, o, tags)
			if s, ok := shardOf[o.key()]; ok {
				require.Equal(t, s, shard, "%s: an item stays in one Kinesis shard", where)
			}
			shardOf[o.key()] = shard
			p4 = append(p4, o)
		}
	}
	require.Equal(t, sum.KinesisDuplicates, dups)
	require.Len(t, precisions, 2, "both MILLISECOND and MICROSECOND precision")
	st.applyPeriod(p4, FormatKinesis)

	// Each period holds every kind of change.
	for _, format := range []string{FormatLambda, FormatJSONL, FormatKinesis} {
		for _, ev := range []string{eventInsert, eventModify, eventRemove, eventRemove + "-TTL"} {
			require.Positive(t, st.events[format][ev], "%s has no %s", format, ev)
		}
	}
	for _, ev := range []string{eventInsert, eventModify, eventRemove} {
		require.Positive(t, st.events[FormatIncremental][ev], "incremental export has no %s line", ev)
	}
	require.Positive(t, st.reinsert, "some item is inserted again after its removal")

	// The Summary's counts are those of the files.
	for _, ts := range sum.Tables {
		require.Equal(t, ts.LiveItems, len(st.tableItems(ts.Table)), "live items of %s", ts.Table)
		require.Equal(t, ts.Rows, st.rows[ts.Table], "rows of %s", ts.Table)
	}
	require.Positive(t, sum.Tables[0].TTLRemoves, "messages expire by TTL")
	changes := 0
	for _, ts := range sum.Tables {
		changes += ts.Inserts + ts.Modifies + ts.Removes
	}
	require.True(t, changes >= 150 && changes <= 900, "sample holds %d changes", changes)

	// The pitfalls the sample promises are there.
	var all strings.Builder
	for _, it := range st.items {
		all.WriteString(canon(it))
	}
	for _, n := range sink.names() {
		if strings.HasPrefix(n, "lambda/") || strings.HasSuffix(n, ".jsonl") {
			all.Write(files[n])
		}
	}
	text := all.String()
	for what, re := range map[string]string{
		"a 38-digit number":         `"N":"[1-9][0-9]{37}"`,
		"a Korean attribute name":   `"메모":\{"S":`,
		"a price with two decimals": `"price":\{"N":"[0-9]+\.[0-9][1-9]"\}`,
		"a price set":               `"prices":\{"NS":\["`,
		"a JSON object in a string": `"meta":\{"S":"\{\\"client\\":`,
		"an emoji":                  `🥕|😊|👍`,
		"a Korean body":             `"body":\{"S":"[^"]*[가-힣]`,
		"an empty string":           `\{"S":""\}`,
		"a map of reactions":        `"reactions":\{"M":\{"`,
		"a list of maps":            `"attachments":\{"L":\[\{"M":`,
		"a list of booleans":        `"flags":\{"L":\[\{"BOOL":`,
	} {
		require.Regexp(t, re, text, "the sample has %s", what)
	}

	// Every DynamoDB type appears.
	for _, tag := range []string{"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS"} {
		require.Positive(t, tags[tag], "no %s value in the sample", tag)
	}
}

// readWriteTimestamp reads WriteTimestampMicros in any of its spellings.
func readWriteTimestamp(t *testing.T, where string, raw json.RawMessage) (int64, string) {
	t.Helper()
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil && raw[0] != '"' {
		v, err := n.Int64()
		require.NoError(t, err, where)
		return v, "number"
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, where)
		return v, "string"
	}
	var av struct {
		N string `json:"N"`
	}
	require.NoError(t, json.Unmarshal(raw, &av), where)
	v, err := strconv.ParseInt(av.N, 10, 64)
	require.NoError(t, err, where)
	return v, "N"
}

// TestWriteExportsFormats checks that WriteExports writes the same items
// in DYNAMODB_JSON and in ION.
func TestWriteExportsFormats(t *testing.T) {
	g, err := New(DefaultConfig())
	require.NoError(t, err)
	read := func(format string) (Summary, map[string][]byte) {
		dir := t.TempDir()
		sum, err := g.WriteExports(context.Background(), dir, format)
		require.NoError(t, err)
		files := map[string][]byte{}
		require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)], err = os.ReadFile(p)
			return err
		}))
		return sum, files
	}
	js, jf := read(ExportJSON)
	is, ifl := read(ExportION)
	require.Len(t, js.Files, 4)
	require.Len(t, is.Files, 4)
	for i := range js.Files {
		jx, ix := readExport(t, jf, js.Files[i]), readExport(t, ifl, is.Files[i])
		require.Equal(t, ExportJSON, jx.summary.OutputFormat)
		require.Equal(t, ExportION, ix.summary.OutputFormat)
		require.NotEmpty(t, jx.lines)
		require.Len(t, ix.lines, len(jx.lines))
		for k := range jx.lines {
			var jv, iv map[string]any
			for _, x := range []struct {
				b []byte
				v *map[string]any
			}{{jx.lines[k], &jv}, {ix.lines[k], &iv}} {
				d := json.NewDecoder(bytes.NewReader(x.b))
				d.UseNumber()
				require.NoError(t, d.Decode(x.v))
			}
			if m, ok := jv["Metadata"].(map[string]any); ok {
				// JSON spells the write time three ways; Ion as an integer.
				ts := fmt.Sprint(m["WriteTimestampMicros"])
				if n, ok := m["WriteTimestampMicros"].(map[string]any); ok {
					ts = fmt.Sprint(n["N"])
				}
				m["WriteTimestampMicros"] = map[string]any{"N": ts}
			}
			require.Equal(t, jv, iv, "%s line %d", js.Files[i].Path, k+1)
		}
	}
	_, err = g.WriteExports(context.Background(), t.TempDir(), "CSV")
	require.ErrorIs(t, err, ErrBadConfig)
}
