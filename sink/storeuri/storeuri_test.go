package storeuri_test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/s3store"
	"github.com/ddblake/ddblake/sink/storeuri"
)

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lake")
	st, err := storeuri.Open(dir, nil, s3store.Options{})
	require.NoError(t, err)
	require.IsType(t, &localstore.Store{}, st)
	require.Equal(t, dir, st.URI())

	client := s3.New(s3.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}})
	st, err = storeuri.Open("s3://bucket/lake", client, s3store.Options{})
	require.NoError(t, err)
	require.IsType(t, &s3store.Store{}, st)
	require.Equal(t, "s3://bucket/lake", st.URI())

	_, err = storeuri.Open("s3://bucket/lake", nil, s3store.Options{})
	require.ErrorIs(t, err, sink.ErrBadConfig)
	_, err = storeuri.Open("gs://bucket/lake", nil, s3store.Options{})
	require.ErrorIs(t, err, sink.ErrBadConfig)
	_, err = storeuri.Open("s3://Bad_Bucket!/x", client, s3store.Options{})
	require.ErrorIs(t, err, sink.ErrBadConfig)
	_, err = storeuri.Open("", nil, s3store.Options{})
	require.ErrorIs(t, err, sink.ErrBadConfig)
}
