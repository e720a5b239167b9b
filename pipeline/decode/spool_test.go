package decode

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExportSpoolReadsAsReread decodes data files of every shape a check
// can meet (good, plain, gzip inside gzip, gzip cut short or corrupt at
// its header, just after it, or in its trailer, Ion read to its end or to
// a break, empty, blank, a wrong MD5, a wrong count, only one of the two
// listed) from the spool their check kept (read once), without a spool,
// and with a spool bound the file passes (read twice): every record,
// every set-aside record and every input error is the same, byte for
// byte.
func TestExportSpoolReadsAsReread(t *testing.T) {
	fixture := func(path string) []byte {
		b := readFixture(t, path)
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		return plain
	}
	const exportDir = "export/full/AWSDynamoDB/01775001600000-a1b2c3d4/"
	lines := fixture(exportDir + "data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz")
	ion := fixture("export/ion/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.ion.gz")
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		require.NoError(t, zw.Close())
		return buf.Bytes()
	}
	good := gz(lines)
	corrupt := append(bytes.Clone(good[:len(good)/2]), bytes.Repeat([]byte{0xff}, 64)...)
	cases := []struct {
		name  string
		data  []byte
		count int64 // -1: not listed
		md5   string
	}{
		{"gzip", good, 5, ""},
		{"plain", lines, 5, ""},
		{"gzip inside gzip", gz(good), 1, ""},
		{"gzip cut short", good[:len(good)/2], 5, ""},
		{"gzip corrupt", corrupt, 5, ""},
		{"gzip header corrupt", append([]byte{0x1f, 0x8b, 0x07}, good[3:]...), 5, ""},
		{"gzip corrupt after its header", append(bytes.Clone(good[:10]), bytes.Repeat([]byte{0xff}, 64)...), 5, ""},
		{"gzip trailer cut", good[:len(good)-3], 5, ""},
		{"bytes after the gzip", append(bytes.Clone(good), "not gzip"...), 5, ""},
		{"ion", gz(ion), 5, ""},
		{"ion broken", gz(append(bytes.Clone(ion[:len(ion)/2]), "}}}{{ "...)), 5, ""},
		{"ion broken early in a large file", gz(slices.Concat(ion, []byte("}}}{{ "), bytes.Repeat(ion, 400))), 5, ""},
		{"empty", nil, 0, ""},
		{"empty, items listed", nil, 5, ""},
		{"empty gzip", gz(nil), 0, ""},
		{"blank lines", gz([]byte("\n  \n\t\n")), 0, ""},
		{"blank lines, items listed", gz([]byte("\n  \n\t\n")), 2, ""},
		{"wrong count", good, 6, ""},
		{"wrong md5", good, 5, "lOGVmpatnWYQQRBroIvd0w=="},
		{"wrong md5, no count", good, -1, "lOGVmpatnWYQQRBroIvd0w=="},
		{"right md5, no count", good, -1, "="},
		{"right md5, wrong count", good, 4, "="},
		{"wrong md5 of corrupt gzip", corrupt, 5, "lOGVmpatnWYQQRBroIvd0w=="},
	}
	summary := readFixture(t, exportDir+"manifest-summary.json")
	summary = bytes.Replace(summary, []byte(`"itemCount": 12`), []byte(`"itemCount": 0`), 1)
	const key = "x/data/a.json.gz"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			m.put("x/manifest-summary.json", summary)
			entry := map[string]any{"dataFileS3Key": "exports/AWSDynamoDB/01775001600000-a1b2c3d4/data/a.json.gz"}
			if tc.count >= 0 {
				entry["itemCount"] = tc.count
			}
			switch tc.md5 {
			case "":
				sum := md5.Sum(tc.data)
				if tc.count >= 0 {
					entry["md5Checksum"] = base64.StdEncoding.EncodeToString(sum[:])
				}
			case "=":
				sum := md5.Sum(tc.data)
				entry["md5Checksum"] = base64.StdEncoding.EncodeToString(sum[:])
			default:
				entry["md5Checksum"] = tc.md5
			}
			m.put("x/manifest-files.json", mustJSON(t, entry))
			m.put(key, tc.data)
			in := Input{Kind: InputExport, Name: "x", Store: m, Key: "x"}
			var want pathTrace
			for i, bound := range []int64{-1, 0, 1, int64(len(tc.data)) / 2} {
				d, err := NewDecoder(Options{SpoolBytes: bound})
				require.NoError(t, err)
				opens := m.opens[key]
				var got pathTrace
				if err := d.DecodeInput(context.Background(), in, FormatAuto, got.fn); err != nil {
					got.err = err.Error()
				}
				if i == 0 {
					want = got
					continue
				}
				require.Equal(t, want.err, got.err, "spool bound %d: input errors", bound)
				require.Equal(t, want.lines, got.lines, "spool bound %d: records", bound)
				if bound == 0 {
					require.Equal(t, 1, m.opens[key]-opens, "read once")
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return append(b, '\n')
}

// BenchmarkDecodeExportFile decodes an export of one 32 MiB data file
// (gzip, fastest level, as the sample exports are) with its MD5 and item
// count listed: read once, kept in the spool while checked (spool), and
// read twice, checked then decoded (reread).
func BenchmarkDecodeExportFile(b *testing.B) {
	rng := rand.New(rand.NewSource(7))
	var lines bytes.Buffer
	items := 0
	for i := 0; lines.Len() < 32<<20; i++ {
		var item strings.Builder
		benchMessage(&item, rng, rng.Intn(64), i, i%3 == 0)
		fmt.Fprintf(&lines, "{\"Item\":%s}\n", item.String())
		items++
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	_, _ = zw.Write(lines.Bytes())
	_ = zw.Close()
	sum := md5.Sum(gz.Bytes())
	m := newMemStore()
	m.put("x/manifest-summary.json", []byte(`{"tableArn":"arn:aws:dynamodb:us-east-1:111111111111:table/t","exportTime":"2026-04-01T00:00:00Z"}`))
	m.put("x/manifest-files.json", []byte(fmt.Sprintf(`{"itemCount":%d,"md5Checksum":%q,"dataFileS3Key":"data/a.json.gz"}`+"\n",
		items, base64.StdEncoding.EncodeToString(sum[:]))))
	m.put("x/data/a.json.gz", gz.Bytes())
	in := Input{Kind: InputExport, Name: "x", Store: m, Key: "x"}
	for _, bc := range []struct {
		name  string
		spool int64
	}{{"spool", 0}, {"reread", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := NewDecoder(Options{SpoolBytes: bc.spool, UnusedOldImages: true})
			require.NoError(b, err)
			b.ReportAllocs()
			b.SetBytes(int64(lines.Len()))
			for range b.N {
				n := 0
				err := d.DecodeInput(context.Background(), in, FormatAuto, func(*ChangeRecord, *RecordError) error { n++; return nil })
				require.NoError(b, err)
				require.Equal(b, items, n)
			}
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
