package sink

import (
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceDecimal computes the expected bytes with math/big, an
// independent path from appendDecimal's 128-bit arithmetic.
func referenceDecimal(t testing.TB, text string, scale, n int) []byte {
	t.Helper()
	neg := strings.HasPrefix(text, "-")
	text = strings.TrimLeft(text, "+-")
	intPart, frac, _ := strings.Cut(text, ".")
	frac = strings.TrimRight(frac, "0")
	for len(frac) < scale {
		frac += "0"
	}
	v, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	require.True(t, ok, text)
	if neg {
		v.Neg(v)
	}
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	if v.Sign() < 0 {
		v.Add(v, mod)
	}
	b := v.Bytes()
	out := make([]byte, n)
	copy(out[n-len(b):], b)
	return out
}

func TestDecimalLen(t *testing.T) {
	for _, tc := range []struct{ p, n int }{{1, 1}, {2, 1}, {3, 2}, {4, 2}, {9, 4}, {10, 5}, {18, 8}, {19, 9}, {20, 9}, {38, 16}} {
		require.Equal(t, tc.n, decimalLen(tc.p), "precision %d", tc.p)
	}
	// Every precision's largest value fits its length, signed.
	for p := 1; p <= 38; p++ {
		n := decimalLen(p)
		max := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil), big.NewInt(1))
		require.Less(t, max.BitLen(), 8*n, "precision %d", p)
		if n > 1 {
			require.GreaterOrEqual(t, max.BitLen(), 8*(n-1), "precision %d: length %d is not minimal", p, n)
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	for _, tc := range []struct {
		text        string
		prec, scale int
	}{
		{"99999999999999999999999999999999999999", 38, 0},
		{"-99999999999999999999999999999999999999", 38, 0},
		{"0.00000000000000000000000000000000000001", 38, 38},
		{"-0.00000000000000000000000000000000000001", 38, 38},
		{"-0.99999999999999999999999999999999999999", 38, 38},
		{"0", 38, 0},
		{"-0", 38, 0},
		{"0.00", 12, 2},
		{"-12.50", 12, 2},
		{"12.5", 12, 2},
		{"+7", 1, 0},
		{"-9", 1, 0},
		{".5", 2, 1},
		{"5.", 2, 1},
		{"1.2300", 5, 2},
		{"-999.99", 5, 2},
		{"00012.50", 4, 2},
		{"9223372036854775808", 19, 0},
		{"-9223372036854775809", 19, 0},
		{"18446744073709551616", 20, 0},
		{"-18446744073709551615.5", 21, 1},
	} {
		n := decimalLen(tc.prec)
		got, err := appendDecimal([]byte("keep"), tc.text, tc.prec, tc.scale, n)
		require.NoError(t, err, tc.text)
		require.Equal(t, "keep", string(got[:4]), "appends")
		require.Equal(t, referenceDecimal(t, tc.text, tc.scale, n), got[4:], tc.text)
	}
}

func TestAppendDecimalRefuses(t *testing.T) {
	for _, tc := range []struct {
		text        string
		prec, scale int
	}{
		{"", 5, 0},
		{"-", 5, 0},
		{".", 5, 0},
		{"1e5", 10, 0},
		{"1.2.3", 10, 2},
		{"12a", 10, 0},
		{"NaN", 10, 0},
		{" 1", 10, 0},
		{"1.234", 10, 2},  // would lose a digit
		{"123456", 5, 0},  // too many digits
		{"1000.00", 5, 2}, // integer part too long
		{"100000000000000000000000000000000000000", 38, 0}, // 39 digits
		{"1", 38, 38}, // no room for an integer digit
	} {
		_, err := appendDecimal(nil, tc.text, tc.prec, tc.scale, decimalLen(tc.prec))
		require.ErrorIs(t, err, ErrBadDecimal, "%q decimal(%d,%d)", tc.text, tc.prec, tc.scale)
	}
}

// FuzzAppendDecimal checks appendDecimal against math/big on any text it
// accepts, and that it never panics.
func FuzzAppendDecimal(f *testing.F) {
	for _, s := range []string{"1", "-1.5", "99999999999999999999999999999999999999", "0.001", "-0.00000000000000000000000000000000000001"} {
		f.Add(s, uint8(38), uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, p, s uint8) {
		prec := int(p%38) + 1
		scale := int(s) % (prec + 1)
		n := decimalLen(prec)
		got, err := appendDecimal(nil, text, prec, scale, n)
		if err != nil {
			return
		}
		require.Equal(t, referenceDecimal(t, text, scale, n), got, "%q decimal(%d,%d)", text, prec, scale)
	})
}
