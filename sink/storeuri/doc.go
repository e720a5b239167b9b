// Package storeuri opens the sink.Store a lake location names: an
// s3://bucket/prefix URI gives an s3store.Store, anything else a local
// directory (localstore). The callers (the CLI and the Lambda) build the
// S3 client, since only they read AWS configuration.
//
// Example:
//
//	st, err := storeuri.Open("./lake", nil, s3store.Options{})
package storeuri
