package glueapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsglue "github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
)

// request is what a recorder kept of one request.
type request struct {
	method, path string
	host         string
	header       http.Header
	body         []byte
}

// recorder answers every request with a fixed status and body, and keeps
// the requests.
type recorder struct {
	srv    *httptest.Server
	status int
	header map[string]string
	answer string

	mu   sync.Mutex
	reqs []request
}

func newRecorder(t *testing.T, status int, answer string) *recorder {
	t.Helper()
	r := &recorder{status: status, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, request{method: req.Method, path: req.URL.Path, host: req.Host, header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		for k, v := range r.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", glueapi.ContentType)
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, r.answer)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) last(t *testing.T) request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.reqs)
	return r.reqs[len(r.reqs)-1]
}

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "token")

func ours(t *testing.T, url string) *glueapi.Client {
	t.Helper()
	c, err := glueapi.New(aws.Config{Region: "eu-west-1", Credentials: creds}, glueapi.Options{Endpoint: url})
	require.NoError(t, err)
	return c
}

func sdk(url string) *awsglue.Client {
	return awsglue.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: creds, Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *awsglue.Options) { o.BaseEndpoint = aws.String(url) })
}

// tableInput is a definition as the catalog sync sends it: the lake's
// table, with what a stored table carries and the sync keeps (a storage
// descriptor's fields ddblake does not model, a resource link, times).
func tableInput(t *testing.T) *gluedef.TableInput {
	t.Helper()
	s := schemas.NewSchema("orders")
	s.Columns = append(s.Columns,
		schemas.Column{Name: "total", Path: "total", Type: schemas.Decimal(38, 2)},
		schemas.Column{Name: "tags", Path: "tags", Type: schemas.ArrayOf(schemas.String)})
	in, err := gluedef.LakeTable(s, schemas.Options{Database: "lake", Location: "s3://lake-bucket/lake"})
	require.NoError(t, err)
	in.Owner = "hadoop"
	in.Retention = 3
	in.LastAccessTime = &gluedef.Time{Time: time.Date(2026, 4, 1, 12, 30, 5, 123e6, time.UTC)}
	in.TargetTable = json.RawMessage(`{"CatalogId":"210987654321","DatabaseName":"shared","Name":"orders"}`)
	in.StorageDescriptor.Columns[len(in.StorageDescriptor.Columns)-1].Parameters = map[string]string{"ddblake.cataloged_at": "2026-04-01T00:00:00Z"}
	in.StorageDescriptor.Other = map[string]json.RawMessage{
		"NumberOfBuckets": json.RawMessage(`4`),
		"Compressed":      json.RawMessage(`true`),
		"BucketColumns":   json.RawMessage(`["total"]`),
		"SortColumns":     json.RawMessage(`[{"Column":"total","SortOrder":1}]`),
	}
	return in
}

// sdkInput is in as the SDK's type: Glue's JSON names are the SDK's
// field names, so encoding/json maps one onto the other.
func sdkInput(t *testing.T, in *gluedef.TableInput) *gluetypes.TableInput {
	t.Helper()
	plain := *in
	plain.LastAccessTime = nil // a number in Glue's JSON, RFC 3339 text to encoding/json
	js, err := json.Marshal(&plain)
	require.NoError(t, err)
	var out gluetypes.TableInput
	require.NoError(t, json.Unmarshal(js, &out))
	if in.LastAccessTime != nil {
		out.LastAccessTime = aws.Time(in.LastAccessTime.Time)
	}
	require.Equal(t, in.StorageDescriptor.Columns[0].Name, aws.ToString(out.StorageDescriptor.Columns[0].Name))
	require.EqualValues(t, 4, out.StorageDescriptor.NumberOfBuckets)
	return &out
}

