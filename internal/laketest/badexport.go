package laketest

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BadExport describes the export WriteBadExport writes.
type BadExport struct {
	// Dir is the export's folder (it holds manifest-summary.json).
	Dir string
	// Table is the DynamoDB table exported.
	Table string
	// Good counts the items of the data files that pass their checks;
	// Bad those of the two that do not.
	Good, Bad int
	// BadAttrs are attributes only the items of the bad files have.
	BadAttrs []string
	// GoodIDs and BadIDs are the ids of the items of each kind.
	GoodIDs, BadIDs []string
}

// WriteBadExport writes under dir a full export of five data files whose
// checks fail for two: the first lists a wrong MD5, the third a wrong
// item count. The items of the bad files have attributes no good item
// has (which must not become columns), and the first file's give an
// attribute the good items hold as a number a string value first (which
// must not type its column). Its
// items are about 250 bytes each, so that small batches cut each data
// file into several.
func WriteBadExport(t testing.TB, dir string) BadExport {
	t.Helper()
	const id = "01775001600000-badfiles"
	ex := BadExport{Dir: filepath.Join(dir, "AWSDynamoDB", id), Table: "chat-notes",
		BadAttrs: []string{"only_bad_md5", "only_bad_count"}}
	if err := os.MkdirAll(filepath.Join(ex.Dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	type file struct {
		name  string
		items int
		bad   string // "md5", "count" or ""
	}
	files := []file{{"bad-md5", 40, "md5"}, {"good-a", 60, ""}, {"bad-count", 40, "count"}, {"good-b", 60, ""}, {"good-c", 60, ""}}
	var manifest bytes.Buffer
	listed := 0
	n := 0
	for _, f := range files {
		var lines bytes.Buffer
		for i := range f.items {
			n++
			itemID := fmt.Sprintf("%s-%03d", f.name, i)
			extra := fmt.Sprintf(`,"mixed":{"N":"%d"}`, n)
			switch f.bad {
			case "md5":
				extra = fmt.Sprintf(`,"mixed":{"S":"text %d"},"only_bad_md5":{"S":"m%d"}`, n, n)
				ex.BadIDs = append(ex.BadIDs, itemID)
			case "count":
				extra = fmt.Sprintf(`,"only_bad_count":{"N":"%d"}`, n)
				ex.BadIDs = append(ex.BadIDs, itemID)
			default:
				ex.GoodIDs = append(ex.GoodIDs, itemID)
			}
			fmt.Fprintf(&lines, `{"Item":{"id":{"S":%q},"room":{"S":"room-%d"},"body":{"S":"note %d of %s, padded so that a batch of a few KiB holds a few items only"},"n":{"N":"%d"}%s}}`+"\n",
				itemID, n%7, i, f.name, i, extra)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(lines.Bytes())
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ex.Dir, "data", f.name+".json.gz"), gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(gz.Bytes())
		count := f.items
		switch f.bad {
		case "md5":
			sum = md5.Sum([]byte("another file"))
			ex.Bad += f.items
		case "count":
			count++
			ex.Bad += f.items
		default:
			ex.Good += f.items
		}
		listed += count
		line, err := json.Marshal(map[string]any{"itemCount": count, "md5Checksum": base64.StdEncoding.EncodeToString(sum[:]),
			"dataFileS3Key": "AWSDynamoDB/" + id + "/data/" + f.name + ".json.gz"})
		if err != nil {
			t.Fatal(err)
		}
		manifest.Write(append(line, '\n'))
	}
	summary, err := json.Marshal(map[string]any{
		"exportArn":          "arn:aws:dynamodb:us-east-1:111111111111:table/" + ex.Table + "/export/" + id,
		"tableArn":           "arn:aws:dynamodb:us-east-1:111111111111:table/" + ex.Table,
		"exportTime":         "2026-04-01T00:00:00Z",
		"itemCount":          listed,
		"outputFormat":       "DYNAMODB_JSON",
		"manifestFilesS3Key": "AWSDynamoDB/" + id + "/manifest-files.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ex.Dir, "manifest-summary.json"), summary, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ex.Dir, "manifest-files.json"), manifest.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ex
}
