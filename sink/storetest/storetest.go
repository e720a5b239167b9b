package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Options tune the suite for a store.
type Options struct {
	// LargeBody is the size of the body of the large-object test
	// (default 20 MiB); stores that split uploads should be configured so
	// that it takes several parts.
	LargeBody int
	// Writers is the number of goroutines racing on one key (default 8).
	Writers int
}

// Run runs the suite with default options. newStore must return a new,
// empty store each time it is called.
func Run(t *testing.T, newStore func(t *testing.T) sink.Store) {
	RunWithOptions(t, Options{}, newStore)
}

// RunWithOptions runs the suite.
func RunWithOptions(t *testing.T, o Options, newStore func(t *testing.T) sink.Store) {
	if o.LargeBody == 0 {
		o.LargeBody = 20 << 20
	}
	if o.Writers == 0 {
		o.Writers = 8
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, st sink.Store, o Options)
	}{
		{"PutGetOverwrite", testPutGetOverwrite},
		{"Missing", testMissing},
		{"List", testList},
		{"Delete", testDelete},
		{"KeyValidation", testKeyValidation},
		{"PutIf", testPutIf},
		{"PutIfRace", testPutIfRace},
		{"RegistryRace", testRegistryRace},
		{"AtomicReplace", testAtomicReplace},
		{"LargeBody", testLargeBody},
		{"Spool", testSpool},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t), o) })
	}
}

func testPutGetOverwrite(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	key := "orders/dt=2026-04-01/a-0000.parquet"
	require.NoError(t, st.Put(ctx, key, []byte("first")))
	got, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	require.NoError(t, st.Put(ctx, key, []byte("second, longer")))
	got, err = st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "second, longer", string(got))
	require.NoError(t, st.Put(ctx, key, []byte("3")))
	got, err = st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "3", string(got), "a shorter body replaces, not overlays")

	require.NoError(t, st.Put(ctx, "empty", nil))
	got, err = st.Get(ctx, "empty")
	require.NoError(t, err)
	require.Empty(t, got)

	binary := []byte{0, 1, 2, 0xff, '\n', '\r'}
	require.NoError(t, st.Put(ctx, "bin", binary))
	got, err = st.Get(ctx, "bin")
	require.NoError(t, err)
	require.Equal(t, binary, got)
	require.NotEmpty(t, st.URI())
}

func testMissing(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	_, err := st.Get(ctx, "nope/x.json")
	require.ErrorIs(t, err, sink.ErrNotExist)
	_, _, err = st.GetVersion(ctx, "nope/x.json")
	require.ErrorIs(t, err, sink.ErrNotExist)
	require.NoError(t, st.Delete(ctx, "nope/x.json"))
	require.NoError(t, st.Put(ctx, "dir/file", []byte("x")))
	_, err = st.Get(ctx, "dir")
	require.ErrorIs(t, err, sink.ErrNotExist, "a folder is not an object")
	_, err = st.Get(ctx, "dir/file/below")
	require.ErrorIs(t, err, sink.ErrNotExist)
	objs, err := st.List(ctx, "nothing/")
	require.NoError(t, err)
	require.Empty(t, objs)
}

func testList(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	keys := map[string]string{
		"orders/dt=2026-04-01/a-0000.parquet":         "1",
		"orders/dt=2026-04-01/a-0001.parquet":         "22",
		"orders/dt=2026-04-02/hr=00/a-0000.parquet":   "333",
		"orders_archive/dt=2026-04-01/a-0000.parquet": "4444",
		"_errors/_unknown/dt=2026-04-01/a.jsonl":      "55555",
		"_ddblake/schemas/orders.json":                "666666",
		"top":                                         "7777777",
	}
	for k, v := range keys {
		require.NoError(t, st.Put(ctx, k, []byte(v)))
	}
	list := func(prefix string) []sink.Object {
		objs, err := st.List(ctx, prefix)
		require.NoError(t, err, prefix)
		return objs
	}
	all := list("")
	require.Len(t, all, len(keys))
	for i, o := range all {
		require.Equal(t, int64(len(keys[o.Key])), o.Size, o.Key)
		if i > 0 {
			require.Less(t, all[i-1].Key, o.Key, "sorted by key")
		}
	}
	keysOf := func(objs []sink.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.Key)
		}
		return out
	}
	require.Equal(t, []string{
		"orders/dt=2026-04-01/a-0000.parquet",
		"orders/dt=2026-04-01/a-0001.parquet",
		"orders/dt=2026-04-02/hr=00/a-0000.parquet",
	}, keysOf(list("orders/")))
	require.Equal(t, []string{
		"orders/dt=2026-04-01/a-0000.parquet",
		"orders/dt=2026-04-01/a-0001.parquet",
		"orders/dt=2026-04-02/hr=00/a-0000.parquet",
		"orders_archive/dt=2026-04-01/a-0000.parquet",
	}, keysOf(list("orders")), "a prefix is a string prefix, not a folder")
	require.Equal(t, []string{"orders/dt=2026-04-02/hr=00/a-0000.parquet"}, keysOf(list("orders/dt=2026-04-02")))
	require.Equal(t, []string{"orders/dt=2026-04-01/a-0001.parquet"}, keysOf(list("orders/dt=2026-04-01/a-0001")))
	require.Equal(t, []string{"_ddblake/schemas/orders.json"}, keysOf(list(sink.SchemasPrefix)))
	require.Equal(t, []string{"top"}, keysOf(list("to")))
}

