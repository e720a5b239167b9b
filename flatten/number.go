package flatten

import (
	"fmt"
	"strconv"
	"strings"
)

// DynamoDB number limits: 38 significant digits, magnitudes from 1E-130
// to 9.99...E+125.
const (
	maxSignificantDigits = 38
	minExponent          = -130 // smallest magnitude is 1E-130
	maxExponent          = 125  // largest magnitude is < 1E+126
)

// Number is an exact decimal: (-1)^Neg × Digits × 10^-Scale, normalized
// so that Digits has no leading or trailing zeros ("" for zero, with
// Scale 0). A negative Scale means trailing zeros were taken off an
// integer: 1200 is Digits "12", Scale -2.
type Number struct {
	Neg    bool
	Digits string
	Scale  int
}

// ParseNumber reads the text of a DynamoDB N value: an optional sign,
// digits with an optional fraction, an optional exponent. It fails with
// ErrBadNumber for text that is not a number and ErrNumberRange for one
// DynamoDB cannot hold.
func ParseNumber(s string) (Number, error) {
	var n Number
	in := s
	if s == "" {
		return n, fmt.Errorf("%w: empty", ErrBadNumber)
	}
	switch s[0] {
	case '-':
		n.Neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || s[i+1:] == "" || len(s[i+1:]) > 6 {
			return Number{}, fmt.Errorf("%w: %q", ErrBadNumber, in)
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" {
		return Number{}, fmt.Errorf("%w: %q", ErrBadNumber, in)
	}
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return Number{}, fmt.Errorf("%w: %q", ErrBadNumber, in)
			}
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := len(frac) - exp
	if digits == "" {
		return Number{}, nil // zero, whatever its sign or exponent
	}
	trimmed := strings.TrimRight(digits, "0")
	scale -= len(digits) - len(trimmed)
	digits = trimmed
	if len(digits) > maxSignificantDigits {
		return Number{}, fmt.Errorf("%w: %q has %d significant digits, DynamoDB keeps 38", ErrNumberRange, in, len(digits))
	}
	// Magnitude exponent of the leading digit: value = d.ddd × 10^mag.
	mag := len(digits) - 1 - scale
	if mag < minExponent || mag > maxExponent {
		return Number{}, fmt.Errorf("%w: %q is outside 1E-130 to 9.99E+125", ErrNumberRange, in)
	}
	n.Digits, n.Scale = digits, scale
	return n, nil
}

// ValidNumber reports whether text is the text of an N that ParseItem
// accepts: a number DynamoDB can hold. It allocates nothing.
func ValidNumber(text []byte) bool { return checkNumber(text) == nil }

// checkNumber reports whether text is a number DynamoDB can hold, like
// ParseNumber but without allocating.
func checkNumber(text []byte) error {
	s := text
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	mant, exp := s, 0
	for i, c := range s {
		if c == 'e' || c == 'E' {
			mant = s[:i]
			e := s[i+1:]
			if len(e) > 0 && (e[0] == '-' || e[0] == '+') {
				e = e[1:]
			}
			if len(e) == 0 || len(s[i+1:]) > 6 {
				return fmt.Errorf("%w: %q", ErrBadNumber, text)
			}
			for _, d := range e {
				if d < '0' || d > '9' {
					return fmt.Errorf("%w: %q", ErrBadNumber, text)
				}
				exp = exp*10 + int(d-'0')
			}
			if s[i+1] == '-' {
				exp = -exp
			}
			break
		}
	}
	intLen, digits := -1, 0
	first, last := -1, -1 // positions of the first and last non-zero digits
	for _, c := range mant {
		if c == '.' {
			if intLen >= 0 {
				return fmt.Errorf("%w: %q", ErrBadNumber, text)
			}
			intLen = digits
			continue
		}
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q", ErrBadNumber, text)
		}
		if c != '0' {
			if first < 0 {
				first = digits
			}
			last = digits
		}
		digits++
	}
	if intLen < 0 {
		intLen = digits
	}
	if digits == 0 {
		return fmt.Errorf("%w: %q", ErrBadNumber, text)
	}
	if first < 0 {
		return nil // zero
	}
	if last-first+1 > maxSignificantDigits {
		return fmt.Errorf("%w: %q has %d significant digits, DynamoDB keeps 38", ErrNumberRange, text, last-first+1)
	}
	if mag := intLen - 1 - first + exp; mag < minExponent || mag > maxExponent {
		return fmt.Errorf("%w: %q is outside 1E-130 to 9.99E+125", ErrNumberRange, text)
	}
	return nil
}

// plainInt reads s when it is a plain integer of at most 18 digits
// (-?[0-9]{1,18}), which ParseNumber reads as the same int64.
func plainInt(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// plainDecimal reports whether s is already the text a decimal(precision,
// scale) cell holds for it (what ParseNumber then Text(scale) give), and
// fits the column: an optional '-' (not before a zero), an integer part
// "0" or without leading zeros of at most precision-scale digits, and,
// when scale > 0, a '.' and exactly scale digits.
func plainDecimal(s string, precision, scale int) bool {
	i := 0
	if len(s) > 0 && s[0] == '-' {
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	switch {
	case intPart == "":
		return false
	case intPart[0] == '0' && len(intPart) > 1:
		return false
	case intPart != "0" && len(intPart) > precision-scale:
		return false
	}
	nonzero := intPart != "0"
	if scale > 0 {
		if i >= len(s) || s[i] != '.' || len(s)-i-1 != scale {
			return false
		}
		for _, c := range []byte(s[i+1:]) {
			if c < '0' || c > '9' {
				return false
			}
			nonzero = nonzero || c != '0'
		}
	} else if i != len(s) {
		return false
	}
	return start == 0 || nonzero
}

// IsZero reports whether n is zero.
func (n Number) IsZero() bool { return n.Digits == "" }

// IntDigits is the number of digits before the decimal point (0 for |n| < 1).
func (n Number) IntDigits() int {
	if d := len(n.Digits) - n.Scale; d > 0 {
		return d
	}
	return 0
}

// FracDigits is the number of digits after the decimal point.
func (n Number) FracDigits() int {
	if n.Scale > 0 {
		return n.Scale
	}
	return 0
}

// Int64 returns n as an int64 when it is an integer that fits.
func (n Number) Int64() (int64, bool) {
	if n.IsZero() {
		return 0, true
	}
	if n.Scale > 0 || n.IntDigits() > 19 {
		return 0, false
	}
	text := n.Digits + strings.Repeat("0", -n.Scale)
	if n.Neg {
		text = "-" + text
	}
	v, err := strconv.ParseInt(text, 10, 64)
	return v, err == nil
}

// Text returns n in plain decimal notation with exactly scale fraction
// digits (scale ≥ FracDigits), e.g. "-12.50" for scale 2.
func (n Number) Text(scale int) string {
	if scale < n.FracDigits() {
		scale = n.FracDigits()
	}
	// unscaled digits at the requested scale
	u := n.Digits + strings.Repeat("0", scale-n.Scale)
	if n.IsZero() {
		u = "0"
	}
	if len(u) <= scale {
		u = strings.Repeat("0", scale-len(u)+1) + u
	}
	var b strings.Builder
	if n.Neg && !n.IsZero() {
		b.WriteByte('-')
	}
	b.WriteString(u[:len(u)-scale])
	if scale > 0 {
		b.WriteByte('.')
		b.WriteString(u[len(u)-scale:])
	}
	return b.String()
}

// String returns n in plain decimal notation, no exponent, no trailing zeros.
func (n Number) String() string { return n.Text(0) }
