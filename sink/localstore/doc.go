// Package localstore is a sink.Store over a local directory, the lake of
// `ddblake replay --to DIR`.
//
// Every write goes to a temporary file in the hidden folder .ddblake/tmp
// under the root (on the lake's file system, so the rename is atomic), is
// synced, then renamed over the object, so readers see the old object or
// the new one and never part of one. The writer holds a flock on its
// temporary file until then; New removes the temporary files no process
// holds, left by writers that were killed, and never those of a write in
// progress. All file access goes through an os.Root, so no key (and no
// symbolic link inside the lake) reaches outside the directory, and no
// key can name the hidden folder. Versions for PutIf are the SHA-256 of
// the content; PutIf holds an advisory lock (flock on Unix) on a lock file
// in .ddblake/locks while it compares and renames, so concurrent processes
// sharing the directory never lose an update, and removes it when done.
//
// Example:
//
//	st, err := localstore.New("./lake")
//	if err != nil {
//		return err
//	}
//	err = st.Put(ctx, "chat_messages/dt=2026-04-01/b-0000.parquet", body)
package localstore
