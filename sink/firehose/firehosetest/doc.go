// Package firehosetest is a fake Amazon Data Firehose for tests: an
// httptest server that speaks the JSON 1.1 protocol of PutRecordBatch
// (X-Amz-Target Firehose_20150804.PutRecordBatch, records' Data in
// base64), answers each call as scripted (partial failures with
// per-record error codes, throttling, plain 500s, slow answers) and
// records every delivered record. Tests drive it with the real SDK
// client from Server.Client.
//
// Example:
//
//	srv := firehosetest.NewServer(t)
//	srv.Script(firehosetest.Throttle(), firehosetest.Partial(firehosetest.CodeServiceUnavailable, 0, 7))
//	sender, _ := firehose.New(srv.Client(), firehose.Config{Stream: "ddblake-{table}"})
//	res, err := sender.Send(ctx, entries)
//	delivered := srv.Records()
package firehosetest
