// Package storetest is the test suite every sink.Store implementation
// passes: reads and writes, listing, deletion, key validation, atomic
// replacement, conditional writes under contention (no lost update), the
// schema registry on top of them, and large bodies.
//
// Example, in a store's own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sink.Store {
//			st, err := localstore.New(t.TempDir())
//			require.NoError(t, err)
//			return st
//		})
//	}
package storetest
