package storeuri

import (
	"fmt"
	"strings"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/s3store"
)

// IsS3 reports whether location is an s3:// URI.
func IsS3(location string) bool { return strings.HasPrefix(location, "s3://") }

// Open returns the store for location. client is needed (non-nil) only
// for s3:// locations; a missing client or a bad URI fails with
// sink.ErrBadConfig. A local directory is created if needed.
func Open(location string, client s3store.API, opts s3store.Options) (sink.Store, error) {
	if IsS3(location) {
		if client == nil {
			return nil, fmt.Errorf("%w: %s needs an S3 client", sink.ErrBadConfig, location)
		}
		return s3store.New(client, location, opts)
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("%w: %q: want a directory or s3://bucket/prefix", sink.ErrBadConfig, location)
	}
	return localstore.New(location)
}
