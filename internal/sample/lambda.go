package sample

import (
	"fmt"
	"time"
)

// Bounds of LambdaEvent's size target.
const (
	MinLambdaEventBytes = 16 << 10
	MaxLambdaEventBytes = 64 << 20
)

// LambdaEvent returns a DynamoDB stream Lambda event ({"Records":[...]},
// NEW_AND_OLD_IMAGES) of chat-messages changes from one shard, as one
// invocation receives them, and its record count. Records are added while
// the event stays within targetBytes and MaxLambdaRecords, so the event
// is at most targetBytes long and short of it by less than one record
// (about 1-3 KB), unless the record limit is reached first (targets above
// roughly 15 MB). targetBytes must be within MinLambdaEventBytes and
// MaxLambdaEventBytes (ErrBadSize). The event is built in memory. Only
// the configuration's Seed and Start matter: the history is simulated
// with as many rooms as the size needs.
func (g *Generator) LambdaEvent(targetBytes int) ([]byte, int, error) {
	if targetBytes < MinLambdaEventBytes || targetBytes > MaxLambdaEventBytes {
		return nil, 0, fmt.Errorf("%w: Lambda event of %d bytes (want %d..%d)",
			ErrBadSize, targetBytes, MinLambdaEventBytes, MaxLambdaEventBytes)
	}
	r := newRnd(g.cfg.Seed, streamLambdaBench)
	shard := newSeqShard(r, 21)
	const tail = len("]}")
	buf := make([]byte, 0, targetBytes+tail)
	buf = append(buf, `{"Records":[`...)
	n := 0
	full := false
	var rec []byte
	emit := func(c *change) bool {
		if c.table != TableMessages {
			return true
		}
		rec = appendStreamRecord(rec[:0], record{change: c, seq: shard.next(r)})
		need := len(buf) + len(rec) + tail
		if n > 0 {
			need++
		}
		if need > targetBytes && n > 0 {
			full = true
			return false
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, rec...)
		n++
		if n >= MaxLambdaRecords {
			full = true
		}
		return !full
	}
	// About one room opens per 9 KB of target, so the event fills within
	// the first hours of a simulated day; more days run if it does not.
	roomsPerDay := max(50, targetBytes/(9<<10))
	for d := 0; !full && d < 1000; d++ {
		start := g.cfg.Start.Add(time.Duration(d) * 24 * time.Hour)
		newSim(r, start, 1, roomsPerDay, emit).run()
	}
	return append(buf, "]}"...), n, nil
}
