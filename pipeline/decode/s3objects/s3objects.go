// Package s3objects reads the objects of an S3 bucket as a
// decode.ObjectReader, for replay sources (s3://bucket/key) and the
// backfill's exports.
//
// Example:
//
//	r := &decode.Resolver{S3: func(ctx context.Context, bucket string) (decode.ObjectReader, error) {
//		return s3objects.New(client, bucket), nil
//	}}
package s3objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddblake/ddblake/pipeline/decode"
)

// Bucket is the decode.ObjectReader of one S3 bucket. A missing object
// (or bucket) is an error wrapping fs.ErrNotExist; every error names the
// object's s3:// URI.
type Bucket struct {
	client *s3.Client
	bucket string
}

// New returns the reader of bucket through client.
func New(client *s3.Client, bucket string) *Bucket {
	return &Bucket{client: client, bucket: bucket}
}

// Open opens the object key.
func (o *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == "" {
		return nil, o.notExist(key, nil)
	}
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.bucket, Key: &key})
	if err != nil {
		return nil, o.mapErr(key, err)
	}
	return out.Body, nil
}

// Stat describes the object key.
func (o *Bucket) Stat(ctx context.Context, key string) (decode.ObjectInfo, error) {
	if key == "" {
		return decode.ObjectInfo{}, o.notExist(key, nil)
	}
	out, err := o.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.bucket, Key: &key})
	if err != nil {
		return decode.ObjectInfo{}, o.mapErr(key, err)
	}
	return decode.ObjectInfo{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    strings.Trim(aws.ToString(out.ETag), `"`),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// List returns the objects under dir, sorted by key; "folder" marker
// objects (keys ending in '/') are left out.
func (o *Bucket) List(ctx context.Context, dir string) ([]decode.ObjectInfo, error) {
	prefix := strings.TrimSuffix(dir, "/")
	if prefix != "" {
		prefix += "/"
	}
	pages := s3.NewListObjectsV2Paginator(o.client, &s3.ListObjectsV2Input{Bucket: &o.bucket, Prefix: &prefix})
	var out []decode.ObjectInfo
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, o.mapErr(prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if key == "" || strings.HasSuffix(key, "/") {
				continue
			}
			out = append(out, decode.ObjectInfo{
				Key:     key,
				Size:    aws.ToInt64(obj.Size),
				ETag:    strings.Trim(aws.ToString(obj.ETag), `"`),
				ModTime: aws.ToTime(obj.LastModified),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (o *Bucket) notExist(key string, cause error) error {
	if cause == nil {
		return fmt.Errorf("s3://%s/%s: %w", o.bucket, key, fs.ErrNotExist)
	}
	return fmt.Errorf("s3://%s/%s: %w: %w", o.bucket, key, fs.ErrNotExist, cause)
}

// mapErr names the object and marks "no such key" and 404 answers as
// fs.ErrNotExist.
func (o *Bucket) mapErr(key string, err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nb *types.NoSuchBucket
	var re *awshttp.ResponseError
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nb) ||
		(errors.As(err, &re) && re.HTTPStatusCode() == 404) {
		return o.notExist(key, err)
	}
	return fmt.Errorf("s3://%s/%s: %w", o.bucket, key, err)
}
