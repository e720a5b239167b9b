package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/eventtest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// lakeRows reads every row of every Parquet file of the lake at dir, by
// lake table: each row maps its file's columns to their values (strings,
// int64, bool; lists as []any; null cells left out).
func lakeRows(t testing.TB, dir string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	files, err := filepath.Glob(filepath.Join(dir, "*", "dt=*", "*.parquet"))
	require.NoError(t, err)
	hourly, err := filepath.Glob(filepath.Join(dir, "*", "dt=*", "hr=*", "*.parquet"))
	require.NoError(t, err)
	for _, path := range append(files, hourly...) {
		rel, _ := filepath.Rel(dir, path)
		table := strings.Split(rel, string(filepath.Separator))[0]
		body, err := os.ReadFile(path)
		require.NoError(t, err)
		f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		require.NoError(t, err, path)
		cols := f.Schema().Columns()
		for _, rg := range f.RowGroups() {
			rows := rg.Rows()
			buf := make([]parquet.Row, 16)
			for {
				n, err := rows.ReadRows(buf)
				for _, r := range buf[:n] {
					m := map[string]any{}
					for _, v := range r {
						name := cols[v.Column()][0]
						if v.IsNull() {
							continue
						}
						var x any
						switch v.Kind() {
						case parquet.ByteArray:
							x = string(v.ByteArray())
						case parquet.Int64:
							x = v.Int64()
						case parquet.Boolean:
							x = v.Boolean()
						default:
							x = v.String()
						}
						if len(cols[v.Column()]) > 1 {
							l, _ := m[name].([]any)
							m[name] = append(l, x)
						} else {
							m[name] = x
						}
					}
					out[table] = append(out[table], m)
				}
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
			}
			require.NoError(t, rows.Close())
		}
	}
	return out
}

// quarantined counts the lines of the lake's quarantine files, by
// error_kind, leaving out _errors/_inputs.
func quarantined(t testing.TB, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	_ = filepath.WalkDir(filepath.Join(dir, sink.ErrorsDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, sink.InputsDir) {
			return err
		}
		fh, err := os.Open(p)
		require.NoError(t, err)
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var e struct {
				Kind string `json:"error_kind"`
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
			out[e.Kind]++
		}
		require.NoError(t, sc.Err())
		return nil
	})
	return out
}

// faultyStore is a real store that fails the Puts of data files (or of
// every object) on demand, as an S3 outage would.
type faultyStore struct {
	sink.Store
	mu   sync.Mutex
	fail func(key string) bool
}

var errInjected = errors.New("injected store failure")

func (s *faultyStore) Put(ctx context.Context, key string, body []byte) error {
	s.mu.Lock()
	fail := s.fail != nil && s.fail(key)
	s.mu.Unlock()
	if fail {
		return &sink.KeyError{Op: "put", Key: key, Err: errInjected}
	}
	return s.Store.Put(ctx, key, body)
}

func (s *faultyStore) PutIf(ctx context.Context, key string, body []byte, ifVersion string) (string, error) {
	s.mu.Lock()
	fail := s.fail != nil && s.fail(key)
	s.mu.Unlock()
	if fail {
		return "", &sink.KeyError{Op: "putif", Key: key, Err: errInjected}
	}
	return s.Store.PutIf(ctx, key, body, ifVersion)
}

// poisonConfig exercises the rules a poison record meets: a declared
// decimal, a masked and an expanded attribute, hourly partitions, a
// routing rule.
const poisonConfig = `
tables:
  chat-messages:
    columns:
      price: decimal(12,2)
    mask: [secret]
    expand: [meta]
    routes:
      - {table: notices, attribute: sk, prefix: "NOTICE#"}
  chat-rooms:
    partition: hour
`