// TestRequestsAsTheSDKSends: each call sends what the AWS SDK's Glue
// client sends for the same input: method, path, content type, target,
// the JSON body (field for field), and a SigV4 signature of the same
// scope over the headers that matter; and the signature verifies.
func TestRequestsAsTheSDKSends(t *testing.T) {
	in := tableInput(t)
	ctx := context.Background()
	for _, tc := range []struct {
		op   string
		ours func(c *glueapi.Client) error
		sdk  func(c *awsglue.Client) error
	}{
		{"GetTable", func(c *glueapi.Client) error {
			_, err := c.GetTable(ctx, &glueapi.GetTableInput{CatalogID: "123456789012", DatabaseName: "lake", Name: "orders"})
			return err
		}, func(c *awsglue.Client) error {
			_, err := c.GetTable(ctx, &awsglue.GetTableInput{CatalogId: aws.String("123456789012"), DatabaseName: aws.String("lake"), Name: aws.String("orders")})
			return err
		}},
		{"CreateTable", func(c *glueapi.Client) error {
			return c.CreateTable(ctx, &glueapi.CreateTableInput{DatabaseName: "lake", TableInput: in})
		}, func(c *awsglue.Client) error {
			_, err := c.CreateTable(ctx, &awsglue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: sdkInput(t, in)})
			return err
		}},
		{"UpdateTable", func(c *glueapi.Client) error {
			return c.UpdateTable(ctx, &glueapi.UpdateTableInput{DatabaseName: "lake", TableInput: in, VersionID: "7"})
		}, func(c *awsglue.Client) error {
			_, err := c.UpdateTable(ctx, &awsglue.UpdateTableInput{DatabaseName: aws.String("lake"), TableInput: sdkInput(t, in), VersionId: aws.String("7")})
			return err
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			answer := `{}`
			if tc.op == "GetTable" {
				answer = `{"Table":{"Name":"orders"}}`
			}
			r := newRecorder(t, http.StatusOK, answer)
			require.NoError(t, tc.sdk(sdk(r.srv.URL)))
			want := r.last(t)
			require.NoError(t, tc.ours(ours(t, r.srv.URL)))
			got := r.last(t)

			require.Equal(t, want.method, got.method)
			require.Equal(t, want.path, got.path)
			for _, h := range []string{"Content-Type", "X-Amz-Target", "X-Amz-Security-Token"} {
				require.Equal(t, want.header.Get(h), got.header.Get(h), h)
			}
			require.Equal(t, "AWSGlue."+tc.op, got.header.Get("X-Amz-Target"))
			require.JSONEq(t, string(want.body), string(got.body))

			wantScope, wantSigned := authParts(t, want.header.Get("Authorization"))
			gotScope, gotSigned := authParts(t, got.header.Get("Authorization"))
			require.Equal(t, strings.SplitN(wantScope, "/", 2)[1], strings.SplitN(gotScope, "/", 2)[1], "credential scope (date, region, service)")
			for _, h := range []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"} {
				require.Contains(t, gotSigned, h)
				require.Contains(t, wantSigned, h)
			}
			verifySignature(t, got)
		})
	}
}

// authParts splits a SigV4 Authorization header into its credential
// scope and its signed headers.
func authParts(t *testing.T, auth string) (scope string, signed []string) {
	t.Helper()
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	require.True(t, ok, auth)
	for _, part := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			scope = v
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		}
	}
	return scope, signed
}

// verifySignature signs the received request again, at its own time,
// with the body it carried, and compares: the signature covers what was
// sent.
func verifySignature(t *testing.T, r request) {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	require.NoError(t, err)
	req, err := http.NewRequest(r.method, "http://"+r.host+r.path, bytes.NewReader(r.body))
	require.NoError(t, err)
	_, signed := authParts(t, r.header.Get("Authorization"))
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			req.Header.Set(h, r.header.Get(h))
		}
	}
	req.Header.Del("X-Amz-Date")
	c, err := creds.Retrieve(context.Background())
	require.NoError(t, err)
	hash := sha256Hex(r.body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), c, req, hash, "glue", "eu-west-1", at))
	require.Equal(t, r.header.Get("Authorization"), req.Header.Get("Authorization"))
}

