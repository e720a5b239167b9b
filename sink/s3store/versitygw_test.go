package s3store_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/proctest"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/s3store"
	"github.com/ddblake/ddblake/sink/storetest"
)

// TestStoreVersityGW runs the shared suite against versitygw, an S3
// gateway over a POSIX directory, started here on a loopback port. It
// needs the versitygw binary on PATH (or in $GOPATH/bin) and a temporary
// directory with extended attributes, where versitygw keeps ETags. (With
// its --sidecar metadata directory instead, versitygw v1.8.0 let racing
// If-Match writers both succeed in the PutIfRace test: 40 of 64
// increments survived.)
func TestStoreVersityGW(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the versitygw server test")
	}
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		bin = filepath.Join(os.Getenv("HOME"), "go", "bin", "versitygw")
		if gopath := os.Getenv("GOPATH"); gopath != "" {
			bin = filepath.Join(gopath, "bin", "versitygw")
		}
		if _, err := os.Stat(bin); err != nil {
			t.Skip("versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
		}
	}
	root := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", "test", "--secret", "testsecret", "--port", addr, "--quiet",
		"posix", root)
	cmd.Stderr = os.Stderr
	exited, err := proctest.Start(cmd)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	// A generous bound: the wait ends as soon as versitygw listens, or at
	// once when it exits.
	ready, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	require.NoError(t, proctest.WaitListening(ready, addr, exited), "versitygw listens")
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "testsecret", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + addr)
		o.UsePathStyle = true
	})
	var n atomic.Int64
	storetest.RunWithOptions(t, storetest.Options{LargeBody: 12 << 20}, func(t *testing.T) sink.Store {
		bucket := fmt.Sprintf("lake-%d", n.Add(1))
		_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		require.NoError(t, err)
		st, err := s3store.New(client, "s3://"+bucket+"/lake", s3store.Options{PartSize: s3store.MinPartSize})
		require.NoError(t, err)
		return st
	})
}