func poisonProcessor(t testing.TB, dir string) (*Processor, *faultyStore) {
	t.Helper()
	cfg, err := ParseConfig([]byte(poisonConfig))
	require.NoError(t, err)
	require.NoError(t, cfg.SetMaskKey([]byte("poison-test-mask-key-of-32-bytes")))
	base, err := localstore.New(dir)
	require.NoError(t, err)
	store := &faultyStore{Store: base}
	return &Processor{Config: cfg, Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)}, store
}

// goodElements are three good records of a Lambda event, of two tables,
// with event IDs that name them; the last is hourly (eventtest.Good).
func goodElements(t testing.TB) []string { return eventtest.Good(t) }

// goodTables are the lake tables of goodElements, by event ID.
var goodTables = map[string]string{"good-0": "chat_messages", "good-1": "chat_messages", "good-2": "chat_rooms"}

// processEvent decodes a Lambda payload into a batch, as the Lambda
// does, and processes it. It reports false when the payload is not an
// event document at all (not a record-level case).
func processEvent(t testing.TB, p *Processor, payload []byte) (Result, error, bool) {
	t.Helper()
	b := &Batch{ID: "poison-batch"}
	err := decode.Event(payload, "event", func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
		if rerr != nil {
			b.Errors = append(b.Errors, rerr)
		} else {
			b.Records = append(b.Records, rec)
		}
		return nil
	})
	if err != nil {
		return Result{}, nil, false
	}
	res, perr := p.Process(context.Background(), b)
	return res, perr, true
}

// requireGoodLanded checks the property: no error, nothing failed, every
// record a row or set aside (and so many quarantine lines), and every
// good record's row in its table.
func requireGoodLanded(t testing.TB, dir string, res Result, err error, what string) {
	t.Helper()
	require.NoError(t, err, what)
	require.Equal(t, -1, res.FirstFailed, what)
	require.Equal(t, res.Records, res.Rows+res.SetAside, what)
	q := 0
	for _, n := range quarantined(t, dir) {
		q += n
	}
	require.Equal(t, res.SetAside, q, "%s: every set-aside record is in the quarantine", what)
	rows := lakeRows(t, dir)
	for id, table := range goodTables {
		found := false
		for _, r := range rows[table] {
			if r["_event_id"] == id {
				found = true
				break
			}
		}
		require.True(t, found, "%s: good record %s in %s", what, id, table)
	}
}

// poisonElements are records at the edges of every range that becomes a
// path, a file name, a partition, a Parquet value or an S3 key
// (eventtest.Poison).
func poisonElements(t testing.TB) map[string]string { return eventtest.Poison(t) }

// TestProcessorPoisonNeverFailsABatch puts each poison record in the
// middle of good records, runs the batch through the Processor into a
// real local lake, and checks that the good records land, that nothing
// fails, and that the poison is a row or a quarantine line.
func TestProcessorPoisonNeverFailsABatch(t *testing.T) {
	good := goodElements(t)
	for name, poison := range poisonElements(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p, _ := poisonProcessor(t, dir)
			payload := event(good[0], poison, good[1], poison, good[2])
			res, err, ok := processEvent(t, p, payload)
			require.True(t, ok, "a well-formed event")
			requireGoodLanded(t, dir, res, err, name)
			// A retried batch does the same.
			res2, err, _ := processEvent(t, p, payload)
			requireGoodLanded(t, dir, res2, err, name+" (retried)")
			require.Equal(t, res.Rows, res2.Rows)
		})
	}
}

// TestProcessorStoreFailuresStillSurface checks the other side: a store
// that fails makes Process report the records it could not deliver.
func TestProcessorStoreFailuresStillSurface(t *testing.T) {
	good := goodElements(t)
	payload := event(good[0], poisonElements(t)["year 10000 seconds"], good[1], good[2])
	for _, c := range []struct {
		name  string
		fail  func(key string) bool
		first int
	}{
		{"data files of one table", func(k string) bool { return strings.HasPrefix(k, "chat_rooms/") }, 3},
		{"every data file", func(k string) bool { return strings.HasSuffix(k, ".parquet") }, 0},
		{"the quarantine", func(k string) bool { return strings.HasPrefix(k, sink.ErrorsDir+"/") }, 1},
		{"the registry", func(k string) bool { return strings.HasPrefix(k, sink.MetaDir+"/") }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p, store := poisonProcessor(t, dir)
			store.fail = c.fail
			res, err, ok := processEvent(t, p, payload)
			require.True(t, ok)
			require.Error(t, err)
			require.Equal(t, c.first, res.FirstFailed)
		})
	}
}