func testDelete(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	require.NoError(t, st.Put(ctx, "t/dt=2026-04-01/x.parquet", []byte("x")))
	require.NoError(t, st.Put(ctx, "t/dt=2026-04-01/y.parquet", []byte("y")))
	require.NoError(t, st.Delete(ctx, "t/dt=2026-04-01/x.parquet"))
	_, err := st.Get(ctx, "t/dt=2026-04-01/x.parquet")
	require.ErrorIs(t, err, sink.ErrNotExist)
	require.NoError(t, st.Delete(ctx, "t/dt=2026-04-01/x.parquet"), "deleting twice is fine")
	objs, err := st.List(ctx, "t/")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: "t/dt=2026-04-01/y.parquet", Size: 1}}, objs)
}

// badKeys could each escape the root or alias another key.
var badKeys = []string{
	"", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./a", "a//b", "a/", `a\..\x`,
	".hidden", "a/.tmp-x", "s3://other-bucket/x", "a\x00b", "%2e%2e/x", "ü",
}

func testKeyValidation(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	for _, k := range badKeys {
		require.ErrorIs(t, st.Put(ctx, k, []byte("x")), sink.ErrBadKey, "put %q", k)
		_, err := st.Get(ctx, k)
		require.ErrorIs(t, err, sink.ErrBadKey, "get %q", k)
		_, _, err = st.GetVersion(ctx, k)
		require.ErrorIs(t, err, sink.ErrBadKey, "getversion %q", k)
		_, err = st.PutIf(ctx, k, []byte("x"), "")
		require.ErrorIs(t, err, sink.ErrBadKey, "putif %q", k)
		if k != "" {
			require.ErrorIs(t, st.Delete(ctx, k), sink.ErrBadKey, "delete %q", k)
		}
	}
	for _, p := range []string{"/", "../", "a//", "/a"} {
		_, err := st.List(ctx, p)
		require.ErrorIs(t, err, sink.ErrBadKey, "list %q", p)
	}
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Empty(t, objs, "refused writes left nothing behind")
}

func testPutIf(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	key := "_ddblake/schemas/t.json"
	_, err := st.PutIf(ctx, key, []byte("v1"), "some-version")
	require.ErrorIs(t, err, sink.ErrPrecondition, "a version for a missing object")
	v1, err := st.PutIf(ctx, key, []byte("v1"), "")
	require.NoError(t, err)
	require.NotEmpty(t, v1)
	_, err = st.PutIf(ctx, key, []byte("again"), "")
	require.ErrorIs(t, err, sink.ErrPrecondition, "create when it exists")

	data, ver, err := st.GetVersion(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "v1", string(data))
	require.Equal(t, v1, ver, "GetVersion returns the version PutIf returned")

	v2, err := st.PutIf(ctx, key, []byte("v2"), ver)
	require.NoError(t, err)
	require.NotEqual(t, v1, v2)
	_, err = st.PutIf(ctx, key, []byte("stale"), v1)
	require.ErrorIs(t, err, sink.ErrPrecondition, "stale version")
	got, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "v2", string(got), "a failed PutIf changes nothing")

	// An unconditional Put changes the version too.
	require.NoError(t, st.Put(ctx, key, []byte("v3")))
	_, err = st.PutIf(ctx, key, []byte("stale"), v2)
	require.ErrorIs(t, err, sink.ErrPrecondition)
	_, v3, err := st.GetVersion(ctx, key)
	require.NoError(t, err)
	_, err = st.PutIf(ctx, key, []byte("v4"), v3)
	require.NoError(t, err)

	// After a delete, only a create succeeds.
	_, v4, err := st.GetVersion(ctx, key)
	require.NoError(t, err)
	require.NoError(t, st.Delete(ctx, key))
	_, err = st.PutIf(ctx, key, []byte("v5"), v4)
	require.ErrorIs(t, err, sink.ErrPrecondition)
	_, err = st.PutIf(ctx, key, []byte("v5"), "")
	require.NoError(t, err)
}

