package laketest_test

import (
	"testing"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/storetest"
)

func TestMemStore(t *testing.T) {
	storetest.RunWithOptions(t, storetest.Options{LargeBody: 1 << 20},
		func(*testing.T) sink.Store { return laketest.NewMemStore() })
}
