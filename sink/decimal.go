package sink

import (
	"fmt"
	"math"
	"math/bits"
)

// decimalLen is the FIXED_LEN_BYTE_ARRAY length that holds every unscaled
// value of a decimal of precision p as big-endian two's complement
// (decimal(38,s) takes 16 bytes).
func decimalLen(p int) int {
	return int(math.Ceil((float64(p)*math.Log2(10) + 1) / 8))
}

// appendDecimal appends to dst the n-byte big-endian two's complement of
// the unscaled value of text, a plain decimal ("-12.50", "7", ".5") read at
// scale fraction digits. Fewer fraction digits are padded with zeros; more
// are refused unless they are zeros. The value must have at most precision
// significant digits (precision <= 38). Errors wrap ErrBadDecimal.
func appendDecimal(dst []byte, text string, precision, scale, n int) ([]byte, error) {
	s := text
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var hi, lo uint64
	digits, frac, sawDot, sawDigit := 0, 0, false, false
	push := func(d uint64) {
		h, l := bits.Mul64(lo, 10)
		var c uint64
		lo, c = bits.Add64(l, d, 0)
		hi = hi*10 + h + c
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !sawDot:
			sawDot = true
			continue
		case c < '0' || c > '9':
			return dst, fmt.Errorf("%w: %q for decimal(%d,%d): not a plain decimal", ErrBadDecimal, text, precision, scale)
		}
		sawDigit = true
		if sawDot {
			frac++
			if frac > scale {
				if c != '0' {
					return dst, fmt.Errorf("%w: %q for decimal(%d,%d): more than %d fraction digits", ErrBadDecimal, text, precision, scale, scale)
				}
				continue
			}
		}
		if digits == 0 && c == '0' {
			continue // leading zero
		}
		digits++
		if digits > precision {
			return dst, fmt.Errorf("%w: %q for decimal(%d,%d): more than %d digits", ErrBadDecimal, text, precision, scale, precision)
		}
		push(uint64(c - '0'))
	}
	if !sawDigit {
		return dst, fmt.Errorf("%w: %q for decimal(%d,%d): no digits", ErrBadDecimal, text, precision, scale)
	}
	for ; frac < scale; frac++ {
		if digits > 0 {
			digits++
			if digits > precision {
				return dst, fmt.Errorf("%w: %q for decimal(%d,%d): more than %d digits", ErrBadDecimal, text, precision, scale, precision)
			}
		}
		push(0)
	}
	if neg {
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(0, hi, borrow)
	}
	var be [16]byte
	for i := range 8 {
		be[7-i] = byte(hi >> (8 * i))
		be[15-i] = byte(lo >> (8 * i))
	}
	return append(dst, be[16-n:]...), nil
}
