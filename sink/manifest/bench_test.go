package manifest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink/manifest"
)

// BenchmarkAdd is what a Lambda batch pays to list its file in the
// manifest of a partition that already lists n files (Lambda-named keys
// of an S3 lake): read, parse, add, format and write back. The manifest's
// size (MB/s is its bytes) is what goes to S3 and back.
func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 35_000} {
		b.Run(fmt.Sprintf("%d-files", n), func(b *testing.B) {
			ctx := context.Background()
			st := laketest.NewMemStore()
			keys := make([]string, n)
			name := func(i int) string {
				return fmt.Sprintf("chat_messages/dt=2026-04-01/3723b08f3883-shardId-00000001775000000000-%08x-%021d-%021d-0000.parquet", i%4, i*1000, i*1000+999)
			}
			for i := range keys {
				keys[i] = name(i)
			}
			root := "s3://my-lake-bucket/lake/"
			key, _ := manifest.Key("chat_messages", day)
			body := manifest.Format(root, keys)
			if err := st.Put(ctx, key, body); err != nil {
				b.Fatal(err)
			}
			s3 := uriStore{st, "s3://my-lake-bucket/lake"}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			i := n
			for b.Loop() {
				if _, err := manifest.Add(ctx, s3, "chat_messages", day, []string{name(i)}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(len(body)), "manifest-bytes")
		})
	}
}

// uriStore is a store that names itself as an S3 lake.
type uriStore struct {
	*laketest.MemStore
	uri string
}

func (u uriStore) URI() string { return u.uri }
