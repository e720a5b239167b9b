package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

// rec is a change record of table from account/region (both "" for an
// input that names neither), with one S attribute per name=value pair.
func rec(table, account, region string, index int, attrs ...string) *decode.ChangeRecord {
	var img []flatten.Attr
	for _, a := range attrs {
		k, v, _ := strings.Cut(a, "=")
		img = append(img, flatten.Attr{Name: k, Value: flatten.Value{Kind: flatten.S, S: v}})
	}
	return &decode.ChangeRecord{
		Source: "test", Index: index, Table: table, Account: account, Region: region,
		EventName: decode.EventInsert, EventTimeMicros: 1775001600_000000 + int64(index),
		Sequence: fmt.Sprintf("%021d", index), NewImage: flatten.ItemOf(img), Keys: flatten.ItemOf(img[:1]),
		Raw: []byte(fmt.Sprintf(`{"record":%d}`, index)),
	}
}

// identityLake is a lake in a directory, with a Processor over it.
type identityLake struct {
	dir   string
	store sink.Store
	p     *Processor
	aside []SetAside
	mu    sync.Mutex
}

func newIdentityLake(t *testing.T, dir string, cfg *Config) *identityLake {
	t.Helper()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	l := &identityLake{dir: dir, store: store}
	l.p = &Processor{Config: cfg, Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: l}
	return l
}

// SetAside keeps the entries and writes them to the lake's quarantine.
func (l *identityLake) SetAside(ctx context.Context, batchID string, entries []SetAside) error {
	l.mu.Lock()
	l.aside = append(l.aside, entries...)
	l.mu.Unlock()
	return NewLakeErrors(l.store).SetAside(ctx, batchID, entries)
}

func (l *identityLake) process(t *testing.T, id string, recs ...*decode.ChangeRecord) Result {
	t.Helper()
	res, err := l.p.Process(context.Background(), &Batch{ID: id, Records: recs})
	require.NoError(t, err)
	require.Equal(t, -1, res.FirstFailed)
	return res
}

// origins maps each lake table of the registry to its origin and sources.
func (l *identityLake) origins(t *testing.T) map[string]string {
	t.Helper()
	reg, err := sink.NewRegistry(l.store).LoadAll(context.Background())
	require.NoError(t, err)
	out := map[string]string{}
	for _, name := range reg.Tables() {
		s, _ := reg.Get(name)
		require.NotNil(t, s.Origin, "table %s records its origin", name)
		desc := s.Origin.String()
		for _, src := range s.Sources {
			desc += "; " + src.Account + "/" + src.Region
		}
		out[name] = desc
	}
	return out
}

// TestCollidingTableNames: DynamoDB tables whose names sanitize to one
// name get lake tables of their own: the first seen keeps the name, the
// others get _2, _3, ... in the order they are first seen. The registry
// records who holds which name, so another process, seeing them in
// another order, gives each the same lake table.
func TestCollidingTableNames(t *testing.T) {
	dir := t.TempDir()
	l := newIdentityLake(t, dir, nil)
	res := l.process(t, "b1",
		rec("chat-messages", acctA, "us-east-1", 0, "id=a"),
		rec("chat.messages", acctA, "us-east-1", 1, "id=b"),
		rec("chat-messages", acctA, "us-east-1", 2, "id=c"),
		rec("ChatMessages", acctA, "us-east-1", 3, "id=d"),
	)
	l.process(t, "b2", rec("chat_messages", acctA, "us-east-1", 4, "id=e"))
	want := map[string]string{
		"chat_messages":   "dynamodb table chat-messages; " + acctA + "/us-east-1",
		"chat_messages_2": "dynamodb table chat.messages; " + acctA + "/us-east-1",
		"chat_messages_3": "dynamodb table ChatMessages; " + acctA + "/us-east-1",
		"chat_messages_4": "dynamodb table chat_messages; " + acctA + "/us-east-1",
	}
	require.Equal(t, want, l.origins(t))
	require.Equal(t, map[string]int{"chat_messages": 2, "chat_messages_2": 1, "chat_messages_3": 1}, res.TableRows)
	require.Equal(t, map[string]string{"chat_messages_2": "dynamodb table chat.messages", "chat_messages_3": "dynamodb table ChatMessages"}, res.Renamed)
	require.Equal(t, 2, parquetRows(t, dir, "chat_messages"))
	for _, n := range []string{"chat_messages_2", "chat_messages_3", "chat_messages_4"} {
		require.Equal(t, 1, parquetRows(t, dir, n), n)
	}

	// A new process (empty caches), the tables in reverse order: each
	// keeps its lake table.
	l2 := newIdentityLake(t, dir, nil)
	res = l2.process(t, "b3",
		rec("chat_messages", acctA, "us-east-1", 0, "id=f"),
		rec("ChatMessages", acctA, "us-east-1", 1, "id=g"),
		rec("chat.messages", acctA, "us-east-1", 2, "id=h"),
		rec("chat-messages", acctA, "us-east-1", 3, "id=i"),
	)
	require.Equal(t, map[string]int{"chat_messages": 1, "chat_messages_2": 1, "chat_messages_3": 1, "chat_messages_4": 1}, res.TableRows)
	require.Equal(t, want, l2.origins(t))
}

