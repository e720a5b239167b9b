// Package localstore is a sink.Store over a local directory, the lake of
// `ddblake replay --to DIR`.
//
// Every write goes to a hidden temporary file in the object's directory,
// is synced, then renamed over the object, so readers see the old object
// or the new one and never part of one. All file access goes through an
// os.Root, so no key (and no symbolic link inside the lake) reaches
// outside the directory. Versions for PutIf are the SHA-256 of the
// content; PutIf holds an advisory lock (flock on Unix) on a hidden lock
// file beside the object while it compares and renames, so concurrent
// processes sharing the directory never lose an update.
//
// Example:
//
//	st, err := localstore.New("./lake")
//	if err != nil {
//		return err
//	}
//	err = st.Put(ctx, "chat_messages/dt=2026-04-01/b-0000.parquet", body)
package localstore
