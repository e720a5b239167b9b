package s3store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/s3store"
	"github.com/ddblake/ddblake/sink/storetest"
)

// fakeS3 is an in-process S3 server (gofakes3 over memory) with request
// counters, and a client pointed at it.
type fakeS3 struct {
	backend *s3mem.Backend
	client  *s3.Client
	mu      sync.Mutex
	calls   map[string]int
	// fail, when set, makes the server answer a request with 403.
	fail func(r *http.Request) bool
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New(), calls: map[string]int{}}
	faker := gofakes3.New(f.backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls[operation(r)]++
		fail := f.fail != nil && f.fail(r)
		f.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>injected</Message></Error>`)
			return
		}
		faker.Server().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.client = s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return f
}

// operation names an S3 request coarsely, for counting.
func operation(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodPut && (r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != ""):
		return "ConditionalPutObject"
	case r.Method == http.MethodPut:
		return "PutObject"
	}
	return r.Method
}

func (f *fakeS3) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

var buckets atomic.Int64

func (f *fakeS3) store(t *testing.T, prefix string, o s3store.Options) *s3store.Store {
	t.Helper()
	bucket := fmt.Sprintf("lake-%d", buckets.Add(1))
	require.NoError(t, f.backend.CreateBucket(bucket))
	st, err := s3store.New(f.client, "s3://"+bucket+prefix, o)
	require.NoError(t, err)
	return st
}

// TestStore runs the shared suite against gofakes3. gofakes3 v1.2.0
// checks If-None-Match and If-Match on PutObject itself, under its
// backend lock, so the conditional writes exercised here are the server's.
func TestStore(t *testing.T) {
	f := newFakeS3(t)
	storetest.Run(t, func(t *testing.T) sink.Store {
		return f.store(t, "/lake/prefix", s3store.Options{PartSize: 1 << 20, Concurrency: 3})
	})
	require.Greater(t, f.count("ConditionalPutObject"), 0)
	require.Greater(t, f.count("UploadPart"), 20, "the 20 MiB body went up in 1 MiB parts")
	require.Equal(t, 0, f.count("AbortMultipartUpload"))
}

func TestStoreAtBucketRoot(t *testing.T) {
	f := newFakeS3(t)
	st := f.store(t, "", s3store.Options{})
	ctx := context.Background()
	require.NoError(t, st.Put(ctx, "t/dt=2026-04-01/a.parquet", []byte("x")))
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: "t/dt=2026-04-01/a.parquet", Size: 1}}, objs)
}

// TestPrefixIsolation checks that a store sees only its prefix and
// writes only under it.
func TestPrefixIsolation(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	require.NoError(t, f.backend.CreateBucket("shared"))
	a, err := s3store.New(f.client, "s3://shared/a", s3store.Options{})
	require.NoError(t, err)
	ab, err := s3store.New(f.client, "s3://shared/ab/", s3store.Options{})
	require.NoError(t, err)
	root, err := s3store.New(f.client, "s3://shared", s3store.Options{})
	require.NoError(t, err)
	require.NoError(t, a.Put(ctx, "k", []byte("a")))
	require.NoError(t, ab.Put(ctx, "k", []byte("ab")))
	objs, err := a.List(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: "k", Size: 1}}, objs)
	all, err := root.List(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []sink.Object{{Key: "a/k", Size: 1}, {Key: "ab/k", Size: 2}}, all)
	require.Equal(t, "s3://shared/ab", ab.URI())
}

func TestMultipartFailureAborts(t *testing.T) {
	f := newFakeS3(t)
	st := f.store(t, "/p", s3store.Options{PartSize: 1 << 20, Concurrency: 2})
	f.mu.Lock()
	f.fail = func(r *http.Request) bool { return r.URL.Query().Get("partNumber") == "3" }
	f.mu.Unlock()
	err := st.Put(context.Background(), "t/big.parquet", make([]byte, 5<<20))
	require.ErrorContains(t, err, "part 3")
	require.ErrorContains(t, err, "AccessDenied")
	require.Equal(t, 1, f.count("AbortMultipartUpload"))
	require.Equal(t, 0, f.count("CompleteMultipartUpload"))
	_, err = st.Get(context.Background(), "t/big.parquet")
	require.ErrorIs(t, err, sink.ErrNotExist, "a failed upload leaves no object")
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct{ uri, bucket, prefix string }{
		{"s3://b-1.x", "b-1.x", ""},
		{"s3://bucket/", "bucket", ""},
		{"s3://bucket/lake", "bucket", "lake/"},
		{"s3://bucket/a/b/", "bucket", "a/b/"},
	} {
		b, p, err := s3store.ParseURI(tc.uri)
		require.NoError(t, err, tc.uri)
		require.Equal(t, tc.bucket, b)
		require.Equal(t, tc.prefix, p)
	}
	for _, bad := range []string{"", "bucket/x", "s3://", "s3://ab", "s3://Bucket/x", "s3://b u/x", "s3://bucket//x", "s3://bucket/../x", "s3://bucket/a/./b", "https://bucket/x"} {
		_, _, err := s3store.ParseURI(bad)
		require.ErrorIs(t, err, sink.ErrBadConfig, bad)
	}
}
