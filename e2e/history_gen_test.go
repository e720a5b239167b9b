package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures under testdata/e2e/")

// The history fixtures are a scripted change history of one small table,
// e2e-history (keys pk, sk), as Lambda events from a DynamoDB stream: every
// kind of change (INSERT, MODIFY, REMOVE, TTL delete, re-INSERT of a removed
// key), over four days, in files whose names do not follow time, events of
// one key within one second whose sequence numbers differ in length (only
// the zero padding orders them as text), and a file that redelivers events
// another file holds already (at-least-once delivery).

// historyDir holds the generated history.
func historyDir() string { return fixture("e2e", "history") }

// historyEvent is one change of the script.
type historyEvent struct {
	pk, sk string
	name   string // INSERT, MODIFY, REMOVE
	ttl    bool
	at     time.Time // whole seconds, as DynamoDB streams give them
	seq    *big.Int
	id     string
	newImg map[string]any
	oldImg map[string]any
}

// historyStart is when the scripted history begins.
var historyStart = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// genHistory scripts the history, deterministically.
func genHistory() []historyEvent {
	rng := rand.New(rand.NewPCG(20260401, 7))
	// Sequence numbers start just below 10^21 and grow from 21 to 22
	// digits at the second change.
	seq := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil), big.NewInt(3))
	state := map[string]map[string]any{}
	var events []historyEvent
	at := historyStart
	// emit adds a change; its sequence number is inc (random when 0) past
	// the previous one.
	emit := func(pk, sk, name string, ttl bool, img map[string]any, inc int64) {
		key := pk + "|" + sk
		if inc == 0 {
			inc = int64(1 + rng.IntN(9))
		}
		seq = new(big.Int).Add(seq, big.NewInt(inc))
		e := historyEvent{pk: pk, sk: sk, name: name, ttl: ttl, at: at, seq: new(big.Int).Set(seq),
			id: fmt.Sprintf("%032x", len(events)+1), oldImg: state[key]}
		switch name {
		case "REMOVE":
			delete(state, key)
		default:
			e.newImg = img
			state[key] = img
		}
		events = append(events, e)
	}
	version := 0
	item := func(pk, sk string) map[string]any {
		version++
		img := map[string]any{
			"pk":      map[string]any{"S": pk},
			"sk":      map[string]any{"S": sk},
			"status":  map[string]any{"S": []string{"new", "paid", "shipped", "done", "배송중"}[rng.IntN(5)]},
			"amount":  map[string]any{"N": fmt.Sprintf("%d.%02d", rng.IntN(100000), rng.IntN(100))},
			"qty":     map[string]any{"N": fmt.Sprint(1 + rng.IntN(20))},
			"version": map[string]any{"N": fmt.Sprint(version)},
			"ttl":     map[string]any{"N": fmt.Sprint(at.Add(72 * time.Hour).Unix())},
		}
		if rng.IntN(3) > 0 {
			img["tags"] = map[string]any{"SS": []string{"t" + fmt.Sprint(rng.IntN(4)), "x" + fmt.Sprint(rng.IntN(4))}}
		}
		if rng.IntN(2) == 0 {
			img["note"] = map[string]any{"S": fmt.Sprintf("note %d: \"quoted\" \\ 🙂", version)}
		}
		return img
	}

	// The script's fixed part. user#0 (never changed again) is inserted
	// and modified in one second, the modify's sequence number one digit
	// longer: only the padded _sequence_number orders them right as text.
	emit("user#0", "order#0", "INSERT", false, item("user#0", "order#0"), 1)
	emit("user#0", "order#0", "MODIFY", false, item("user#0", "order#0"), 5)
	// One key through every kind of change.
	emit("user#1", "order#1", "INSERT", false, item("user#1", "order#1"), 0)
	emit("user#1", "order#2", "INSERT", false, item("user#1", "order#2"), 0)
	emit("user#1", "order#1", "MODIFY", false, item("user#1", "order#1"), 0)
	at = at.Add(90 * time.Minute)
	emit("user#1", "order#1", "REMOVE", false, nil, 0)
	at = at.Add(2 * time.Hour)
	emit("user#1", "order#1", "INSERT", false, item("user#1", "order#1"), 0) // re-INSERT
	emit("user#1", "order#2", "REMOVE", true, nil, 0)                        // TTL delete
	at = at.Add(time.Hour)

	// The random part.
	keys := []string{"user#1|order#1", "user#1|order#2", "user#2|order#1", "user#2|order#2",
		"user#3|order#1", "user#3|order#2", "user#4|order#1", "user#5|order#1", "user#5|order#9"}
	for at.Before(historyStart.Add(4 * 24 * time.Hour)) {
		k := keys[rng.IntN(len(keys))]
		pk, sk, _ := strings.Cut(k, "|")
		switch _, live := state[k]; {
		case !live:
			emit(pk, sk, "INSERT", false, item(pk, sk), 0)
		case rng.IntN(10) < 6:
			emit(pk, sk, "MODIFY", false, item(pk, sk), 0)
		case rng.IntN(2) == 0:
			emit(pk, sk, "REMOVE", false, nil, 0)
		default:
			emit(pk, sk, "REMOVE", true, nil, 0)
		}
		// Often several changes in one second: the sequence number orders
		// them.
		if rng.IntN(3) > 0 {
			at = at.Add(time.Duration(rng.IntN(4*3600)) * time.Second)
		}
	}
	return events
}

