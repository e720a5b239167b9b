// Package s3store is a sink.Store over an S3 prefix (s3://bucket/prefix),
// the lake of the Lambda and of `ddblake replay --to s3://...`.
//
// Small bodies are one PutObject; bodies larger than the part size are a
// multipart upload whose parts go up in parallel, aborted on failure. S3
// makes an object visible only when PutObject or CompleteMultipartUpload
// succeeds, so readers never see part of one. PutIf is a conditional
// PutObject (If-None-Match: * to create, If-Match: <ETag> to replace), and
// versions are ETags, so the schema registry's compare-and-swap is S3's
// own.
//
// Example:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	if err != nil {
//		return err
//	}
//	st, err := s3store.New(s3.NewFromConfig(cfg), "s3://my-lake/ddb", s3store.Options{})
//	if err != nil {
//		return err
//	}
//	err = st.Put(ctx, "chat_messages/dt=2026-04-01/b-0000.parquet", body)
package s3store
