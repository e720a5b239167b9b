// Package awsclient makes the AWS SDK clients of the command line and the
// Lambda (S3, Firehose; Glue's client, sink/catalog/glueapi, sends
// through the HTTP client made here) with every call bounded in time: no request
// can hang, whatever the endpoint does.
//
// Each attempt of a call is bounded: connecting and the TLS handshake by
// ConnectTimeout; the wait for the answer's headers by AttemptTimeout; a
// connection on which no byte moves either way for AttemptTimeout is
// closed, so a stalled upload or download fails too; and a call that
// moves no object data (everything but S3 GetObject, PutObject and
// UploadPart, whose time grows with the object) is cut at AttemptTimeout
// as a whole. An attempt cut short is retried like a network error, at
// most MaxAttempts attempts in all, with jittered backoff capped at
// MaxBackoff. Options.CallBound is the longest one call can then take
// when the endpoint answers nothing at all.
//
// Example:
//
//	cfg := aws.Config{Region: region, Credentials: creds}
//	if err := awsclient.Apply(&cfg, awsclient.Options{AttemptTimeout: 10 * time.Second}); err != nil { ... }
//	s3c := awsclient.S3(cfg, func(o *s3.Options) { o.UsePathStyle = true })
//	fh := awsclient.Firehose(cfg) // no SDK retries: the Sender retries
package awsclient
