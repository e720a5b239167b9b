package flatten

import (
	"math"
	"strconv"
	"time"
)

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// timestampMillis reads a declared timestamp: N as epoch seconds,
// milliseconds, microseconds or nanoseconds by magnitude (seconds below
// 1e11, milliseconds below 1e14, microseconds below 1e17), or S as
// RFC 3339 text.
func timestampMillis(v Value) (int64, bool) {
	switch v.Kind {
	case N:
		f, err := strconv.ParseFloat(v.S, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
		a := math.Abs(f)
		switch {
		case a < 1e11:
			return int64(math.Round(f * 1e3)), true
		case a < 1e14:
			return int64(math.Round(f)), true
		case a < 1e17:
			return int64(math.Round(f / 1e3)), true
		case a < 9.2e18:
			return int64(math.Round(f / 1e6)), true
		}
	case S:
		t, err := time.Parse(time.RFC3339Nano, v.S)
		if err != nil {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	return 0, false
}