// historyFiles splits the events into Lambda event files: per day, two
// "shards" taking events in turn, named so that name order is not time
// order; plus redelivered.json, a copy of some events, among them the last
// change of several keys.
func historyFiles(events []historyEvent) map[string][]byte {
	groups := map[string][]historyEvent{}
	for i, e := range events {
		day := int(e.at.Sub(historyStart).Hours() / 24)
		name := fmt.Sprintf("%c-day%d-shard%d.json", 'z'-rune(2*day+i%2), day+1, i%2)
		groups[name] = append(groups[name], e)
	}
	var again []historyEvent
	last := map[string]int{}
	for i, e := range events {
		last[e.pk+"|"+e.sk] = i
		if i%7 == 3 {
			again = append(again, e)
		}
	}
	for _, i := range last {
		if i%2 == 0 {
			again = append(again, events[i])
		}
	}
	sort.Slice(again, func(a, b int) bool { return again[a].seq.Cmp(again[b].seq) < 0 })
	groups["redelivered.json"] = again

	out := map[string][]byte{}
	for name, evs := range groups {
		var buf bytes.Buffer
		buf.WriteString("{\"Records\": [\n")
		for i, e := range evs {
			rec := map[string]any{
				"eventID":      e.id,
				"eventName":    e.name,
				"eventVersion": "1.1",
				"eventSource":  "aws:dynamodb",
				"awsRegion":    "ap-northeast-2",
				"dynamodb": map[string]any{
					"ApproximateCreationDateTime": e.at.Unix(),
					"Keys":                        map[string]any{"pk": map[string]any{"S": e.pk}, "sk": map[string]any{"S": e.sk}},
					"SequenceNumber":              e.seq.String(),
					"SizeBytes":                   200,
					"StreamViewType":              "NEW_AND_OLD_IMAGES",
				},
				"eventSourceARN": "arn:aws:dynamodb:ap-northeast-2:123456789012:table/e2e-history/stream/2026-04-01T00:00:00.000",
			}
			ddb := rec["dynamodb"].(map[string]any)
			if e.newImg != nil {
				ddb["NewImage"] = e.newImg
			}
			if e.oldImg != nil {
				ddb["OldImage"] = e.oldImg
			}
			if e.ttl {
				rec["userIdentity"] = map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}
			}
			line, err := json.Marshal(rec)
			if err != nil {
				panic(err)
			}
			buf.Write(line)
			if i < len(evs)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString("]}\n")
		out[name] = buf.Bytes()
	}
	return out
}

// TestHistoryFixturesUpToDate checks that testdata/e2e/history/ is what
// the generator writes (go test -run TestHistoryFixturesUpToDate -update
// rewrites it), and that the script holds what the latest-view test
// relies on.
func TestHistoryFixturesUpToDate(t *testing.T) {
	events := genHistory()
	kinds := map[string]bool{}
	removed := map[string]bool{}
	sameSecondAcrossDigits := false
	for i, e := range events {
		key := e.pk + "|" + e.sk
		switch {
		case e.name == "REMOVE" && e.ttl:
			kinds["ttl"] = true
			removed[key] = true
		case e.name == "REMOVE":
			kinds["remove"] = true
			removed[key] = true
		case e.name == "INSERT" && removed[key]:
			kinds["reinsert"] = true
		default:
			kinds[strings.ToLower(e.name)] = true
		}
		if i > 0 && events[i-1].at.Equal(e.at) && len(events[i-1].seq.String()) < len(e.seq.String()) {
			sameSecondAcrossDigits = true
		}
	}
	require.Equal(t, map[string]bool{"insert": true, "modify": true, "remove": true, "ttl": true, "reinsert": true}, kinds)
	require.True(t, sameSecondAcrossDigits, "two changes in one second whose sequence numbers differ in length")
	days := map[string]bool{}
	for _, e := range events {
		days[e.at.Format(time.DateOnly)] = true
	}
	require.GreaterOrEqual(t, len(days), 4)

	files := historyFiles(events)
	dir := historyDir()
	if *update {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err, "run go test -run TestHistoryFixturesUpToDate -update")
	got := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		got[e.Name()] = b
	}
	require.Equal(t, len(files), len(got), "files in %s", dir)
	for name, b := range files {
		require.Equal(t, string(b), string(got[name]), "%s is stale: run go test -run TestHistoryFixturesUpToDate -update", name)
	}
}
