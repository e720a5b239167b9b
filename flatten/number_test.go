package flatten

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in               string
		neg              bool
		digits           string
		scale            int
		text             string // Number.String()
		intDigs, fracDig int
		int64            bool
	}{
		{"0", false, "", 0, "0", 0, 0, true},
		{"-0.000", false, "", 0, "0", 0, 0, true},
		{"42", false, "42", 0, "42", 2, 0, true},
		{"-42", true, "42", 0, "-42", 2, 0, true},
		{"+7", false, "7", 0, "7", 1, 0, true},
		{"007", false, "7", 0, "7", 1, 0, true},
		{"1200", false, "12", -2, "1200", 4, 0, true},
		{"1.50", false, "15", 1, "1.5", 1, 1, false},
		{"36.5", false, "365", 1, "36.5", 2, 1, false},
		{".5", false, "5", 1, "0.5", 0, 1, false},
		{"5.", false, "5", 0, "5", 1, 0, true},
		{"1E+3", false, "1", -3, "1000", 4, 0, true},
		{"1.5e-3", false, "15", 4, "0.0015", 0, 4, false},
		{"9223372036854775807", false, "9223372036854775807", 0, "9223372036854775807", 19, 0, true},
		{"9223372036854775808", false, "9223372036854775808", 0, "9223372036854775808", 19, 0, false},
		{"-9223372036854775808", true, "9223372036854775808", 0, "-9223372036854775808", 19, 0, true},
		{"99999999999999999999999999999999999999", false, strings.Repeat("9", 38), 0, strings.Repeat("9", 38), 38, 0, false},
		{"1E-130", false, "1", 130, "0." + strings.Repeat("0", 129) + "1", 0, 130, false},
		{"9.99E+125", false, "999", -123, "999" + strings.Repeat("0", 123), 126, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			n, err := ParseNumber(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.neg, n.Neg)
			require.Equal(t, tc.digits, n.Digits)
			require.Equal(t, tc.scale, n.Scale)
			require.Equal(t, tc.text, n.String())
			require.Equal(t, tc.intDigs, n.IntDigits())
			require.Equal(t, tc.fracDig, n.FracDigits())
			_, ok := n.Int64()
			require.Equal(t, tc.int64, ok)
		})
	}
}

func TestParseNumberErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrBadNumber},
		{"abc", ErrBadNumber},
		{"1.2.3", ErrBadNumber},
		{"-", ErrBadNumber},
		{".", ErrBadNumber},
		{"1e", ErrBadNumber},
		{"1e+", ErrBadNumber},
		{"0x10", ErrBadNumber},
		{"NaN", ErrBadNumber},
		{"Infinity", ErrBadNumber},
		{" 1", ErrBadNumber},
		{"1e9999999", ErrBadNumber},
		{"1" + strings.Repeat("2", 38), ErrNumberRange}, // 39 significant digits
		{"1E+126", ErrNumberRange},
		{"1E-131", ErrNumberRange},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseNumber(tc.in)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestNumberText(t *testing.T) {
	n, err := ParseNumber("-1.5")
	require.NoError(t, err)
	require.Equal(t, "-1.500", n.Text(3))
	n, _ = ParseNumber("0.05")
	require.Equal(t, "0.05", n.Text(2))
	require.Equal(t, "0.050", n.Text(3))
	n, _ = ParseNumber("0")
	require.Equal(t, "0.00", n.Text(2))
	n, _ = ParseNumber("120")
	require.Equal(t, "120.0", n.Text(1))
}

// FuzzCheckNumber checks that the allocation-free validator used by the
// parser agrees with ParseNumber on every input.
func FuzzCheckNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "1E+3", "1e-130", "1E-131", "9.99E+125", "1E+126", ".5", "5.", "", "-", "1.2.3",
		"12345678901234567890123456789012345678", "123456789012345678901234567890123456789", "0.000000000000000000000000000000000000000001",
		"1e", "1e+", "00000000000000000000000000000000000000000001", "1e999999", "+7", "1e-0000", "1e+00001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, perr := ParseNumber(s)
		cerr := checkNumber([]byte(s))
		require.Equal(t, perr == nil, cerr == nil, "ParseNumber: %v; checkNumber: %v", perr, cerr)
	})
}

// requirePlainAsParsed checks the shortcuts of convert against the
// general path they stand for: an integer plainInt reads is what
// ParseNumber and Int64 give, and a text plainDecimal takes is what
// ParseNumber and Text give for a column it fits.
func requirePlainAsParsed(t *testing.T, s string) {
	if v, ok := plainInt(s); ok {
		n, err := ParseNumber(s)
		require.NoError(t, err, s)
		w, ok := n.Int64()
		require.True(t, ok, s)
		require.Equal(t, w, v, s)
	}
	for _, ps := range [][2]int{{38, 0}, {38, 2}, {12, 2}, {5, 5}, {3, 1}, {38, 37}} {
		if !plainDecimal(s, ps[0], ps[1]) {
			continue
		}
		n, err := ParseNumber(s)
		require.NoError(t, err, s)
		require.LessOrEqual(t, n.FracDigits(), ps[1], s)
		require.LessOrEqual(t, n.IntDigits(), ps[0]-ps[1], s)
		require.Equal(t, n.Text(ps[1]), s, "decimal(%d,%d)", ps[0], ps[1])
	}
}

// TestPlainNumbers checks plainInt and plainDecimal on numbers of every
// shape near their edges.
func TestPlainNumbers(t *testing.T) {
	taken := 0
	for _, sign := range []string{"", "-", "+"} {
		for _, ip := range []string{"", "0", "00", "7", "07", "10", "120", "999", "123456789012345678", "1234567890123456789", strings.Repeat("9", 36)} {
			for _, fp := range []string{"", ".", ".0", ".5", ".50", ".05", ".00", ".1234567890123456789012345678901234567", "e1", ".5e-1"} {
				s := sign + ip + fp
				requirePlainAsParsed(t, s)
				if _, ok := plainInt(s); ok {
					taken++
				}
				if plainDecimal(s, 38, 2) {
					taken++
				}
			}
		}
	}
	require.Greater(t, taken, 20, "the shortcuts take the plain numbers")
	v, ok := plainInt("-123456789012345678")
	require.True(t, ok)
	require.Equal(t, int64(-123456789012345678), v)
	require.True(t, plainDecimal("-0.05", 38, 2))
	require.False(t, plainDecimal("-0.00", 38, 2), "negative zero is written 0.00")
	require.False(t, plainDecimal("1.5", 38, 2), "1.50 in a decimal(38,2)")
}

// FuzzPlainNumbers checks the shortcuts against the general path on any
// text.
func FuzzPlainNumbers(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-1.50", "0.05", "007", "1e3", "123456789012345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { requirePlainAsParsed(t, s) })
}
