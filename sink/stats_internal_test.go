package sink

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTruncateBounds(t *testing.T) {
	for _, v := range []string{
		strings.Repeat("a", 100),
		strings.Repeat("가", 40),
		strings.Repeat("z", 63) + "가나다",
		strings.Repeat("\U0010FFFF", 30),
		"a" + strings.Repeat("\U0010FFFF", 30),
		strings.Repeat("\uD7FF", 30),
		strings.Repeat("\xfe\xff", 50),
		strings.Repeat("\xff", 100),
		"\x00" + strings.Repeat("\xff", 100),
	} {
		lo, hi := truncateMin([]byte(v)), truncateMax([]byte(v))
		require.LessOrEqual(t, len(lo), MaxStatBytes)
		require.LessOrEqual(t, len(hi), MaxStatBytes)
		require.LessOrEqual(t, string(lo), v, "min bounds %q", v)
		require.True(t, strings.HasPrefix(v, string(lo)))
		if utf8.ValidString(v) {
			require.True(t, utf8.Valid(lo), "text stays text")
			if hi != nil {
				require.True(t, utf8.Valid(hi), "text stays text")
			}
		}
		if hi == nil {
			continue
		}
		require.Greater(t, string(hi), v, "max bounds %q", v)
		// and every longer value starting like v
		require.Greater(t, string(hi), v+strings.Repeat("\xff", 10))
	}
	require.Nil(t, truncateMax(bytes.Repeat([]byte{0xff}, 100)))
	require.Nil(t, truncateMax([]byte(strings.Repeat("\U0010FFFF", 30))))
	require.Equal(t, "\uE000", string(truncateMax([]byte(strings.Repeat("\uD7FF", 30))))[len(truncateMax([]byte(strings.Repeat("\uD7FF", 30))))-3:])
}
