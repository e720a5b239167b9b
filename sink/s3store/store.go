package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ddblake/ddblake/sink"
)

// API is the part of *s3.Client the store uses.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ API = (*s3.Client)(nil)

// Defaults of Options.
const (
	DefaultPartSize    = 16 << 20
	DefaultConcurrency = 4
	// MinPartSize is the smallest part S3 accepts (but for the last).
	MinPartSize = 5 << 20
	// maxParts is S3's limit of parts per upload.
	maxParts = 10000
)

// Options tune uploads. The zero value applies the defaults.
type Options struct {
	// PartSize is the size of multipart upload parts; bodies up to it are
	// one PutObject (default 16 MiB). S3 refuses parts under 5 MiB; only
	// S3 stand-ins in tests accept less.
	PartSize int64
	// Concurrency is how many parts upload at once (default 4).
	Concurrency int
}

// Validate checks the options; the error wraps sink.ErrBadConfig.
func (o Options) Validate() error {
	if o.PartSize < 0 || o.Concurrency < 0 {
		return fmt.Errorf("%w: s3 part size and concurrency must not be negative", sink.ErrBadConfig)
	}
	return nil
}

// Store is a sink.Store rooted at an S3 prefix. It is safe for concurrent
// use.
type Store struct {
	client API
	bucket string
	prefix string // "" or ending in "/"
	opts   Options
}

var _ sink.Store = (*Store)(nil)

// New returns a Store for root, "s3://bucket" or "s3://bucket/prefix".
// client is typically an *s3.Client; tests point one at a local S3
// server with BaseEndpoint and UsePathStyle.
func New(client API, root string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	bucket, prefix, err := ParseURI(root)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, bucket: bucket, prefix: prefix, opts: opts}, nil
}

// ParseURI splits "s3://bucket/some/prefix" into the bucket and the
// prefix, which is "" or ends in "/". It fails with sink.ErrBadConfig for
// anything else, or a prefix with empty, "." or ".." segments.
func ParseURI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%w: %q is not an s3:// URI", sink.ErrBadConfig, uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return "", "", fmt.Errorf("%w: %q: bucket name %q", sink.ErrBadConfig, uri, bucket)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return bucket, "", nil
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", "", fmt.Errorf("%w: %q: prefix segment %q", sink.ErrBadConfig, uri, seg)
		}
	}
	return bucket, prefix + "/", nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// URI returns "s3://bucket/prefix".
func (s *Store) URI() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }

func (s *Store) object(op, key string) (string, error) {
	if err := sink.ValidateKey(key); err != nil {
		return "", &sink.KeyError{Op: op, Key: key, Err: err}
	}
	return s.prefix + key, nil
}

// contentType labels objects by extension, for people browsing the bucket.
func contentType(key string) *string {
	switch path.Ext(key) {
	case ".parquet":
		return aws.String("application/vnd.apache.parquet")
	case ".json":
		return aws.String("application/json")
	case ".jsonl":
		return aws.String("application/x-ndjson")
	}
	return aws.String("application/octet-stream")
}

// Put writes body with one PutObject, or a multipart upload when it is
// larger than the part size.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	obj, err := s.object("put", key)
	if err != nil {
		return err
	}
	return s.put(ctx, key, obj, bytes.NewReader(body), int64(len(body)))
}

// put uploads size bytes of body with one PutObject, or a multipart
// upload when it is larger than the part size. The parts are read from
// body as sections, seekable as the SDK needs them: nothing is buffered.
func (s *Store) put(ctx context.Context, key, obj string, body io.ReaderAt, size int64) error {
	var err error
	if size > s.opts.PartSize {
		err = s.multipart(ctx, obj, body, size)
	} else {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &obj, Body: io.NewSectionReader(body, 0, size),
			ContentLength: aws.Int64(size), ContentType: contentType(key),
		})
	}
	if err != nil {
		return &sink.KeyError{Op: "put", Key: key, Err: mapErr(err)}
	}
	return nil
}

// multipart uploads body in parts, Concurrency at a time, and completes
// the upload; on any failure it aborts it, so no parts linger.
func (s *Store) multipart(ctx context.Context, obj string, body io.ReaderAt, size int64) error {
	partSize := max(s.opts.PartSize, (size+maxParts-1)/maxParts)
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &obj, ContentType: contentType(obj),
	})
	if err != nil {
		return err
	}
	abort := func(cause error) error {
		_, aerr := s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: &obj, UploadId: created.UploadId,
		})
		if aerr != nil {
			return errors.Join(cause, fmt.Errorf("abort multipart upload: %w", aerr))
		}
		return cause
	}
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		start := int64(i) * partSize
		length := min(partSize, size-start)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			num := int32(i + 1)
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &s.bucket, Key: &obj, UploadId: created.UploadId, PartNumber: &num,
				Body: io.NewSectionReader(body, start, length), ContentLength: aws.Int64(length),
			})
			if err != nil {
				cancel(fmt.Errorf("part %d: %w", num, err))
				return
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: &num,
				ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C,
				ChecksumCRC64NVME: out.ChecksumCRC64NVME, ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return abort(err)
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &obj, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return abort(err)
	}
	return nil
}

