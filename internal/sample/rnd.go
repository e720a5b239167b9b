package sample

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Random streams. Every use of randomness draws from its own stream of the
// seed, so one output does not change when another is generated first.
const (
	streamHistory uint64 = iota + 1
	streamLambdaBench
	streamLargeExport
	streamPeople
	streamNames
)

// rnd is a deterministic random source with the helpers the workload
// needs.
type rnd struct{ *rand.Rand }

func newRnd(seed int64, stream uint64) rnd {
	return rnd{rand.New(rand.NewPCG(uint64(seed), stream*0x9E3779B97F4A7C15))}
}

// pick returns a random element of xs.
func (r rnd) pick(xs []string) string { return xs[r.IntN(len(xs))] }

// chance reports true with probability p.
func (r rnd) chance(p float64) bool { return r.Float64() < p }

// between returns a random int64 in [lo, hi).
func (r rnd) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo)
}

const hexDigits = "0123456789abcdef"

// hex returns n random lower-case hex digits.
func (r rnd) hex(n int) string {
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(hexDigits[r.IntN(16)])
	}
	return b.String()
}

// alnum returns n random characters of alphabet.
func (r rnd) alnum(alphabet string, n int) string {
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// digits returns n random decimal digits, the first one not zero.
func (r rnd) digits(n int) string {
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(byte('1' + r.IntN(9)))
	for i := 1; i < n; i++ {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// ulid returns a ULID-like identifier: 10 Crockford base32 characters of
// the millisecond time, then 16 random ones, so identifiers sort by time.
func (r rnd) ulid(ms int64) string {
	var buf [26]byte
	t := uint64(ms)
	for i := 9; i >= 0; i-- {
		buf[i] = crockford[t&31]
		t >>= 5
	}
	for i := 10; i < 26; i++ {
		buf[i] = crockford[r.IntN(32)]
	}
	return string(buf[:])
}

// uuid formats 32 hex digits as a UUID (8-4-4-4-12).
func uuid(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// decimal2 formats cents as a DynamoDB number with two decimals. The
// last digit is never zero, since DynamoDB would trim it.
func decimal2(units int64, cents int) string {
	if cents%10 == 0 {
		cents++
	}
	c := strconv.Itoa(cents)
	if cents < 10 {
		c = "0" + c
	}
	return strconv.FormatInt(units, 10) + "." + c
}