// TestGetTableAnswer: a real-shaped answer decodes, and the definition
// stored again from it (Table.Input) keeps the fields the sync does not
// model as Glue sent them.
func TestGetTableAnswer(t *testing.T) {
	answer, err := os.ReadFile("testdata/gettable.json")
	require.NoError(t, err)
	r := newRecorder(t, http.StatusOK, string(answer))
	out, err := ours(t, r.srv.URL).GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
	require.NoError(t, err)
	tb := out.Table
	require.Equal(t, "orders", tb.Name)
	require.Equal(t, "7", tb.VersionID)
	require.Equal(t, time.Date(2026, 4, 1, 0, 0, 0, 123e6, time.UTC), tb.CreateTime.Time)
	require.Equal(t, time.Date(2026, 4, 1, 1, 0, 0, 500e6, time.UTC), tb.UpdateTime.Time)
	require.Equal(t, "decimal(38,2)", tb.StorageDescriptor.Columns[1].Type)
	require.Equal(t, "2026-04-01T00:00:00Z", tb.StorageDescriptor.Columns[1].Parameters["ddblake.cataloged_at"])

	in := tb.Input()
	in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, gluedef.Column{Name: "added", Type: "bigint"})
	require.Len(t, tb.StorageDescriptor.Columns, 3, "the stored table is left alone")
	js, err := json.Marshal(in)
	require.NoError(t, err)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(js, &doc))
	require.JSONEq(t, `{"CatalogId":"210987654321","DatabaseName":"shared","Name":"orders","Region":"eu-west-1"}`, string(doc["TargetTable"]))
	require.Equal(t, "0", string(doc["LastAccessTime"]))
	for _, k := range []string{"VersionId", "CreateTime", "UpdateTime", "DatabaseName", "CatalogId", "CreatedBy", "IsRegisteredWithLakeFormation", "ViewDefinition"} {
		require.NotContains(t, doc, k, "not a TableInput field")
	}
	var sd map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc["StorageDescriptor"], &sd))
	require.JSONEq(t, `4`, string(sd["NumberOfBuckets"]))
	require.JSONEq(t, `["total"]`, string(sd["BucketColumns"]))
	require.JSONEq(t, `[{"Column":"total","SortOrder":1}]`, string(sd["SortColumns"]))
	require.JSONEq(t, `{"SkewedColumnNames":[],"SkewedColumnValues":[],"SkewedColumnValueLocationMaps":{}}`, string(sd["SkewedInfo"]))
	require.JSONEq(t, `false`, string(sd["StoredAsSubDirectories"]))
	var cols []gluedef.Column
	require.NoError(t, json.Unmarshal(sd["Columns"], &cols))
	require.Equal(t, "added", cols[3].Name)

	// The SDK reads what the sync would store as the same table.
	sdkIn := sdkInput(t, &gluedef.TableInput{Name: in.Name, StorageDescriptor: in.StorageDescriptor})
	require.Equal(t, []string{"total"}, sdkIn.StorageDescriptor.BucketColumns)
	require.Equal(t, "total", aws.ToString(sdkIn.StorageDescriptor.SortColumns[0].Column))
}

