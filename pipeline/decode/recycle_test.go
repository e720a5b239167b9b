package decode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ddblake/ddblake/flatten"
)

// TestRecycleImages checks that a decoder told to recycle its images
// between payloads, on one goroutine or several, hands on for each
// payload exactly what a new decoder does.
func TestRecycleImages(t *testing.T) {
	recs := benchRecords(600 << 10) // over parallelMinBytes
	var payloads [][]byte
	for i := range 3 {
		part := recs[i*len(recs)/4 : (i+2)*len(recs)/4] // payloads of different sizes
		payloads = append(payloads, []byte(`{"Records":[`+strings.Join(part, ",")+`]}`))
	}
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			opts := Options{Workers: workers, UnusedOldImages: true}
			reused, err := NewDecoder(opts)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				for i, p := range payloads {
					var got, want pathTrace
					if err := reused.DecodeEvent(p, "event", got.fn); err != nil {
						t.Fatal(err)
					}
					fresh, _ := NewDecoder(opts)
					if err := fresh.DecodeEvent(p, "event", want.fn); err != nil {
						t.Fatal(err)
					}
					if len(got.lines) != len(want.lines) {
						t.Fatalf("round %d, payload %d: %d records, want %d", round, i, len(got.lines), len(want.lines))
					}
					for j := range got.lines {
						if !got.lines[j].same(want.lines[j]) {
							t.Fatalf("round %d, payload %d, record %d:\n%s\nwant\n%s", round, i, j, got.lines[j], want.lines[j])
						}
					}
					reused.RecycleImages()
				}
			}
		})
	}
}

// TestOneLetterTag checks the table of one-letter type tags against
// tagKind, byte by byte.
func TestOneLetterTag(t *testing.T) {
	for c := range 256 {
		want, ok := tagKind([]byte{byte(c)})
		if !ok {
			want = flatten.KindInvalid
		}
		if got := oneLetterTag[c]; got != want {
			t.Errorf("tag %q: %v, want %v", byte(c), got, want)
		}
	}
}

// TestPlainDigits checks that what plainDigits accepts, ValidNumber
// accepts too, around its edges.
func TestPlainDigits(t *testing.T) {
	for _, s := range []string{"0", "00", "7", "1775001683222", strings.Repeat("9", 38), strings.Repeat("0", 38),
		"0" + strings.Repeat("9", 37), strings.Repeat("1", 39), "", "-1", "1.5", "1e3", "+1", " 1", "1 "} {
		if plainDigits([]byte(s)) && !flatten.ValidNumber([]byte(s)) {
			t.Errorf("%q: plainDigits accepts what ValidNumber refuses", s)
		}
	}
}
