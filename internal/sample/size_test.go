package sample

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"6MiB", 6 << 20, true},
		{"6MB", 6_000_000, true},
		{"1GiB", 1 << 30, true},
		{"1.5 kib", 1536, true},
		{"2gb", 2e9, true},
		{"10b", 10, true},
		{"", 0, false},
		{"-1MB", 0, false},
		{"MiB", 0, false},
		{"1 parsec", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseSizeBenchSpellings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "512MiB", want: 512 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "1.5 gib", want: 3 << 29},
		{in: "500MB", want: 500e6},
		{in: "4096", want: 4096},
		{in: "", bad: true},
		{in: "-1MiB", bad: true},
		{in: "lots", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