// TestOtherSourceSetAside: records of one table name from a second
// account, or a second region, do not mix into the first one's lake
// table: they are set aside with the reason, kind other_source.
func TestOtherSourceSetAside(t *testing.T) {
	dir := t.TempDir()
	l := newIdentityLake(t, dir, nil)
	res := l.process(t, "b1",
		rec("chat-messages", acctA, "us-east-1", 0, "id=a"),
		rec("chat-messages", acctB, "us-east-1", 1, "id=b"),
		rec("chat-messages", acctA, "eu-west-1", 2, "id=c"),
		rec("chat-messages", acctA, "us-east-1", 3, "id=d"),
	)
	require.Equal(t, 2, res.Rows)
	require.Equal(t, 2, res.SetAside)
	require.Equal(t, 2, parquetRows(t, dir, "chat_messages"))
	require.Len(t, l.aside, 2)
	for i, a := range l.aside {
		require.ErrorIs(t, a.Err, ErrOtherSource)
		require.Equal(t, "other_source", errorKindOf(a.Err))
		require.Equal(t, "chat_messages", a.Table)
		require.Equal(t, []int{1, 2}[i], a.Index)
		require.Contains(t, a.Err.Error(), "lake table chat_messages holds the records of account "+acctA+" region us-east-1")
	}
	require.Contains(t, l.aside[0].Err.Error(), "account "+acctB+" region us-east-1")

	// In a later batch too, and from another process.
	l2 := newIdentityLake(t, dir, nil)
	res = l2.process(t, "b2", rec("chat-messages", acctB, "us-east-1", 0, "id=e"))
	require.Zero(t, res.Rows)
	require.Equal(t, 1, res.SetAside)
	require.Equal(t, map[string]string{"chat_messages": "dynamodb table chat-messages; " + acctA + "/us-east-1"}, l2.origins(t))

	// The quarantine holds the records, with the error kind.
	files, err := filepath.Glob(filepath.Join(dir, "_errors", "chat_messages", "dt=*", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var kinds []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var q struct {
				ErrorKind string `json:"error_kind"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &q))
			kinds = append(kinds, q.ErrorKind)
		}
	}
	require.Equal(t, []string{"other_source", "other_source", "other_source"}, kinds)
}

// TestSourcesConfig: the configuration lists the sources of a table. A
// global table's regions share one lake table; a dev account kept apart
// with as: gets its own (with that table's rules when it has an entry);
// an account not listed is set aside, even when it comes first.
func TestSourcesConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
tables:
  chat-messages:
    omit: [secret]
    sources:
      - {account: "111111111111", region: us-east-1}
      - {account: "111111111111", region: eu-west-1}
      - {account: "222222222222", as: chat-messages-dev}
  chat-messages-dev:
    omit: [debug]
`))
	require.NoError(t, err)
	dir := t.TempDir()
	l := newIdentityLake(t, dir, cfg)
	res := l.process(t, "b1",
		rec("chat-messages", "333333333333", "us-east-1", 0, "id=z"),
		rec("chat-messages", acctA, "eu-west-1", 1, "id=a", "secret=s", "debug=d"),
		rec("chat-messages", acctA, "us-east-1", 2, "id=b", "secret=s", "debug=d"),
		rec("chat-messages", acctB, "ap-northeast-2", 3, "id=c", "secret=s", "debug=d"),
		rec("chat-messages", acctA, "ap-northeast-2", 4, "id=d"),
	)
	require.Equal(t, map[string]int{"chat_messages": 2, "chat_messages_dev": 1}, res.TableRows)
	require.Equal(t, map[string]string{
		"chat_messages":     "dynamodb table chat-messages; " + acctA + "/eu-west-1; " + acctA + "/us-east-1",
		"chat_messages_dev": "dynamodb table chat-messages-dev; " + acctB + "/ap-northeast-2",
	}, l.origins(t))
	require.Len(t, l.aside, 2)
	require.Equal(t, []int{0, 4}, []int{l.aside[0].Index, l.aside[1].Index})
	for _, a := range l.aside {
		require.ErrorIs(t, a.Err, ErrOtherSource)
		require.Contains(t, a.Err.Error(), "is not among the sources listed under tables.chat-messages.sources")
	}
	cols := func(table string) []string {
		s, err := NewRegistrySchemas(l.store).Schema(context.Background(), table)
		require.NoError(t, err)
		var out []string
		for _, c := range s.Columns {
			out = append(out, c.Name)
		}
		return out
	}
	require.Equal(t, []string{"id", "debug"}, cols("chat_messages"), "the table's own rules")
	require.Equal(t, []string{"id", "secret"}, cols("chat_messages_dev"), "as: takes the rules of its own entry")
}

// TestUnknownSourceLands: records that name no account or region (a
// jsonl line without eventSourceARN read with --table) land in the lake
// table of their table name, whatever sources it holds, and record none.
func TestUnknownSourceLands(t *testing.T) {
	cfg, err := ParseConfig([]byte("tables:\n  chat-messages:\n    sources: [{account: \"111111111111\", region: us-east-1}]\n"))
	require.NoError(t, err)
	l := newIdentityLake(t, t.TempDir(), cfg)
	res := l.process(t, "b1",
		rec("chat-messages", acctA, "us-east-1", 0, "id=a"),
		rec("chat-messages", "", "", 1, "id=b"),
	)
	require.Equal(t, 2, res.Rows)
	require.Zero(t, res.SetAside)
	require.Equal(t, map[string]string{"chat_messages": "dynamodb table chat-messages; " + acctA + "/us-east-1"}, l.origins(t))

	l = newIdentityLake(t, t.TempDir(), nil)
	res = l.process(t, "b1", rec("chat-messages", "", "", 0, "id=b"), rec("chat-messages", acctB, "us-east-1", 1, "id=c"))
	require.Equal(t, 2, res.Rows, "an unknown source claims nothing")
	require.Equal(t, map[string]string{"chat_messages": "dynamodb table chat-messages; " + acctB + "/us-east-1"}, l.origins(t))
}

// TestRoutesKeepTheirNames: routing rules still send items to logical
// tables; a DynamoDB table whose name is a logical table's is another
// origin and gets a suffix when it comes second. Records of another
// account routed to the same logical table are set aside there too.
func TestRoutesKeepTheirNames(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
tables:
  chat:
    routes:
      - {table: messages, attribute: sk, prefix: "MSG#"}
`))
	require.NoError(t, err)
	dir := t.TempDir()
	l := newIdentityLake(t, dir, cfg)
	res := l.process(t, "b1",
		rec("chat", acctA, "us-east-1", 0, "id=1", "sk=MSG#1"),
		rec("chat", acctA, "us-east-1", 1, "id=2", "sk=META"),
		rec("messages", acctA, "us-east-1", 2, "id=3"),
		rec("chat", acctB, "us-east-1", 3, "id=4", "sk=MSG#2"),
	)
	require.Equal(t, map[string]int{"messages": 1, "chat": 1, "messages_2": 1}, res.TableRows)
	require.Equal(t, map[string]string{
		"messages":   "route messages; " + acctA + "/us-east-1",
		"chat":       "dynamodb table chat; " + acctA + "/us-east-1",
		"messages_2": "dynamodb table messages; " + acctA + "/us-east-1",
	}, l.origins(t))
	require.Len(t, l.aside, 1)
	require.ErrorIs(t, l.aside[0].Err, ErrOtherSource)
	require.Equal(t, "messages", l.aside[0].Table)
}

// TestLakeNamesAvoidViewsAndLimits: a lake table name never ends in
// _latest (the name of a view), and is cut so that its view's name is
// an Athena name too.
func TestLakeNamesAvoidViewsAndLimits(t *testing.T) {
	long := strings.Repeat("a", 255)
	l := newIdentityLake(t, t.TempDir(), nil)
	res := l.process(t, "b1",
		rec("chat-messages-latest", acctA, "us-east-1", 0, "id=a"),
		rec(long, acctA, "us-east-1", 1, "id=b"),
		rec(strings.Repeat("a", 254)+"b", acctA, "us-east-1", 2, "id=c"),
	)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range res.TableRows {
			if !yield(n) {
				return
			}
		}
	})
	require.Len(t, names, 3, "three tables, three lake tables: %v", names)
	require.Contains(t, names, "chat_messages_latest_2")
	reg, err := sink.NewRegistry(l.store).LoadAll(context.Background())
	require.NoError(t, err)
	for _, n := range names {
		require.LessOrEqual(t, len(n), schemas.MaxTableNameLen+len("_10000"))
		s, _ := reg.Get(n)
		require.NoError(t, schemas.ValidateForAthena(s), "%s can be defined in Athena", n)
	}
}

// TestConcurrentClaims runs one Processor per goroutine (each with its
// own caches, as concurrent Lambdas on different shards have) over one
// lake: tables whose names collide, each from one goroutine, claim names
// at once; and two accounts of one table race for its lake table. Every
// table gets one lake table of its own, and only one account gets in.
func TestConcurrentClaims(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tables := []string{"chat-messages", "chat_messages", "chat.messages", "ChatMessages", "Chat-Messages", "chat..messages"}
	const rounds = 3
	var wg sync.WaitGroup
	results := make([]Result, len(tables)*rounds)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := newIdentityLake(t, dir, nil)
			res, err := l.p.Process(context.Background(), &Batch{ID: fmt.Sprintf("b%d", i),
				Records: []*decode.ChangeRecord{rec(tables[i%len(tables)], acctA, "us-east-1", i, fmt.Sprintf("id=%d", i))}})
			if err == nil && res.FirstFailed >= 0 {
				err = fmt.Errorf("record %d failed", res.FirstFailed)
			}
			require.NoError(t, err)
			results[i] = res
		}()
	}
	wg.Wait()
	byTable := map[string]map[string]bool{} // DynamoDB table -> lake tables its rows went to
	for i, res := range results {
		require.Len(t, res.TableRows, 1)
		for lake := range res.TableRows {
			if byTable[tables[i%len(tables)]] == nil {
				byTable[tables[i%len(tables)]] = map[string]bool{}
			}
			byTable[tables[i%len(tables)]][lake] = true
		}
	}
	lakes := map[string]bool{}
	for table, got := range byTable {
		require.Len(t, got, 1, "%s went to one lake table", table)
		for lake := range got {
			require.False(t, lakes[lake], "lake table %s is shared", lake)
			lakes[lake] = true
		}
	}
	want := []string{"chat_messages"}
	for i := 2; i <= len(tables); i++ {
		want = append(want, fmt.Sprintf("chat_messages_%d", i))
	}
	got := make([]string, 0, len(lakes))
	for n := range lakes {
		got = append(got, n)
	}
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)
	l := newIdentityLake(t, dir, nil)
	origins := l.origins(t)
	for table, got := range byTable {
		for lake := range got {
			require.Equal(t, "dynamodb table "+table+"; "+acctA+"/us-east-1", origins[lake])
		}
	}

	// Two accounts, one table, at once: one gets in, the other is set
	// aside, whichever wins.
	dir = t.TempDir()
	var admitted, refused int
	var mu sync.Mutex
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := newIdentityLake(t, dir, nil)
			account := []string{acctA, acctB}[i%2]
			res, err := l.p.Process(context.Background(), &Batch{ID: fmt.Sprintf("s%d", i),
				Records: []*decode.ChangeRecord{rec("chat-messages", account, "us-east-1", i, "id=x")}})
			require.NoError(t, err)
			mu.Lock()
			admitted += res.Rows
			refused += res.SetAside
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, 4, admitted, "one account's 4 records")
	require.Equal(t, 4, refused, "the other's 4 set aside")
	origins = newIdentityLake(t, dir, nil).origins(t)
	require.Len(t, origins, 1)
	require.Len(t, strings.Split(origins["chat_messages"], "; "), 2, "one source recorded: %s", origins["chat_messages"])
}

// TestLegacyTableAdopted: a lake written before origins were recorded
// has schemas without one; the first table asking for the name adopts
// it, keeping its columns.
func TestLegacyTableAdopted(t *testing.T) {
	dir := t.TempDir()
	l := newIdentityLake(t, dir, nil)
	legacy := schemas.NewSchema("chat_messages")
	_, err := legacy.Add(schemas.Column{Name: "id", Path: "id", Type: schemas.String, Source: "S"})
	require.NoError(t, err)
	_, err = sink.NewRegistry(l.store).Commit(context.Background(), legacy)
	require.NoError(t, err)

	res := l.process(t, "b1", rec("chat.messages", acctA, "us-east-1", 0, "id=a"), rec("chat-messages", acctA, "us-east-1", 1, "id=b"))
	require.Equal(t, map[string]int{"chat_messages": 1, "chat_messages_2": 1}, res.TableRows)
	require.Equal(t, "dynamodb table chat.messages; "+acctA+"/us-east-1", l.origins(t)["chat_messages"])
}

func TestSourcesConfigValidate(t *testing.T) {
	for _, bad := range []string{
		"defaults:\n  sources: [{account: \"111111111111\"}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"11111111111\"}]\n",
		"tables:\n  t1x:\n    sources: [{account: 111111111111x}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\", region: US_EAST}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\", as: \"a/b\"}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\", as: t1x}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\"}, {account: \"111111111111\", region: us-east-1}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\", region: us-east-1}, {account: \"111111111111\", region: us-east-1}]\n",
		"tables:\n  t1x:\n    sources: [{account: \"111111111111\", zone: a}]\n",
		"tables:\n  t1x:\n    routes: [{table: msgs, attribute: sk, prefix: M}]\n  msgs:\n    sources: [{account: \"111111111111\"}]\n",
		"tables:\n  t1x:\n    routes: [{table: msgs_latest, attribute: sk, prefix: M}]\n",
		"tables:\n  t1x:\n    routes: [{table: _errors, attribute: sk, prefix: M}]\n",
	} {
		_, err := ParseConfig([]byte(bad))
		require.ErrorIs(t, err, flatten.ErrBadConfig, "%s", bad)
	}
	_, err := ParseConfig([]byte("tables:\n  t1x:\n    sources:\n      - {account: \"011111111111\", region: us-gov-west-1}\n      - {account: \"011111111111\", region: cn-north-1, as: t1x-cn}\n      - {account: \"222222222222\"}\n"))
	require.NoError(t, err)
}

// TestRefusedRecordsLeaveNoTrace: the keys and columns of a lake table
// come only from the records it admits.
func TestRefusedRecordsLeaveNoTrace(t *testing.T) {
	l := newIdentityLake(t, t.TempDir(), nil)
	first := rec("chat-messages", acctA, "us-east-1", 0, "id=a")
	first.Keys = flatten.Item{} // an export item: no key schema
	l.process(t, "b1", first)
	other := rec("chat-messages", acctB, "us-east-1", 1, "other=x", "secret=y")
	res := l.process(t, "b2", other, rec("chat-messages", acctA, "us-east-1", 2, "id=b"))
	require.Equal(t, 1, res.Rows)
	require.Equal(t, 1, res.SetAside)
	s, err := NewRegistrySchemas(l.store).Schema(context.Background(), "chat_messages")
	require.NoError(t, err)
	require.Equal(t, []string{"id"}, s.Keys, "not the refused record's key")
	require.Len(t, s.Columns, 1, "no column from the refused record")
}