var _ sink.SpoolStore = (*Store)(nil)

// CreateSpool returns a spool for key: a file in the system's temporary
// directory (removed at once where the system allows, so a process that
// dies leaves nothing), uploaded by Put as Put uploads a body, in parts
// read from the file.
func (s *Store) CreateSpool(key string) (sink.Spool, error) {
	obj, err := s.object("put", key)
	if err != nil {
		return nil, err
	}
	f, err := sink.NewTempFile("")
	if err != nil {
		return nil, &sink.KeyError{Op: "put", Key: key, Err: err}
	}
	return &spool{TempFile: f, store: s, key: key, obj: obj}, nil
}

// spool is a temporary file being written for key.
type spool struct {
	*sink.TempFile
	store *Store
	key   string
	obj   string
}

// Put uploads the file and removes it.
func (sp *spool) Put(ctx context.Context) error {
	defer sp.Discard()
	return sp.store.put(ctx, sp.key, sp.obj, sp.File, sp.Size())
}

// Get reads the object at key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, _, err := s.get(ctx, "get", key)
	return data, err
}

// GetVersion reads the object at key with its ETag as version.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	return s.get(ctx, "getversion", key)
}

func (s *Store) get(ctx context.Context, op, key string) ([]byte, string, error) {
	obj, err := s.object(op, key)
	if err != nil {
		return nil, "", err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &obj})
	if err != nil {
		return nil, "", &sink.KeyError{Op: op, Key: key, Err: mapErr(err)}
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if out.ContentLength != nil && *out.ContentLength > 0 {
		buf.Grow(int(*out.ContentLength))
	}
	if _, err := io.Copy(&buf, out.Body); err != nil {
		return nil, "", &sink.KeyError{Op: op, Key: key, Err: err}
	}
	return buf.Bytes(), aws.ToString(out.ETag), nil
}

// PutIf writes body with a conditional PutObject: If-None-Match: * when
// ifVersion is "", else If-Match: ifVersion.
func (s *Store) PutIf(ctx context.Context, key string, body []byte, ifVersion string) (string, error) {
	obj, err := s.object("putif", key)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &obj, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: contentType(key),
	}
	if ifVersion == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifVersion)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		err = mapErr(err)
		if errors.Is(err, sink.ErrNotExist) {
			// If-Match on a deleted object.
			err = fmt.Errorf("%w: %w", sink.ErrPrecondition, err)
		}
		return "", &sink.KeyError{Op: "putif", Key: key, Err: err}
	}
	return aws.ToString(out.ETag), nil
}

// List pages through ListObjectsV2 under prefix; objects whose keys are
// not valid sink keys (put there by something else) are left out.
func (s *Store) List(ctx context.Context, prefix string) ([]sink.Object, error) {
	if err := sink.ValidatePrefix(prefix); err != nil {
		return nil, &sink.KeyError{Op: "list", Key: prefix, Err: err}
	}
	full := s.prefix + prefix
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &full})
	var out []sink.Object
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, &sink.KeyError{Op: "list", Key: prefix, Err: mapErr(err)}
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if sink.ValidateKey(key) != nil {
				continue
			}
			out = append(out, sink.Object{Key: key, Size: aws.ToInt64(o.Size)})
		}
	}
	slices.SortFunc(out, func(a, b sink.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object at key; S3 treats a missing key as deleted.
func (s *Store) Delete(ctx context.Context, key string) error {
	obj, err := s.object("delete", key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &obj}); err != nil {
		err = mapErr(err)
		if errors.Is(err, sink.ErrNotExist) {
			return nil
		}
		return &sink.KeyError{Op: "delete", Key: key, Err: err}
	}
	return nil
}

// mapErr adds sink.ErrNotExist or sink.ErrPrecondition to S3's "no such
// key" and "precondition failed" answers, keeping the cause.
func mapErr(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %w", sink.ErrNotExist, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %w", sink.ErrNotExist, err)
		case "PreconditionFailed", "ConditionalRequestConflict":
			return fmt.Errorf("%w: %w", sink.ErrPrecondition, err)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 404:
			return fmt.Errorf("%w: %w", sink.ErrNotExist, err)
		case 412:
			return fmt.Errorf("%w: %w", sink.ErrPrecondition, err)
		}
	}
	return err
}