// testPutIfRace has writers increment one counter by read-modify-write
// with PutIf, retrying on ErrPrecondition: no increment may be lost.
func testPutIfRace(t *testing.T, st sink.Store, o Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const key = "_ddblake/counter.json"
	const perWriter = 8
	var wg sync.WaitGroup
	errs := make(chan error, o.Writers)
	var conflicts sync.Map
	for w := range o.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lost := 0
			for done := 0; done < perWriter; {
				data, ver, err := st.GetVersion(ctx, key)
				n := 0
				switch {
				case errors.Is(err, sink.ErrNotExist):
					ver = ""
				case err != nil:
					errs <- err
					return
				default:
					if n, err = strconv.Atoi(string(data)); err != nil {
						errs <- err
						return
					}
				}
				_, err = st.PutIf(ctx, key, []byte(strconv.Itoa(n+1)), ver)
				switch {
				case err == nil:
					done++
				case errors.Is(err, sink.ErrPrecondition):
					lost++
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				default:
					errs <- err
					return
				}
			}
			conflicts.Store(w, lost)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	data, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(o.Writers*perWriter), string(data), "no lost update")
	total := 0
	conflicts.Range(func(_, v any) bool { total += v.(int); return true })
	t.Logf("%d writers x %d increments: %d lost races retried", o.Writers, perWriter, total)
}

// testRegistryRace has writers commit new columns to one table's schema
// at once, like Lambdas on different shards: every column survives, each
// path once, names unique.
func testRegistryRace(t *testing.T, st sink.Store, o Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg := sink.NewRegistry(st)
	reg.MaxAttempts = 200
	base := schemas.NewSchema("chat_messages")
	_, err := base.Add(schemas.Column{Name: "room_id", Path: "roomId", Type: schemas.String, Source: "S"})
	require.NoError(t, err)
	_, err = reg.Commit(ctx, base)
	require.NoError(t, err)

	const perWriter = 3
	var wg sync.WaitGroup
	errs := make(chan error, o.Writers)
	for w := range o.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perWriter {
				s, err := reg.Load(ctx, "chat_messages")
				if err != nil {
					errs <- err
					return
				}
				// A column of its own, and "shared" proposed by everyone
				// under the same path; "label" by everyone under different
				// paths, which must get distinct names.
				for _, c := range []schemas.Column{
					{Name: fmt.Sprintf("w%d_c%d", w, k), Path: fmt.Sprintf("w%d.c%d", w, k), Type: schemas.Bigint, Source: "N"},
					{Name: "shared", Path: "shared", Type: schemas.String, Source: "S"},
					{Name: "label", Path: fmt.Sprintf("label%d", w), Type: schemas.String, Source: "S"},
				} {
					if _, ok := s.Lookup(c.Path); !ok {
						if _, err := s.Add(c); err != nil {
							errs <- err
							return
						}
					}
				}
				merged, err := reg.Commit(ctx, s)
				if err != nil {
					errs <- err
					return
				}
				if _, ok := merged.Lookup(fmt.Sprintf("w%d.c%d", w, k)); !ok {
					errs <- fmt.Errorf("writer %d: committed schema lacks its column", w)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	s, err := reg.Load(ctx, "chat_messages")
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	require.Equal(t, "room_id", s.Columns[0].Name, "existing columns keep their place")
	for w := range o.Writers {
		for k := range perWriter {
			_, ok := s.Lookup(fmt.Sprintf("w%d.c%d", w, k))
			require.True(t, ok, "column of writer %d round %d", w, k)
		}
		_, ok := s.Lookup(fmt.Sprintf("label%d", w))
		require.True(t, ok)
	}
	require.Len(t, s.Columns, 1+o.Writers*perWriter+1+o.Writers, "every path once")
	labels := 0
	for _, c := range s.Columns {
		if c.Name == "label" || len(c.Name) > 6 && c.Name[:6] == "label_" {
			labels++
		}
	}
	require.Equal(t, o.Writers, labels, "label, label_2, ... one per path")

	tables, err := reg.Tables(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"chat_messages"}, tables)
	all, err := reg.LoadAll(ctx)
	require.NoError(t, err)
	got, ok := all.Get("chat_messages")
	require.True(t, ok)
	require.True(t, got.Equal(s))

	// Committing what is stored writes nothing and returns it.
	_, before, err := st.GetVersion(ctx, "_ddblake/schemas/chat_messages.json")
	require.NoError(t, err)
	again, err := reg.Commit(ctx, s)
	require.NoError(t, err)
	require.True(t, again.Equal(s))
	_, after, err := st.GetVersion(ctx, "_ddblake/schemas/chat_messages.json")
	require.NoError(t, err)
	require.Equal(t, before, after)

	// The stored object is the schema's JSON.
	data, err := st.Get(ctx, "_ddblake/schemas/chat_messages.json")
	require.NoError(t, err)
	var back schemas.Schema
	require.NoError(t, json.Unmarshal(data, &back))
	require.True(t, back.Equal(s))
}

// testAtomicReplace reads an object while it is replaced over and over:
// every read sees one whole body, never a mix or a part.
func testAtomicReplace(t *testing.T, st sink.Store, _ Options) {
	ctx := context.Background()
	const key = "t/dt=2026-04-01/flip.parquet"
	a := bytes.Repeat([]byte("A"), 1<<20)
	b := bytes.Repeat([]byte("b"), 1<<20+7)
	require.NoError(t, st.Put(ctx, key, a))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			body := a
			if i%2 == 0 {
				body = b
			}
			if err := st.Put(ctx, key, body); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 30 {
		got, err := st.Get(ctx, key)
		require.NoError(t, err)
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			close(done)
			wg.Wait()
			t.Fatalf("read a body of %d bytes that is neither version", len(got))
		}
	}
	close(done)
	wg.Wait()
}