// TestStreamViewTypesInTheLake checks what each stream view type gives
// in the lake, for each event name: the data columns never show an
// earlier state as the current one, and nothing a record carries is
// dropped (an OLD_IMAGE MODIFY's old image is in _old_image).
func TestStreamViewTypesInTheLake(t *testing.T) {
	t.Parallel()
	keys := `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"}}`
	newImg := `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"},"body":{"S":"after"},"secret":{"S":"pw"}}`
	oldImg := `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"},"body":{"S":"before"},"secret":{"S":"pw"},"gone":{"N":"1"}}`
	type want struct {
		body string // the body column; "" for none
		old  bool   // _old_image holds the old image
	}
	views := map[string]map[string]want{
		"KEYS_ONLY":          {decode.EventInsert: {}, decode.EventModify: {}, decode.EventRemove: {}},
		"NEW_IMAGE":          {decode.EventInsert: {body: "after"}, decode.EventModify: {body: "after"}, decode.EventRemove: {}},
		"OLD_IMAGE":          {decode.EventInsert: {}, decode.EventModify: {old: true}, decode.EventRemove: {body: "before"}},
		"NEW_AND_OLD_IMAGES": {decode.EventInsert: {body: "after"}, decode.EventModify: {body: "after"}, decode.EventRemove: {body: "before"}},
	}
	for view, events := range views {
		for ev, w := range events {
			t.Run(view+" "+ev, func(t *testing.T) {
				ddb := map[string]string{"StreamViewType": `"` + view + `"`, "Keys": keys, "NewImage": "", "OldImage": ""}
				hasNew := (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES") && ev != decode.EventRemove
				hasOld := (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES") && ev != decode.EventInsert
				if hasNew {
					ddb["NewImage"] = newImg
				}
				if hasOld {
					ddb["OldImage"] = oldImg
				}
				dir := t.TempDir()
				p, _ := poisonProcessor(t, dir)
				res, err, _ := processEvent(t, p, event(streamRecord(map[string]string{"eventName": `"` + ev + `"`}, ddb)))
				require.NoError(t, err)
				require.Equal(t, 1, res.Rows)
				rows := lakeRows(t, dir)["chat_messages"]
				require.Len(t, rows, 1)
				r := rows[0]
				require.Equal(t, ev, r["_event_name"])
				require.Equal(t, "room-1", r["room_id"], "the keys are always in their columns")
				require.Equal(t, "MSG#1", r["sk"])
				if w.body == "" {
					require.NotContains(t, r, "body")
				} else {
					require.Equal(t, w.body, r["body"])
				}
				if !w.old {
					require.NotContains(t, r, "_old_image")
					return
				}
				var old map[string]map[string]string
				require.NoError(t, json.Unmarshal([]byte(r["_old_image"].(string)), &old))
				require.Equal(t, "before", old["body"]["S"])
				require.Equal(t, "1", old["gone"]["N"])
				require.Equal(t, "room-1", old["roomId"]["S"])
				require.NotEqual(t, "pw", old["secret"]["S"], "mask rules apply to the old image")
				mac := hmac.New(sha256.New, []byte("poison-test-mask-key-of-32-bytes"))
				mac.Write([]byte("pw"))
				require.Equal(t, hex.EncodeToString(mac.Sum(nil)), old["secret"]["S"], "the mask the row would hold")
			})
		}
	}
}

// fuzzDir is a new lake directory for one fuzz input: in memory
// (/dev/shm) where there is one, so that the store's fsyncs cost nothing
// and the fuzzer runs many inputs, else a temporary directory.
func fuzzDir(t *testing.T) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ddblake-fuzz-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// FuzzProcessor runs arbitrary records, mixed with good ones, through the
// Processor into a real local lake, in every input format: the good
// records always land and no error is returned (only a store failure may
// return one).
func FuzzProcessor(f *testing.F) {
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		// Fuzzing: start from every poison record (a plain test run has
		// TestProcessorPoisonNeverFailsABatch for them, and runs the
		// corpus in testdata/fuzz only).
		for _, p := range poisonElements(f) {
			if len(p) < 64<<10 {
				f.Add([]byte(p), uint8(0))
			}
		}
	}
	f.Add([]byte(`{"Item":{"id":{"S":"\ud800"}}}`), uint8(3))
	f.Add([]byte(`{"Metadata":{"WriteTimestampMicros":253402300800000000},"Keys":{"roomId":{"S":"r"}}}`), uint8(4))
	f.Add([]byte(kinesisData(nil, map[string]string{"ApproximateCreationDateTime": year10000Millis})), uint8(2))
	f.Add([]byte(streamRecord(nil, map[string]string{"ApproximateCreationDateTime": year10000Seconds})), uint8(1))
	good := goodElements(f)
	goodItems := []string{
		`{"Item":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"n":{"N":"1"}}}`,
		`{"Item":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0002"},"body":{"S":"x"}}}`,
	}
	goodIncremental := []string{
		`{"Metadata":{"WriteTimestampMicros":1775001600000000},"Keys":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"}},"NewImage":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"},"n":{"N":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":1775001600000001},"Keys":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#2"}},"OldImage":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#2"}}}`,
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		dir := fuzzDir(t)
		p, _ := poisonProcessor(t, dir)
		if mode%5 == 0 || mode%5 == 2 {
			elem := string(data)
			if mode%5 == 2 {
				elem = kinesisRecord(t, "9", string(data))
			}
			res, err, ok := processEvent(t, p, event(good[0], elem, good[1], elem, good[2]))
			if !ok {
				return // not an event document: no record to speak of
			}
			requireGoodLanded(t, dir, res, err, "event")
			return
		}
		// Line formats: the fuzzed bytes as one line (or several) between
		// good lines; the good lines' rows land.
		var lines []string
		format := decode.FormatJSONL
		switch mode % 5 {
		case 1:
			lines = []string{good[0], string(data), good[1]}
		case 3:
			format, lines = decode.FormatExport, []string{goodItems[0], string(data), goodItems[1]}
		case 4:
			format, lines = decode.FormatIncremental, []string{goodIncremental[0], string(data), goodIncremental[1]}
		}
		d, err := decode.NewDecoder(decode.Options{Table: "chat-messages", ExportTime: time.Unix(1775001600, 0)})
		require.NoError(t, err)
		b := &Batch{ID: "fuzz-lines"}
		derr := d.Decode(context.Background(), strings.NewReader(strings.Join(lines, "\n")), "fuzz.jsonl", format, func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
			if rerr != nil {
				b.Errors = append(b.Errors, rerr)
			} else {
				b.Records = append(b.Records, rec)
			}
			return nil
		})
		if derr != nil {
			require.NotEmpty(t, decode.InputErrors(derr), "only input errors: %v", derr)
		}
		res, err := p.Process(context.Background(), b)
		require.NoError(t, err)
		require.Equal(t, -1, res.FirstFailed)
		require.Equal(t, res.Records, res.Rows+res.SetAside)
		rows := lakeRows(t, dir)["chat_messages"]
		// The first and last lines are good whatever the middle holds
		// (a line break in the data only adds lines between them).
		require.GreaterOrEqual(t, len(rows), 2, "the good lines land")
	})
}
