package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/sink"
)

// probeKey is the object replay writes, then removes, to check that it can
// write the lake. Its name is fixed, so a probe left behind (no delete
// permission) is overwritten by the next run, and it sits under
// _ddblake/, where no table reads.
const probeKey = "_ddblake/write-probe"

// probeLake checks that store can be written: it writes probeKey and
// removes it (a failure to remove it is not an error).
func probeLake(ctx context.Context, store sink.Store) error {
	if err := store.Put(ctx, probeKey, []byte("ddblake checks here that it can write the lake\n")); err != nil {
		return err
	}
	_ = store.Delete(ctx, probeKey)
	return nil
}

// describeStoreError says in one line why a store call failed: the
// endpoint that did not answer or could not be reached, a bucket that
// does not exist, missing or refused credentials, or the error itself.
func (s *session) describeStoreError(err error) string {
	endpoint := endpointOf(err)
	var ate *awsclient.AttemptTimeoutError
	if errors.As(err, &ate) && ate.Endpoint != "" {
		endpoint = ate.Endpoint
	}
	var timeout interface{ Timeout() bool }
	if endpoint != "" && errors.As(err, &timeout) && timeout.Timeout() {
		o, _ := s.awsOptions()
		return fmt.Sprintf("no answer from %s (%s)", endpoint, s.boundsText(o))
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("cannot find the host %s (%s)", dns.Name, dns.Err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && endpoint != "" {
		return fmt.Sprintf("cannot connect to %s: %v", endpoint, op.Err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket":
			return "the bucket does not exist (NoSuchBucket)"
		case "AccessDenied", "AllAccessDisabled", "Forbidden":
			return fmt.Sprintf("access denied (%s): the credentials may not write here", ae.ErrorCode())
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return fmt.Sprintf("the credentials were refused (%s)", ae.ErrorCode())
		}
		msg := ae.ErrorMessage()
		if msg == "" {
			return ae.ErrorCode()
		}
		return ae.ErrorCode() + ": " + oneLine(msg)
	}
	msg := err.Error()
	if strings.Contains(msg, "get credentials:") || strings.Contains(msg, "failed to retrieve credentials") {
		return "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role)"
	}
	return oneLine(msg)
}

// boundsText names the bounds of one S3 call and the flags that set them.
func (s *session) boundsText(o awsclient.Options) string {
	n, t := o.MaxAttempts, o.AttemptTimeout
	if n == 0 {
		n = awsclient.DefaultMaxAttempts
	}
	if t == 0 {
		t = awsclient.DefaultAttemptTimeout
	}
	return fmt.Sprintf("%d attempts of %v each, at most %v; see --aws-timeout and --aws-attempts", n, t, o.CallBound())
}

// endpointOf returns the scheme and host of the URL an HTTP request in err
// was sent to, or "".
func endpointOf(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// innermost returns the last error of err's chain (the first of joined
// errors).
func innermost(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}

// oneLine joins the lines of a message (errors.Join's) with "; ".
func oneLine(msg string) string {
	return strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", "; ")
}