func testLargeBody(t *testing.T, st sink.Store, o Options) {
	ctx := context.Background()
	body := make([]byte, o.LargeBody)
	randomBytes(body, 7)
	const key = "big/dt=2026-04-01/big.parquet"
	require.NoError(t, st.Put(ctx, key, body))
	got, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, len(body), len(got))
	require.True(t, bytes.Equal(body, got), "large body round trip")
	objs, err := st.List(ctx, "big/")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: key, Size: int64(len(body))}}, objs)
	// Replacing a large object with a small one.
	require.NoError(t, st.Put(ctx, key, []byte("small")))
	got, err = st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "small", string(got))
}

// testSpool writes objects through sink.CreateSpool: the store's own
// spools when it has them, else the generic one. An object written in a
// spool is not there (or is still the old one) until Put; a discarded
// spool leaves nothing.
func testSpool(t *testing.T, st sink.Store, o Options) {
	ctx := context.Background()
	_, err := sink.CreateSpool(st, "../escape")
	require.ErrorIs(t, err, sink.ErrBadKey)

	const key = "t/dt=2026-04-01/spooled.parquet"
	require.NoError(t, st.Put(ctx, key, []byte("old")))
	sp, err := sink.CreateSpool(st, key)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 3))
	var want []byte
	for want = nil; len(want) < o.LargeBody; {
		chunk := make([]byte, 1+r.IntN(3<<20))
		randomBytes(chunk, uint64(len(want)))
		_, err := sp.Write(chunk)
		require.NoError(t, err)
		want = append(want, chunk...)
	}
	head := make([]byte, 100)
	_, err = sp.ReadAt(head, 10)
	require.NoError(t, err)
	require.Equal(t, want[10:110], head, "a spool reads back what was written")
	got, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "old", string(got), "the object is the old one until Put")
	require.NoError(t, sp.Put(ctx))
	got, err = st.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the spool's %d bytes put", len(want))

	sp, err = sink.CreateSpool(st, "t/dt=2026-04-01/discarded.parquet")
	require.NoError(t, err)
	_, err = sp.Write([]byte("never"))
	require.NoError(t, err)
	require.NoError(t, sp.Discard())
	objs, err := st.List(ctx, "t/")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: key, Size: int64(len(want))}}, objs, "a discarded spool leaves no object")

	// A small object, one write.
	sp, err = sink.CreateSpool(st, "t/dt=2026-04-02/small.parquet")
	require.NoError(t, err)
	_, err = sp.Write([]byte("tiny"))
	require.NoError(t, err)
	require.NoError(t, sp.Put(ctx))
	got, err = st.Get(ctx, "t/dt=2026-04-02/small.parquet")
	require.NoError(t, err)
	require.Equal(t, "tiny", string(got))
}

// randomBytes fills b with bytes that do not compress, the same for the
// same seed; in one call, so that it stays quick under the race detector
// (a byte at a time is millions of checked writes).
func randomBytes(b []byte, seed uint64) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	_, _ = rand.NewChaCha8(key).Read(b)
}
