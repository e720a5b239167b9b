// Package s3test runs an in-process S3 server (gofakes3 over memory) for
// tests that need a real S3 protocol peer, and makes S3 stores on it.
package s3test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ddblake/ddblake/sink/s3store"
)

// Server is an in-process S3 server and a client pointed at it.
type Server struct {
	Client *s3.Client
	URL    string
}

// New starts a server, stopped when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return &Server{Client: client, URL: srv.URL}
}

// Store creates bucket (if needed) and returns a store rooted at
// s3://bucket/prefix.
func (s *Server) Store(t testing.TB, bucket, prefix string) *s3store.Store {
	t.Helper()
	_, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		var owned bool
		if _, herr := s.Client.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); herr == nil {
			owned = true
		}
		if !owned {
			t.Fatalf("create bucket %s: %v", bucket, err)
		}
	}
	root := "s3://" + bucket
	if prefix != "" {
		root += "/" + prefix
	}
	st, err := s3store.New(s.Client, root, s3store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
