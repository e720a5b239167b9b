package ionexport

import (
	"math/big"
	"strconv"
)

// appendNumber appends, as DynamoDB spells numbers in DYNAMODB_JSON
// exports (Java's BigDecimal.toString), the number whose unscaled digits
// are digits (no sign, "0" for zero) times 10^exp, negative when neg:
// plain notation when the exponent is at most 0 and the number's
// magnitude is at least 1E-6 (103, 1.50, 0.000123), else scientific with
// one digit before the point (1E+125, 1.5E+10, 1.23E-7). Every digit is
// kept: nothing is rounded or trimmed.
func appendNumber(dst []byte, neg bool, digits string, exp int64) []byte {
	if neg {
		dst = append(dst, '-')
	}
	adjusted := exp + int64(len(digits)) - 1
	switch {
	case exp == 0:
		return append(dst, digits...)
	case exp < 0 && adjusted >= -6:
		point := int64(len(digits)) + exp // digits before the point
		if point > 0 {
			dst = append(dst, digits[:point]...)
			dst = append(dst, '.')
			return append(dst, digits[point:]...)
		}
		dst = append(dst, "0."...)
		for ; point < 0; point++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted > 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, adjusted, 10)
}

// appendBigNumber appends c × 10^exp as appendNumber does; negZero
// marks an Ion negative zero (-0., -0d-2), whose coefficient has no
// sign.
func appendBigNumber(dst []byte, c *big.Int, exp int64, negZero bool, scratch []byte) ([]byte, []byte) {
	scratch = c.Append(scratch[:0], 10)
	neg := negZero
	digits := scratch
	if len(digits) > 0 && digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	return appendNumber(dst, neg, string(digits), exp), scratch
}

// parseNumber splits the text of a DynamoDB number (as DYNAMODB_JSON
// holds it: sign, digits, fraction, exponent) into its coefficient and
// exponent, every digit kept: "1.50" is 150 and -2, "1E+125" is 1 and
// 125, "-0" is a negative zero. ok is false for text that is not such a
// number.
func parseNumber(s string) (c *big.Int, exp int64, negZero, ok bool) {
	mant := s
	neg := false
	if len(mant) > 0 && (mant[0] == '-' || mant[0] == '+') {
		neg = mant[0] == '-'
		mant = mant[1:]
	}
	for i := 0; i < len(mant); i++ {
		if mant[i] == 'e' || mant[i] == 'E' {
			e, err := strconv.ParseInt(mant[i+1:], 10, 32)
			if err != nil {
				return nil, 0, false, false
			}
			exp, mant = e, mant[:i]
			break
		}
	}
	digits := make([]byte, 0, len(mant))
	seenPoint := false
	for i := 0; i < len(mant); i++ {
		switch c := mant[i]; {
		case c == '.' && !seenPoint:
			seenPoint = true
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			if seenPoint {
				exp--
			}
		default:
			return nil, 0, false, false
		}
	}
	if len(digits) == 0 {
		return nil, 0, false, false
	}
	c, ok = new(big.Int).SetString(string(digits), 10)
	if !ok {
		return nil, 0, false, false
	}
	if neg {
		c.Neg(c)
	}
	return c, exp, neg && c.Sign() == 0, true
}