// TestErrorAnswers: error codes read as the SDK reads them (header or
// body, namespace and suffix dropped), with status, message and request
// ID; they are smithy APIErrors, as the SDK's are.
func TestErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		code   string
		msg    string
	}{
		{"body __type", 400, nil, `{"__type":"EntityNotFoundException","Message":"Table orders not found."}`, glueapi.CodeEntityNotFound, "Table orders not found."},
		{"namespaced", 400, nil, `{"__type":"com.amazonaws.glue#ConcurrentModificationException","message":"Update table failed due to concurrent modifications."}`,
			glueapi.CodeConcurrentModification, "Update table failed due to concurrent modifications."},
		{"header", 400, map[string]string{"X-Amzn-Errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"},
			`{"message":"Rate exceeded"}`, "ThrottlingException", "Rate exceeded"},
		{"server error", 500, nil, `{"__type":"InternalServiceException","Message":"oops"}`, "InternalServiceException", "oops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t, tc.status, tc.body)
			r.header = map[string]string{"X-Amzn-Requestid": "req-1"}
			for k, v := range tc.header {
				r.header[k] = v
			}
			_, err := ours(t, r.srv.URL).GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
			var ae *glueapi.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.status, ae.StatusCode)
			require.Equal(t, tc.code, ae.Code)
			require.Equal(t, tc.msg, ae.Message)
			require.Equal(t, "req-1", ae.RequestID)
			require.True(t, glueapi.IsCode(err, tc.code))
			require.ErrorContains(t, err, tc.code)

			_, sdkErr := sdk(r.srv.URL).GetTable(context.Background(), &awsglue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("orders")})
			var want, got smithy.APIError
			require.ErrorAs(t, sdkErr, &want)
			require.ErrorAs(t, err, &got)
			require.Equal(t, want.ErrorCode(), got.ErrorCode())
			require.Equal(t, want.ErrorMessage(), got.ErrorMessage())
			require.Equal(t, want.ErrorFault(), got.ErrorFault())
		})
	}
}

// doer records the URL of each request and fails it.
type doer struct{ urls []string }

var errNoNetwork = errors.New("no network in this test")

func (d *doer) Do(r *http.Request) (*http.Response, error) {
	d.urls = append(d.urls, r.URL.String())
	return nil, errNoNetwork
}

// endpointSource is a configuration source naming Glue's endpoint, as
// the SDK's environment configuration does for AWS_ENDPOINT_URL_GLUE.
type endpointSource map[string]string

func (e endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := e[sdkID]
	return v, ok, nil
}

// ignoreEndpoints is a configuration source that says to ignore the
// configured service endpoints (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).
type ignoreEndpoints struct{}

func (ignoreEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return true, true, nil
}

// TestEndpoint: the endpoint is Options.Endpoint, else the
// configuration's Glue endpoint, else its BaseEndpoint, else Glue's in
// the region (China's domain in cn- regions); a region that is not a
// host name label, or an endpoint that is not an http(s) URL, is refused.
func TestEndpoint(t *testing.T) {
	base := aws.String("http://base.example:4566")
	src := []any{endpointSource{"Glue": "http://glue.example:1234/path"}}
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		o    glueapi.Options
		want string
	}{
		{"region", aws.Config{Region: "eu-west-1"}, glueapi.Options{}, "https://glue.eu-west-1.amazonaws.com/"},
		{"China", aws.Config{Region: "cn-north-1"}, glueapi.Options{}, "https://glue.cn-north-1.amazonaws.com.cn/"},
		{"base endpoint", aws.Config{Region: "eu-west-1", BaseEndpoint: base}, glueapi.Options{}, "http://base.example:4566/"},
		{"service endpoint", aws.Config{Region: "eu-west-1", BaseEndpoint: base, ConfigSources: src}, glueapi.Options{}, "http://glue.example:1234/path"},
		{"service endpoints ignored", aws.Config{Region: "eu-west-1", BaseEndpoint: base, ConfigSources: append([]any{ignoreEndpoints{}}, src...)},
			glueapi.Options{}, "http://base.example:4566/"},
		{"option", aws.Config{Region: "eu-west-1", BaseEndpoint: base, ConfigSources: src}, glueapi.Options{Endpoint: "http://127.0.0.1:9"}, "http://127.0.0.1:9/"},
		{"no region, an endpoint", aws.Config{BaseEndpoint: base}, glueapi.Options{}, "http://base.example:4566/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doer{}
			tc.cfg.Credentials = creds
			tc.o.HTTPClient = d
			c, err := glueapi.New(tc.cfg, tc.o)
			require.NoError(t, err)
			err = c.CreateTable(context.Background(), &glueapi.CreateTableInput{DatabaseName: "lake", TableInput: &gluedef.TableInput{Name: "t"}})
			require.ErrorIs(t, err, errNoNetwork)
			require.Equal(t, []string{tc.want}, d.urls)
		})
	}
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		o    glueapi.Options
	}{
		{"no credentials", aws.Config{Region: "eu-west-1"}, glueapi.Options{}},
		{"no region", aws.Config{Credentials: creds}, glueapi.Options{}},
		{"a region that is a path", aws.Config{Region: "eu-west-1/../x", Credentials: creds}, glueapi.Options{}},
		{"a region that is a host", aws.Config{Region: "evil.example#", Credentials: creds}, glueapi.Options{}},
		{"an upper-case region", aws.Config{Region: "EU-WEST-1", Credentials: creds}, glueapi.Options{}},
		{"another scheme", aws.Config{Region: "eu-west-1", Credentials: creds}, glueapi.Options{Endpoint: "file:///etc/passwd"}},
		{"no host", aws.Config{Region: "eu-west-1", Credentials: creds}, glueapi.Options{Endpoint: "http://"}},
		{"credentials in the URL", aws.Config{Region: "eu-west-1", Credentials: creds}, glueapi.Options{Endpoint: "http://u:p@host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := glueapi.New(tc.cfg, tc.o)
			require.ErrorIs(t, err, glueapi.ErrBadConfig)
		})
	}
}

