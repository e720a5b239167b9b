package decode

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// addFixtureSeeds adds every input fixture file to the corpus.
func addFixtureSeeds(f *testing.F) {
	_ = filepath.WalkDir(inputsDir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || strings.Contains(p, "golden") {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
			f.Add(b)
		}
		return nil
	})
}

// checkDecoded checks what any decoding may hand on, whatever the input.
func checkDecoded(t *testing.T, data []byte, plain bool) RecordFunc {
	return func(rec *ChangeRecord, rerr *RecordError) error {
		if (rec == nil) == (rerr == nil) {
			t.Fatalf("want exactly one of record and error, got %v and %v", rec, rerr)
		}
		if rerr != nil {
			_ = rerr.Error()
			if rerr.Err == nil {
				t.Fatalf("record error without a cause")
			}
			if rerr.Table != "" && !ValidTableName(rerr.Table) {
				t.Fatalf("record error hands on an invalid table %q", rerr.Table)
			}
			return nil
		}
		if !ValidTableName(rec.Table) {
			t.Fatalf("invalid table name %q handed on", rec.Table)
		}
		switch rec.EventName {
		case EventInsert, EventModify, EventRemove, EventSnapshot:
		default:
			t.Fatalf("event name %q", rec.EventName)
		}
		if rec.EventTimeMicros < 0 || rec.EventTimeMicros >= maxMicros {
			t.Fatalf("event time %d out of range", rec.EventTimeMicros)
		}
		if !utf8.ValidString(rec.EventID) || len(rec.EventID) > maxEventIDBytes {
			t.Fatalf("event ID %q handed on", rec.EventID)
		}
		if err := flatten.CheckEscapes(rec.Raw); err != nil {
			t.Fatalf("a record with a bad escape handed on: %v", err)
		}
		if name := flatten.TableName(rec.Table); len(name) == 0 || len(name) > schemas.MaxTableNameLen {
			t.Fatalf("table %q gives lake name %q", rec.Table, name)
		}
		for _, c := range []byte(rec.Sequence) {
			if c < '0' || c > '9' {
				t.Fatalf("sequence %q", rec.Sequence)
			}
		}
		if rec.Keys.IsZero() && rec.NewImage.IsZero() && rec.OldImage.IsZero() {
			t.Fatalf("record with no keys and no image")
		}
		if rec.TTLDelete && rec.EventName != EventRemove {
			t.Fatalf("TTL delete on %s", rec.EventName)
		}
		if len(rec.Raw) == 0 || plain && !bytes.Contains(data, rec.Raw) {
			t.Fatalf("Raw %q is not a part of the input", rec.Raw)
		}
		return nil
	}
}

func checkInputErr(t *testing.T, err error) {
	if err != nil && len(InputErrors(err)) == 0 {
		t.Fatalf("error that is not an *InputError: %v", err)
	}
	if err != nil {
		_ = err.Error()
	}
}

// FuzzDecode decodes any bytes in every format: nothing panics, only
// valid records are handed on, and errors are record or input errors.
func FuzzDecode(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"Records":[{"kinesis":{"sequenceNumber":"1","data":"e30="}}]}`))
	f.Add([]byte(`{"Records":[{"dynamodb":{"ApproximateCreationDateTime":1e400}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		plain := !(len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		d, err := NewDecoder(Options{Table: "fuzz-table", MaxRecordBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		checkInputErr(t, d.DecodeEvent(data, "event", checkDecoded(t, data, true)))
		for _, format := range Formats() {
			checkInputErr(t, d.Decode(context.Background(), bytes.NewReader(data), "fuzz", format, checkDecoded(t, data, plain)))
		}
		_, _ = detect(data)
	})
}

// FuzzExportManifests reads an export whose manifests are any bytes
// (summary and files manifest split at the first NUL), with real data
// files: nothing panics and every error is an input or record error.
func FuzzExportManifests(f *testing.F) {
	const dir = "export/full/AWSDynamoDB/01775001600000-a1b2c3d4"
	base := filepath.Join(inputsDir, dir)
	summary, _ := os.ReadFile(filepath.Join(base, "manifest-summary.json"))
	files, _ := os.ReadFile(filepath.Join(base, "manifest-files.json"))
	f.Add(append(append(summary, 0), files...))
	incBase := filepath.Join(inputsDir, "incremental/chat/AWSDynamoDB/01775088000000-e5f6a7b8")
	incSummary, _ := os.ReadFile(filepath.Join(incBase, "manifest-summary.json"))
	f.Add(append(append(incSummary, 0), files...))
	data := map[string][]byte{}
	entries, _ := os.ReadDir(filepath.Join(base, "data"))
	for _, e := range entries {
		data["x/data/"+e.Name()], _ = os.ReadFile(filepath.Join(base, "data", e.Name()))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sum, man, _ := bytes.Cut(in, []byte{0})
		m := newMemStore()
		for k, v := range data {
			m.put(k, v)
		}
		m.put("x/manifest-summary.json", sum)
		m.put("x/manifest-files.json", man)
		d, _ := NewDecoder(Options{})
		err := d.DecodeInput(context.Background(), Input{Kind: InputExport, Name: "x", Store: m, Key: "x"}, FormatAuto, checkDecoded(t, nil, false))
		checkInputErr(t, err)
	})
}
