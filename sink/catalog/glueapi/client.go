package glueapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/ddblake/ddblake/schemas/gluedef"
)

// Protocol constants of Glue's JSON 1.1 API.
const (
	// TargetPrefix starts every X-Amz-Target: "AWSGlue.GetTable"...
	TargetPrefix = "AWSGlue."
	// ContentType is the content type of requests and answers.
	ContentType = "application/x-amz-json-1.1"
	// SigningName is the service name of Glue's SigV4 signatures.
	SigningName = "glue"
	// ServiceID is Glue's SDK service ID, the <ID> of
	// AWS_ENDPOINT_URL_<ID> and of the configuration's service
	// endpoints.
	ServiceID = "Glue"
)

// MaxAnswerBytes is the default bound of an answer's body: a GetTable of
// a table of thousands of columns is a few MB.
const MaxAnswerBytes = 64 << 20

// Options configure a Client.
type Options struct {
	// Endpoint is the base URL of the API, overriding the
	// configuration's (see the package documentation).
	Endpoint string
	// HTTPClient sends the requests; the configuration's when nil, else
	// the SDK's default client.
	HTTPClient aws.HTTPClient
	// Now is the signing clock (default time.Now).
	Now func() time.Time
	// MaxAnswerBytes bounds what is read of an answer (default
	// MaxAnswerBytes); a longer one fails the call.
	MaxAnswerBytes int64
}

// Client calls Glue's API. It is safe for concurrent use.
type Client struct {
	endpoint *url.URL
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	signer   *v4.Signer
	now      func() time.Time
	limit    int64
}

// New returns a Client of cfg: its region, credentials, HTTP client and
// endpoint, o's where it sets them. It fails with ErrBadConfig without
// credentials, without a region (or an endpoint), for a region that is
// no host name label or an endpoint that is no http(s) URL.
func New(cfg aws.Config, o Options) (*Client, error) {
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("%w: no credentials", ErrBadConfig)
	}
	region := cfg.Region
	if region != "" && !validRegion(region) {
		return nil, fmt.Errorf("%w: region %q", ErrBadConfig, region)
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = serviceEndpoint(cfg)
	}
	if endpoint == "" {
		if region == "" {
			return nil, fmt.Errorf("%w: no region and no endpoint", ErrBadConfig)
		}
		suffix := "amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		endpoint = "https://glue." + region + "." + suffix
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: endpoint %q: want http(s)://host[:port][/path]", ErrBadConfig, endpoint)
	}
	if region == "" {
		region = "us-east-1" // signs requests to a named endpoint
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = cfg.HTTPClient
	}
	if hc == nil {
		hc = awshttp.NewBuildableClient()
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	limit := o.MaxAnswerBytes
	if limit <= 0 {
		limit = MaxAnswerBytes
	}
	return &Client{endpoint: u, region: region, creds: cfg.Credentials, http: hc, signer: v4.NewSigner(), now: now, limit: limit}, nil
}

// serviceEndpoint is Glue's endpoint of cfg: a service endpoint of its
// sources (AWS_ENDPOINT_URL_GLUE, a profile's services section) unless a
// source says to ignore them (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), else
// its BaseEndpoint (AWS_ENDPOINT_URL), as the SDK's clients resolve them.
func serviceEndpoint(cfg aws.Config) string {
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(interface {
			GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
		}); ok {
			if v, found, err := p.GetIgnoreConfiguredEndpoints(context.Background()); err == nil && found && v {
				return aws.ToString(cfg.BaseEndpoint)
			}
		}
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(interface {
			GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
		}); ok {
			if v, found, err := p.GetServiceBaseEndpoint(context.Background(), ServiceID); err == nil && found && v != "" {
				return v
			}
		}
	}
	return aws.ToString(cfg.BaseEndpoint)
}

