package sink

import (
	"math/rand"
	"testing"
	"time"
)

// TestPartitionsMatchPartitionOf checks that Partitions gives, for runs
// of event times that go forward, back and across the range of years a
// partition can name, what PartitionOf and Validate give for each time.
func TestPartitionsMatchPartitionOf(t *testing.T) {
	edges := []int64{
		0, -1, 1, 86_400_000 - 1, 86_400_000, -86_400_000, -86_400_001, 3_600_000 - 1, 3_600_000,
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - 1,
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(2026, 4, 1, 7, 0, 0, 0, time.UTC).UnixMilli(),
	}
	rng := rand.New(rand.NewSource(1))
	times := append([]int64(nil), edges...)
	cur := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC).UnixMilli()
	for range 2000 {
		cur += rng.Int63n(600_000) - 100_000 // mostly forward, sometimes back
		times = append(times, cur)
	}
	for _, e := range edges {
		times = append(times, e, e+1, e-1, e)
	}
	for _, hourly := range []bool{false, true} {
		var parts Partitions
		for _, ms := range times {
			want := PartitionOf(ms, hourly)
			wantErr := want.Validate()
			got, err := parts.Of(ms, hourly)
			if got != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("hourly %v, %d ms: %v (%v), want %v (%v)", hourly, ms, got, err, want, wantErr)
			}
		}
	}
}

// TestPartitionValidateDayText checks the day's form Validate asks for.
func TestPartitionValidateDayText(t *testing.T) {
	for day, ok := range map[string]bool{
		"2026-04-01": true, "0000-01-01": true, "9999-12-31": true,
		"2026-4-01": false, "2026-04-1": false, "20260401": false, "2026/04/01": false, "+026-04-01": false,
		"2026-04-01 ": false, "２０２６-04-01": false, "2026-13-01": false, "2026-02-30": false, "": false, "2026-04-0a": false,
	} {
		if err := (Partition{Day: day}).Validate(); (err == nil) != ok {
			t.Errorf("%q: %v, want valid %v", day, err, ok)
		}
	}
}