// TestBounds: against an endpoint that accepts connections and never
// answers, a call made through the lake's bounded HTTP client
// (awsclient.Apply) fails after its answer timeout, once (the catalog
// retries), with a timeout error naming the endpoint; an answer longer
// than MaxAnswerBytes fails the call; a call whose context ends stops.
func TestBounds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	cfg := aws.Config{Region: "eu-west-1", Credentials: creds}
	require.NoError(t, awsclient.Apply(&cfg, awsclient.Options{AttemptTimeout: 300 * time.Millisecond, MaxAttempts: 3}))
	url := "http://" + ln.Addr().String()
	c, err := glueapi.New(cfg, glueapi.Options{Endpoint: url})
	require.NoError(t, err)
	start := time.Now()
	_, err = c.GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
	require.Error(t, err)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
	require.Contains(t, err.Error(), ln.Addr().String())
	mu.Lock()
	require.Len(t, conns, 1, "one attempt: the catalog retries whole merges")
	mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetTable(ctx, &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
	require.ErrorIs(t, err, context.Canceled)

	r := newRecorder(t, http.StatusOK, `{"Table":{"Name":"`+strings.Repeat("x", 2000)+`"}}`)
	small, err := glueapi.New(cfg, glueapi.Options{Endpoint: r.srv.URL, MaxAnswerBytes: 1000})
	require.NoError(t, err)
	_, err = small.GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
	require.ErrorContains(t, err, "answer larger than 1000 bytes")
	_, err = ours(t, r.srv.URL).GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
	require.NoError(t, err, "within the default bound")
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestEndpointPathAsTheSDKJoins: an endpoint with a path gets requests
// at the path the SDK's client sends them to.
func TestEndpointPathAsTheSDKJoins(t *testing.T) {
	r := newRecorder(t, http.StatusOK, `{"Table":{"Name":"orders"}}`)
	for _, p := range []string{"/glue", "/glue/"} {
		_, err := sdk(r.srv.URL+p).GetTable(context.Background(), &awsglue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("orders")})
		require.NoError(t, err)
		want := r.last(t).path
		_, err = ours(t, r.srv.URL+p).GetTable(context.Background(), &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
		require.NoError(t, err)
		require.Equal(t, want, r.last(t).path, p)
	}
}