// validRegion reports whether region can go into a host name: a DNS label
// of [a-z0-9-].
func validRegion(region string) bool {
	if len(region) > 63 || region[0] == '-' || region[len(region)-1] == '-' {
		return false
	}
	for i := 0; i < len(region); i++ {
		if c := region[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// GetTableInput names a table (or view) to read.
type GetTableInput struct {
	CatalogID    string `json:"CatalogId,omitempty"`
	DatabaseName string `json:"DatabaseName"`
	Name         string `json:"Name"`
}

// GetTableOutput is GetTable's answer.
type GetTableOutput struct {
	Table *gluedef.Table `json:"Table"`
}

// CreateTableInput stores a new table (or view).
type CreateTableInput struct {
	CatalogID    string              `json:"CatalogId,omitempty"`
	DatabaseName string              `json:"DatabaseName"`
	TableInput   *gluedef.TableInput `json:"TableInput"`
}

// UpdateTableInput replaces a stored table's definition; with VersionID,
// only if the stored version is still that one
// (ConcurrentModificationException otherwise).
type UpdateTableInput struct {
	CatalogID    string              `json:"CatalogId,omitempty"`
	DatabaseName string              `json:"DatabaseName"`
	TableInput   *gluedef.TableInput `json:"TableInput"`
	VersionID    string              `json:"VersionId,omitempty"`
}

// GetTable reads a table. A missing one fails with an *APIError of code
// CodeEntityNotFound.
func (c *Client) GetTable(ctx context.Context, in *GetTableInput) (*GetTableOutput, error) {
	var out GetTableOutput
	if err := c.call(ctx, "GetTable", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateTable stores a new table; one of the name fails with an
// *APIError of code CodeAlreadyExists.
func (c *Client) CreateTable(ctx context.Context, in *CreateTableInput) error {
	return c.call(ctx, "CreateTable", in, nil)
}

// UpdateTable replaces a table's definition.
func (c *Client) UpdateTable(ctx context.Context, in *UpdateTableInput) error {
	return c.call(ctx, "UpdateTable", in, nil)
}

// call sends one request of op and reads its answer into out (when not
// nil). Errors: *APIError for an answer other than 200 (with Glue's
// error code when it gives one), *OperationError wrapping the transport's
// or the context's error otherwise.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return &OperationError{Op: op, Err: err}
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return &OperationError{Op: op, Err: fmt.Errorf("credentials: %w", err)}
	}
	u := *c.endpoint
	if u.Path == "" {
		u.Path = "/" // the operation's path; an endpoint's own path is kept as the SDK keeps it
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return &OperationError{Op: op, Err: err}
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, c.region, c.now().UTC()); err != nil {
		return &OperationError{Op: op, Err: fmt.Errorf("sign: %w", err)}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &OperationError{Op: op, Endpoint: endpointOf(c.endpoint), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.limit+1))
	if err == nil && int64(len(data)) > c.limit {
		err = fmt.Errorf("answer larger than %d bytes", c.limit)
	}
	if err != nil {
		return &OperationError{Op: op, Endpoint: endpointOf(c.endpoint), Err: fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(op, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &OperationError{Op: op, Endpoint: endpointOf(c.endpoint), Err: fmt.Errorf("decode answer: %w", err)}
	}
	return nil
}

func endpointOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

// apiError reads an error answer: the code from the X-Amzn-ErrorType
// header or the body's __type (or code), without its namespace
// ("com.amazonaws.glue#") or suffix (":http://..."), and the body's
// message.
func apiError(op string, resp *http.Response, data []byte) *APIError {
	e := &APIError{Op: op, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(data, &doc)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = doc.Type
	}
	if code == "" {
		code = doc.Code
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	e.Code = code
	e.Message = doc.Message
	if e.Message == "" {
		e.Message = doc.MessageU
	}
	if e.Code == "" && e.Message == "" {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 256)]))
	}
	return e
}

// IsCode reports whether err is an *APIError of one of codes.
func IsCode(err error, codes ...string) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}
